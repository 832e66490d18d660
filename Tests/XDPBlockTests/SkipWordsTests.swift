import Foundation
import Glibc
import Testing
import XDPBlockCore
import XDPKit
import XDPKitTestSupport

/// The firewall's skip words (`skip_table` in its .bss): a table is skipped only while it is
/// verified empty. Every writer clears the word before it inserts; a word is set only after
/// the table was found empty, twice; the words are pinned and reopened with the maps; state
/// without the pin is handled as an older build's, or refused when its program has the words.
@Suite("xdp-block: skip words of empty tables", .kernel)
struct SkipWordsTests {
  private func skipped(_ maps: FirewallMaps) throws -> [SkipWords.Table] {
    let words = try #require(maps.skipWords)
    return try SkipWords.Table.allCases.filter { try words.isSkipped($0) }
  }

  private func verdict(_ firewall: LoadedFirewall, _ frame: [UInt8]) throws -> XDPAction? {
    try firewall.program.program.testRun(packet: frame, repetitions: 1).action
  }

  @Test("a fresh firewall skips every table; an add clears its table's word, and the entry blocks")
  func addClears() throws {
    let firewall = try LoadedFirewall()
    defer { firewall.loaded.close() }
    #expect(try skipped(firewall.maps) == SkipWords.Table.allCases)
    #expect(try verdict(firewall, Frame.ipv4UDP(from: "192.0.2.1")) == .pass)

    try firewall.maps.add(BlockEntry(parsing: "192.0.2.1"))
    #expect(try skipped(firewall.maps) == [.blocklist6, .cidr4, .cidr6])
    #expect(try verdict(firewall, Frame.ipv4UDP(from: "192.0.2.1")) == .drop)

    let change = try firewall.maps.add(contentsOf: [
      BlockEntry(parsing: "2001:db8::1"), BlockEntry(parsing: "198.51.100.0/24"), BlockEntry(parsing: "2001:db8:1::/48"),
    ])
    #expect(change.changed.count == 3)
    #expect(try skipped(firewall.maps) == [])
    #expect(try verdict(firewall, Frame.ipv6UDP(from: "2001:db8::1")) == .drop)
    #expect(try verdict(firewall, Frame.ipv4UDP(from: "198.51.100.7")) == .drop)
    #expect(try verdict(firewall, Frame.ipv6UDP(from: "2001:db8:1::9")) == .drop)
    // An add of an entry already there clears the word as well (it never sets one).
    try firewall.maps.add(BlockEntry(parsing: "192.0.2.1"))
    #expect(try skipped(firewall.maps) == [])
  }

  @Test("a remove sets the word only when the table is empty; bulk removes too")
  func removeMarksOnlyWhenEmpty() throws {
    let firewall = try LoadedFirewall()
    defer { firewall.loaded.close() }
    let maps = firewall.maps
    try maps.add(BlockEntry(parsing: "192.0.2.1"))
    try maps.add(BlockEntry(parsing: "192.0.2.2"))
    try maps.add(BlockEntry(parsing: "203.0.113.0/24"))
    #expect(try maps.remove(BlockEntry(parsing: "192.0.2.1")))
    #expect(try !maps.skipWords!.isSkipped(.blocklist))
    #expect(try verdict(firewall, Frame.ipv4UDP(from: "192.0.2.2")) == .drop)
    // Not there: nothing changes.
    #expect(try !maps.remove(BlockEntry(parsing: "192.0.2.9")))
    #expect(try !maps.skipWords!.isSkipped(.blocklist))
    #expect(try maps.remove(BlockEntry(parsing: "192.0.2.2")))
    #expect(try maps.skipWords!.isSkipped(.blocklist))
    #expect(try !maps.skipWords!.isSkipped(.cidr4))
    #expect(try verdict(firewall, Frame.ipv4UDP(from: "203.0.113.5")) == .drop)

    _ = try maps.remove(contentsOf: [BlockEntry(parsing: "203.0.113.0/24"), BlockEntry(parsing: "2001:db8::5")])
    #expect(try skipped(maps) == SkipWords.Table.allCases)
    #expect(try verdict(firewall, Frame.ipv4UDP(from: "203.0.113.5")) == .pass)
  }

