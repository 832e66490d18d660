import Testing
import XDPBlockCore
import XDPKit
import XDPKitTestSupport

/// `FirewallMaps(pinnedIn:)`: the generated `XDPFirewall.Maps` over pins, each checked against
/// the program's definition, with xdp-block's own opening (`BPFFSDirectory`).
@Suite("xdp-block's typed maps from pins", .kernel, .serialized)
struct PinnedMapsTests {
  @Test("every map of the program reopens from its pin; entries and names agree")
  func reopen() throws {
    let pins = try TemporaryPinDirectory()
    defer { pins.remove() }
    let firewall = try LoadedFirewall()
    defer { firewall.loaded.close() }
    #expect(FirewallMaps.Name.required == ["BLOCKLIST", "BLOCKLIST6", "CIDR4", "CIDR6", "EVENTS", "EVENT_BUDGET", "STATS"])
    #expect(firewall.maps.all.map(\.name) == FirewallMaps.Name.required + [SkipWords.pinName])
    for (name, map) in firewall.maps.all { try map.pin(at: pins.pinPath(name)) }
    let entry = try BlockEntry(parsing: "198.51.100.0/24")
    try firewall.maps.add(entry)

    let pinned = try FirewallMaps(pinnedIn: BPFFSDirectory.open(pins.path))
    #expect(try pinned.entries() == [BlockedEntry(entry: entry, hits: 0)])
    #expect(try pinned.events.map.id == firewall.maps.events.map.id)
  }

  @Test("a pin that is not the map the program defines is refused, naming it")
  func mismatch() throws {
    let pins = try TemporaryPinDirectory()
    defer { pins.remove() }
    let firewall = try LoadedFirewall()
    defer { firewall.loaded.close() }
    let small = try XDPFirewall.load(options: LoadOptions(maxEntries: ["BLOCKLIST": 16]))
    defer { small.object.close() }
    for (name, map) in firewall.maps.all where name != FirewallMaps.Name.blocklist { try map.pin(at: pins.pinPath(name)) }
    try small.blocklist.map.pin(at: pins.pinPath(FirewallMaps.Name.blocklist))

    let directory = try BPFFSDirectory.open(pins.path)
    #expect {
      _ = try FirewallMaps(pinnedIn: directory)
    } throws: { error in
      "\(error)".hasSuffix(
        "the maps pinned in \(pins.path) do not match firewall.h: map BLOCKLIST: max entries is 16, the object defines 131072")
    }
    // A missing pin is the map error it was before.
    _ = try directory.remove(FirewallMaps.Name.blocklist)
    try firewall.maps.blocklist.map.pin(at: pins.pinPath(FirewallMaps.Name.blocklist))
    _ = try directory.remove(FirewallMaps.Name.stats)
    #expect {
      _ = try FirewallMaps(pinnedIn: directory)
    } throws: { error in
      guard case .map(_, .noPinnedObject(let path))? = error as? XDPBlockError else { return false }
      return path == pins.pinPath("STATS")
    }
  }
}
