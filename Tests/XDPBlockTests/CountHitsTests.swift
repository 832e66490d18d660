import Testing
import XDPBlockCore
import XDPKit
import XDPKitTestSupport

/// `--count-hits` (on by default): the `.rodata` knob `count_hits`, set before load. Off, a
/// drop writes no entry (the verifier removes the atomic add); the verdicts and STATS stay.
@Suite("xdp-block: --count-hits", .kernel)
struct CountHitsTests {
  @Test("on (the default) every blocking entry counts its drops; off none does, and the drops are the same", arguments: [true, false])
  func hits(countHits: Bool) throws {
    let firewall = try LoadedFirewall(configuration: FirewallConfiguration(countHits: countHits))
    defer { firewall.loaded.close() }
    #expect(try firewall.typed.object.global("count_hits", as: UInt32.self) == (countHits ? 1 : 0))
    let entries = try ["192.0.2.1", "2001:db8::1", "198.51.100.0/24", "2001:db8:1::/48"].map(BlockEntry.init(parsing:))
    _ = try firewall.maps.add(contentsOf: entries)
    let frames = try [
      Frame.ipv4UDP(from: "192.0.2.1"), Frame.ipv6UDP(from: "2001:db8::1"),
      Frame.ipv4UDP(from: "198.51.100.9"), Frame.ipv6UDP(from: "2001:db8:1::9"),
    ]
    for frame in frames {
      #expect(try firewall.program.program.testRun(packet: frame, repetitions: 3).action == .drop)
    }
    for entry in entries {
      #expect(try firewall.maps.hits(of: entry) == (countHits ? 3 : 0), "\(entry)")
    }
    #expect(try firewall.maps.statistics().dropped.packets == 12)
  }

  @Test("the record keeps count-hits=0; a record without it counts hits")
  func record() throws {
    var record = StateRecord(
      interfaceIndex: 5, interfaceName: "veth0", namespaceInode: 4026532288,
      configuration: FirewallConfiguration(countHits: false))
    #expect(record.text.hasSuffix(" events=0 count-hits=0"))
    #expect(StateRecord(text: record.text) == record)
    record.configuration.countHits = true
    #expect(record.text == "xdp-block-state-v1 ifindex=5 ifname=veth0 netns-inode=4026532288 events=0")
    #expect(StateRecord(text: record.text)?.configuration.countHits == true)
    #expect(StateRecord(text: record.text + " count-hits=2") == nil)
  }
}