  @Test("a word is set only after the table was found empty, and cleared when the second check finds an entry")
  func markChecksTwice() throws {
    let firewall = try LoadedFirewall()
    defer { firewall.loaded.close() }
    let words = try #require(firewall.maps.skipWords)
    try words.lookUp(.cidr6)
    // Not empty at the first check: the word stays zero.
    #expect(try !words.markIfEmpty(.cidr6) { false })
    #expect(try !words.isSkipped(.cidr6))
    // Empty, then an entry arrives (a concurrent add) before the second check: zero again.
    var checks = 0
    #expect(try !words.markIfEmpty(.cidr6) { () throws(XDPBlockError) -> Bool in
      checks += 1
      return checks == 1
    })
    #expect(checks == 2)
    #expect(try !words.isSkipped(.cidr6))
    // A failing second check leaves it zero too.
    checks = 0
    #expect(throws: XDPBlockError.self) {
      try words.markIfEmpty(.cidr6) { () throws(XDPBlockError) -> Bool in
        checks += 1
        if checks == 2 { throw XDPBlockError.failed("no answer") }
        return true
      }
    }
    #expect(try !words.isSkipped(.cidr6))
    #expect(try words.markIfEmpty(.cidr6) { true })
    #expect(try words.isSkipped(.cidr6))
  }

  @Test("the skip words pin and reopen with the maps; an add through the pins clears the program's word")
  func reopenedPins() throws {
    let pins = try TemporaryPinDirectory()
    defer { pins.remove() }
    let firewall = try LoadedFirewall()
    defer { firewall.loaded.close() }
    #expect(firewall.maps.all.map(\.name).last == SkipWords.pinName)
    for (name, map) in firewall.maps.all { try map.pin(at: pins.pinPath(name)) }

    let pinned = try FirewallMaps(pinnedIn: BPFFSDirectory.open(pins.path))
    #expect(try pinned.skipWords?.map.id == firewall.maps.skipWords?.map.id)
    #expect(try skipped(pinned) == SkipWords.Table.allCases)
    try pinned.add(BlockEntry(parsing: "2001:db8::7"))
    #expect(try skipped(firewall.maps) == [.blocklist, .cidr4, .cidr6])
    #expect(try verdict(firewall, Frame.ipv6UDP(from: "2001:db8::7")) == .drop)
    try pinned.remove(BlockEntry(parsing: "2001:db8::7"))
    #expect(try skipped(firewall.maps) == SkipWords.Table.allCases)
  }

  @Test("pins without the skip words (an older build's layout) open without them, and writes work")
  func oldLayoutPins() throws {
    let pins = try TemporaryPinDirectory()
    defer { pins.remove() }
    let firewall = try LoadedFirewall()
    defer { firewall.loaded.close() }
    // An older build's program has no words: it looks every table up, as this one does with
    // every word zero.
    for table in SkipWords.Table.allCases { try firewall.maps.skipWords!.lookUp(table) }
    for (name, map) in firewall.maps.all where name != SkipWords.pinName { try map.pin(at: pins.pinPath(name)) }

    let pinned = try FirewallMaps(pinnedIn: BPFFSDirectory.open(pins.path))
    #expect(pinned.skipWords == nil)
    #expect(pinned.all.map(\.name) == FirewallMaps.Name.required)
    try pinned.add(BlockEntry(parsing: "198.51.100.9"))
    _ = try pinned.add(contentsOf: [BlockEntry(parsing: "2001:db8::/64")])
    #expect(try verdict(firewall, Frame.ipv4UDP(from: "198.51.100.9")) == .drop)
    #expect(try verdict(firewall, Frame.ipv6UDP(from: "2001:db8::3")) == .drop)
    #expect(try pinned.remove(BlockEntry(parsing: "198.51.100.9")))
    #expect(try skipped(firewall.maps) == [])
  }

  @Test("attached state whose program has skip words but no pin of them is refused: detach and attach again")
  func missingPinRefused() throws {
    try withAttachedFirewall { root, iface, ns in
      let layout = try root.layout(iface, ns)
      #expect(access(layout.currentDirectory + "/" + SkipWords.pinName, F_OK) == 0)
      #expect(try root.run(["add", "192.0.2.1", "--iface", iface, "--netns", ns]).status == 0)

      #expect(unlink(layout.currentDirectory + "/" + SkipWords.pinName) == 0)
      let add = try root.run(["add", "192.0.2.2", "--iface", iface, "--netns", ns])
      #expect(add.status == 1)
      #expect(add.standardError.contains("its program has skip words (.bss), but "), "\(add.standardError)")
      #expect(add.standardError.contains("is missing: detach and attach again"), "\(add.standardError)")
      #expect(!add.standardOutput.contains("blocked"))
      let detach = try root.run(["detach", iface, "--netns", ns])
      #expect(detach.status == 0, "\(detach)")
      #expect(try root.run(["attach", iface, "--netns", ns, "--direct"]).status == 0)
      #expect(try root.run(["add", "192.0.2.2", "--iface", iface, "--netns", ns]).status == 0)
      #expect(try root.run(["detach", iface, "--netns", ns]).status == 0)
    }
  }

  @Test("status warns when another writer marked a table skipped that holds entries; a replace puts it right")
  func statusWarnsOfFalseSkip() throws {
    try withAttachedFirewall { root, iface, ns in
      let arguments = ["--iface", iface, "--netns", ns]
      #expect(try root.run(["add", "192.0.2.1"] + arguments).status == 0)
      let layout = try root.layout(iface, ns)
      // Another writer's word: BLOCKLIST said empty although it holds 192.0.2.1.
      let marked = try PersistentFirewall.withMaps(layout, repaired: { _ in }) { maps, status throws(XDPBlockError) in
        #expect(status.skippedTablesWithEntries == [])
        guard let words = maps.skipWords else { throw XDPBlockError.failed("the state has no skip words") }
        return try words.markIfEmpty(.blocklist) { () throws(XDPBlockError) in true }
      }
      #expect(marked)
      let status = try PersistentFirewall.status(of: layout, repaired: { _ in })
      #expect(status.skippedTablesWithEntries == [.blocklist])
      let warning = "warning: the program skips BLOCKLIST (its skip word in the pinned bss is set) although BLOCKLIST "
        + "holds entries: their traffic passes; `xdp-block attach --replace` reloads the program with true skip words"
      let before = try root.run(["status"] + arguments)
      #expect(before.status == 0, "\(before)")
      #expect(before.standardOutput.split(separator: "\n").map(String.init).contains(warning), "\(before.standardOutput)")
      #expect(try root.run(["attach", iface, "--netns", ns, "--replace"]).status == 0)
      let after = try root.run(["status"] + arguments)
      #expect(after.status == 0, "\(after)")
      #expect(!after.standardOutput.contains("warning:"), "\(after.standardOutput)")
    }
  }
}
