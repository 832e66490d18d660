import Foundation
import Testing
import XDPBlockCore
import XDPKit
import XDPKitTestSupport

/// The firewall's CIDR4 /16 bitmap (`cidr4_skip16` in its .bss) in the kernel: a /16 is
/// skipped only while no CIDR4 prefix covers it. Every insert clears the prefix's bits first;
/// bits are set only from two dumps of CIDR4 (on load, after a remove); the program drops a
/// covered source and skips the trie for an uncovered one. Frames only through
/// BPF_PROG_TEST_RUN.
@Suite("xdp-block: the CIDR4 /16 bitmap", .kernel)
struct PrefixSkipTests {
  private static let slash16_198_51: UInt16 = 198 << 8 | 51
  private static let slash16_203_0: UInt16 = 203 << 8
  private static let slash16_192_0: UInt16 = 192 << 8

  private func bitmap(_ maps: FirewallMaps) throws -> PrefixSkipBitmap {
    try #require(maps.skipWords?.prefixBitmap)
  }

  /// Runs `body` with a freshly loaded firewall, its maps and its bitmap; closes it after.
  private func withFirewall(_ body: (LoadedFirewall, FirewallMaps, PrefixSkipBitmap) throws -> Void) throws {
    let firewall = try LoadedFirewall()
    defer { firewall.loaded.close() }
    try body(firewall, firewall.maps, try bitmap(firewall.maps))
  }

  private func verdict(_ firewall: LoadedFirewall, _ source: String) throws -> XDPAction? {
    try firewall.program.program.testRun(packet: Frame.ipv4UDP(from: source), repetitions: 1).action
  }

  private func hits(_ maps: FirewallMaps, _ prefix: String) throws -> UInt64? {
    try maps.hits(of: BlockEntry(parsing: prefix))
  }

  @Test("a fresh firewall skips every /16; an add clears exactly its prefix's bits, and drops its sources")
  func addClears() throws {
    try withFirewall { firewall, maps, bits in
      #expect(try bits.skippedCount() == 65_536)

      try maps.add(BlockEntry(parsing: "198.51.100.0/24"))
      #expect(try bits.skippedCount() == 65_535)
      #expect(try !bits.isSkipped(slash16: Self.slash16_198_51))
      #expect(try bits.isSkipped(slash16: Self.slash16_203_0))
      // Covered /16: dropped, counted in the prefix's CIDR4 value.
      #expect(try verdict(firewall, "198.51.100.7") == .drop)
      #expect(try hits(maps, "198.51.100.0/24") == 1)
      // Uncovered /16: passes, and the prefix's count stays.
      #expect(try verdict(firewall, "203.0.113.9") == .pass)
      #expect(try hits(maps, "198.51.100.0/24") == 1)
      // A /16 with a prefix, but not this address: walks the trie and passes.
      #expect(try verdict(firewall, "198.51.7.1") == .pass)

      // Bulk: a /24 in another /16 and a /8 (256 /16s, 198.51 among them).
      let change = try maps.add(contentsOf: [BlockEntry(parsing: "192.0.2.0/24"), BlockEntry(parsing: "198.0.0.0/8")])
      #expect(change.changed.count == 2)
      #expect(try bits.skippedCount() == 65_536 - 256 - 1)
      #expect(try !bits.isSkipped(slash16: Self.slash16_192_0))
      #expect(try !bits.isSkipped(slash16: 198 << 8))
      #expect(try !bits.isSkipped(slash16: 198 << 8 | 255))
      #expect(try bits.isSkipped(slash16: 199 << 8))
      #expect(try verdict(firewall, "192.0.2.1") == .drop)
      #expect(try hits(maps, "192.0.2.0/24") == 1)

      // A /0 clears every bit.
      try maps.add(BlockEntry(parsing: "0.0.0.0/0"))
      #expect(try bits.skippedCount() == 0)
      #expect(try verdict(firewall, "203.0.113.9") == .drop)
      #expect(try hits(maps, "0.0.0.0/0") == 1)
    }
  }

