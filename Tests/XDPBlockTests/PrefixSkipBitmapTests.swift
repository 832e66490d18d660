import Testing
import XDPBlockCore
import XDPKit
import XDPPrograms

/// The CIDR4 /16 bitmap's arithmetic, without a kernel: which /16s a prefix covers (`a << 8 |
/// b`), and the bitmap of the /16s no prefix covers. /8 and /0 prefixes are only computed here,
/// never sent.
@Suite("xdp-block: the /16s of a CIDR4 prefix")
struct PrefixSkipArithmeticTests {
  private func prefix(_ text: String) throws -> IPv4Prefix { try IPv4Prefix(text) }

  @Test("a prefix covers one /16 from /16 on, 2^(16 − length) below: /0 all 65,536, /8 256")
  func slash16s() throws {
    #expect(PrefixSkipBitmap.slash16s(of: try prefix("0.0.0.0/0")) == 0...65_535)
    #expect(PrefixSkipBitmap.slash16s(of: try prefix("198.0.0.0/8")) == 50_688...50_943)
    #expect(PrefixSkipBitmap.slash16s(of: try prefix("198.0.0.0/8")).count == 256)
    #expect(PrefixSkipBitmap.slash16s(of: try prefix("198.50.0.0/15")) == 50_738...50_739)
    #expect(PrefixSkipBitmap.slash16s(of: try prefix("198.51.0.0/16")) == 50_739...50_739)
    #expect(PrefixSkipBitmap.slash16s(of: try prefix("198.51.100.0/24")) == 50_739...50_739)
    #expect(PrefixSkipBitmap.slash16s(of: try prefix("203.0.113.9/32")) == 51_968...51_968)
    // Bits after the length do not count, as in the trie.
    let loose = IPv4Prefix(prefixLength: 8, address: try IPv4Address(parsing: "198.51.100.7"))
    #expect(PrefixSkipBitmap.slash16s(of: loose) == 50_688...50_943)
  }

  @Test("the bitmap of uncovered /16s clears exactly the covered bits")
  func uncovered() throws {
    let all = PrefixSkipBitmap.uncovered(by: [])
    #expect(all.count == PrefixSkipBitmap.wordCount)
    #expect(all.allSatisfy { $0 == ~0 })
    #expect(PrefixSkipBitmap.uncovered(by: [try prefix("0.0.0.0/0")]).allSatisfy { $0 == 0 })

    // 198.0.0.0/8: /16s 50,688 to 50,943, words 792 to 795 whole.
    let slash8 = PrefixSkipBitmap.uncovered(by: [try prefix("198.0.0.0/8")])
    #expect(slash8.reduce(0) { $0 + $1.nonzeroBitCount } == 65_536 - 256)
    for (index, word) in slash8.enumerated() { #expect(word == ((792...795).contains(index) ? 0 : ~0)) }

    // A /15 and the /16 and /24 inside it: bits 50 and 51 of word 792.
    let slash15 = PrefixSkipBitmap.uncovered(by: [try prefix("198.50.0.0/15")])
    #expect(slash15[792] == ~(UInt64(0b11) << 50))
    let nested = PrefixSkipBitmap.uncovered(by: [try prefix("198.51.100.0/24"), try prefix("198.51.0.0/16")])
    #expect(nested[792] == ~(UInt64(1) << 51))
    #expect(nested.reduce(0) { $0 + $1.nonzeroBitCount } == 65_535)

    // 192.0.2.0/24 and 203.0.113.0/24: /16s 49,152 (word 768, bit 0) and 51,968 (word 812, bit 0).
    let two = PrefixSkipBitmap.uncovered(by: [try prefix("192.0.2.0/24"), try prefix("203.0.113.0/24")])
    #expect(two[768] == ~UInt64(1))
    #expect(two[812] == ~UInt64(1))
    #expect(two.reduce(0) { $0 + $1.nonzeroBitCount } == 65_534)
  }

  @Test("the firewall's .bss is skip_table at 0 (16 bytes), then cidr4_skip16 at 16 (8,192 bytes)")
  func layout() throws {
    let object = try BPFObject(bytes: XDPPrograms.firewall)
    let bss = try #require(object.dataSections.first { $0.name == ".bss" })
    #expect(bss.size == UInt64(SkipWords.valueSize))
    #expect(SkipWords.valueSize == 8208)
    #expect(bss.variables.map(\.name) == ["skip_table", "cidr4_skip16"])
    #expect(bss.variables.map(\.offset) == [0, UInt64(PrefixSkipBitmap.byteOffset)])
    #expect(bss.variables.map(\.size) == [16, UInt64(PrefixSkipBitmap.byteCount)])
  }
}
