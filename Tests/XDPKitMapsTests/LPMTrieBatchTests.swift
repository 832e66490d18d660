import Testing
import XDPKitMaps
import XDPKitObject
import XDPKitSys
import XDPKitTestSupport

@Suite("LPMTrie batches", .kernel)
struct LPMTrieBatchTests {
  @Test("insert(contentsOf:) stores every prefix; removeAll(keys:) removes exactly those stored")
  func insertAndRemove() throws {
    let map = try makeMap(
      .lpmTrie, keySize: 8, valueSize: 8, maxEntries: 64, flags: .noPreallocation, name: "v4batch")
    let trie = try LPMTrie<IPv4Address, UInt64>(map)
    let prefixes = try ["198.51.100.0/24", "198.51.100.128/25", "192.0.2.0/24", "203.0.113.7/32"].map { try IPv4Prefix($0) }
    try trie.insert(contentsOf: prefixes.enumerated().map { (key: $0.element, value: UInt64($0.offset + 1)) })
    #expect(try trie.count() == 4)
    #expect(try trie.value(forKey: IPv4Prefix("198.51.100.128/25")) == 2)
    #expect(try trie.value(forKey: IPv4Prefix("203.0.113.7/32")) == 4)
    #expect(try trie.longestMatch(for: IPv4Address(parsing: "198.51.100.1")) == 1)

    // An absent prefix (and a covered one) is skipped; /24 goes, /25 stays.
    let removed = try trie.removeAll(keys: [IPv4Prefix("198.51.100.0/24"), IPv4Prefix("198.51.100.0/25"), IPv4Prefix("192.0.2.0/24")])
    #expect(removed == 2)
    #expect(try trie.keys().map(\.description).sorted() == ["198.51.100.128/25", "203.0.113.7/32"])
  }

  @Test("a prefix longer than the address is refused before anything is stored")
  func tooLong() throws {
    let map = try makeMap(
      .lpmTrie, keySize: 8, valueSize: 8, maxEntries: 8, flags: .noPreallocation, name: "v4long")
    let trie = try LPMTrie<IPv4Address, UInt64>(map)
    let good = try IPv4Prefix("192.0.2.0/24")
    let bad = IPv4Prefix(prefixLength: 33, address: IPv4Address(192, 0, 2, 0))
    #expect {
      try trie.insert(contentsOf: [(key: good, value: UInt64(1)), (key: bad, value: UInt64(2))])
    } throws: { error in
      guard case .prefixLengthOutOfRange(_, let length, let maximum) = error as? MapError else { return false }
      return length == 33 && maximum == 32
    }
    #expect(try trie.count() == 0)
  }
}