  @Test("the bits are cleared before the insert: an insert CIDR4 refuses leaves them clear")
  func clearsBeforeInsert() throws {
    let small = try XDPFirewall.load(options: LoadOptions(maxEntries: ["CIDR4": 1]))
    defer { small.object.close() }
    let maps = try FirewallMaps(loaded: small.object)
    try maps.markEmptyTables()
    let bits = try bitmap(maps)
    #expect(try bits.skippedCount() == 65_536)
    try maps.add(BlockEntry(parsing: "198.51.100.0/24"))
    #expect {
      try maps.add(BlockEntry(parsing: "203.0.113.0/24"))
    } throws: { error in
      guard case .prefixListFull? = error as? XDPBlockError else { return false }
      return true
    }
    #expect(try !maps.contains(BlockEntry(parsing: "203.0.113.0/24")))
    #expect(try !bits.isSkipped(slash16: Self.slash16_203_0))
    #expect(try bits.skippedCount() == 65_534)
    // The next recompute sets it again: no prefix covers it.
    #expect(try maps.recomputePrefixSkip() == 65_535)
    #expect(try bits.isSkipped(slash16: Self.slash16_203_0))
  }

  @Test("a writer that knows nothing of the bitmap is skipped over until a recompute; then its prefix drops")
  func recomputeAfterForeignInsert() throws {
    try withFirewall { firewall, maps, bits in
      try maps.add(BlockEntry(parsing: "198.51.100.0/24"))
      // Straight into the trie (as bpftool would without resetting the .bss first): the word
      // of CIDR4 is already zero, but 203.0's bit is still set, so the trie is not walked.
      try maps.cidr4.insert(0, forKey: IPv4Prefix("203.0.113.0/24"))
      #expect(try bits.isSkipped(slash16: Self.slash16_203_0))
      #expect(try verdict(firewall, "203.0.113.9") == .pass)
      #expect(try hits(maps, "203.0.113.0/24") == 0)

      #expect(try maps.recomputePrefixSkip() == 65_534)
      #expect(try !bits.isSkipped(slash16: Self.slash16_203_0))
      #expect(try verdict(firewall, "203.0.113.9") == .drop)
      #expect(try hits(maps, "203.0.113.0/24") == 1)
      #expect(try verdict(firewall, "192.0.2.1") == .pass)
    }
  }

  @Test("a remove recomputes: a /16 another prefix still covers stays looked up, an emptied one is skipped again")
  func removeRecomputes() throws {
    try withFirewall { firewall, maps, bits in
      for text in ["198.51.100.0/24", "198.51.0.0/16", "203.0.113.0/24"] { try maps.add(BlockEntry(parsing: text)) }
      #expect(try bits.skippedCount() == 65_534)

      #expect(try maps.remove(BlockEntry(parsing: "198.51.100.0/24")))
      #expect(try !bits.isSkipped(slash16: Self.slash16_198_51))
      #expect(try bits.skippedCount() == 65_534)
      #expect(try verdict(firewall, "198.51.100.7") == .drop)
      #expect(try hits(maps, "198.51.0.0/16") == 1)

      #expect(try maps.remove(BlockEntry(parsing: "198.51.0.0/16")))
      #expect(try bits.isSkipped(slash16: Self.slash16_198_51))
      #expect(try bits.skippedCount() == 65_535)
      #expect(try verdict(firewall, "198.51.100.7") == .pass)
      #expect(try !maps.skipWords!.isSkipped(.cidr4))

      _ = try maps.remove(contentsOf: [BlockEntry(parsing: "203.0.113.0/24")])
      #expect(try bits.skippedCount() == 65_536)
      #expect(try maps.skipWords!.isSkipped(.cidr4))
      #expect(try verdict(firewall, "203.0.113.9") == .pass)
    }
  }

  @Test("a recompute sets bits only from a dump, and clears what the second dump covers")
  func recomputeChecksTwice() throws {
    try withFirewall { _, _, bits in
      try bits.lookUpAll()
      #expect(try bits.skippedCount() == 0)
      // A /8 arrives between the two dumps: its 256 /16s end clear.
      let slash8 = try IPv4Prefix("198.0.0.0/8")
      var dumps = 0
      let skipped = try bits.recompute { () throws(XDPBlockError) -> [IPv4Prefix] in
        dumps += 1
        return dumps == 1 ? [] : [slash8]
      }
      #expect(dumps == 2)
      #expect(skipped == 65_536 - 256)
      #expect(try bits.skippedCount() == 65_536 - 256)
      #expect(try bits.bits()[792...795].allSatisfy { $0 == 0 })
      // A second dump that fails leaves every bit clear.
      dumps = 0
      #expect(throws: XDPBlockError.self) {
        try bits.recompute { () throws(XDPBlockError) -> [IPv4Prefix] in
          dumps += 1
          if dumps == 2 { throw XDPBlockError.failed("no answer") }
          return []
        }
      }
      #expect(try bits.skippedCount() == 0)
      #expect(try bits.recompute { () throws(XDPBlockError) in [] } == 65_536)
    }
  }

  @Test("through the command line, on an attached firewall: add clears its prefixes' /16s, remove recomputes")
  func commandLine() throws {
    try withAttachedFirewall { root, iface, ns in
      // The published state, reached as xdp-block reaches it: through the link's target.
      let interface = try BPFFSDirectory.open(root.layout(iface, ns).directory)
      let name = try interface.readSymbolicLink("current")
      let current = try interface.subdirectory(try #require(name))
      let bits = try bitmap(FirewallMaps(pinnedIn: current))
      let program = try LoadedProgram.open(pinnedAs: "program", in: current)
      func verdict(_ source: String) throws -> XDPAction? {
        try program.testRun(packet: Frame.ipv4UDP(from: source), repetitions: 1).action
      }
      #expect(try bits.skippedCount() == 65_536)

      #expect(try root.run(["add", "198.51.100.0/24", "203.0.113.0/24", "--iface", iface, "--netns", ns]).status == 0)
      #expect(try bits.skippedCount() == 65_534)
      #expect(try !bits.isSkipped(slash16: Self.slash16_198_51))
      #expect(try !bits.isSkipped(slash16: Self.slash16_203_0))
      #expect(try verdict("198.51.100.7") == .drop)
      #expect(try verdict("192.0.2.1") == .pass)

      #expect(try root.run(["remove", "198.51.100.0/24", "--iface", iface, "--netns", ns]).status == 0)
      #expect(try bits.skippedCount() == 65_535)
      #expect(try bits.isSkipped(slash16: Self.slash16_198_51))
      #expect(try verdict("198.51.100.7") == .pass)
      #expect(try verdict("203.0.113.9") == .drop)
      #expect(try root.run(["detach", iface, "--netns", ns]).status == 0)
    }
  }

  /// The maps of a fresh firewall, pinned in a temporary directory with an array of one
  /// `valueSize`-byte value (mmapable, as a .bss is) pinned as its `bss`, and opened from the
  /// pins. The pins are removed and the firewall closed before it returns; the maps stay open.
  private func openPinned(bssValueSize valueSize: Int) throws -> FirewallMaps {
    let pins = try TemporaryPinDirectory()
    defer { pins.remove() }
    let firewall = try LoadedFirewall()
    defer { firewall.loaded.close() }
    for (name, map) in firewall.maps.all where name != SkipWords.pinName { try map.pin(at: pins.pinPath(name)) }
    let attributes = MapCreateAttributes(
      type: .array, keySize: 4, valueSize: UInt32(valueSize), maxEntries: 1, flags: .mmapable, name: "xkv_bss")
    try BPFMap(fileDescriptor: BPF.createMap(attributes)).pin(at: pins.pinPath(SkipWords.pinName))
    return try FirewallMaps(pinnedIn: BPFFSDirectory.open(pins.path))
  }

  @Test("an older build's 16-byte .bss pin opens without the bitmap: nothing is skipped by /16, writes work")
  func olderPin() throws {
    let pinned = try openPinned(bssValueSize: 16)
    let words = try #require(pinned.skipWords)
    #expect(words.prefixBitmap == nil)
    #expect(try pinned.recomputePrefixSkip() == nil)
    #expect(try pinned.add(BlockEntry(parsing: "198.51.100.0/24")))
    #expect(try !words.isSkipped(.cidr4))
    #expect(try pinned.remove(BlockEntry(parsing: "198.51.100.0/24")))
    #expect(try words.isSkipped(.cidr4))
  }

  @Test("a .bss pin of another size is refused, naming both sizes")
  func wrongSizePin() throws {
    #expect {
      _ = try openPinned(bssValueSize: 32)
    } throws: { error in
      "\(error)".hasSuffix(
        "xkv_bss is not the firewall's .bss: its value is 32 bytes, not 8208 (skip_table and cidr4_skip16), "
          + "nor 16 (an older build's skip_table alone)")
    }
  }
}
