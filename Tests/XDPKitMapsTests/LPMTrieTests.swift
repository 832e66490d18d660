import Testing
import XDPKitMaps
import XDPKitObject
import XDPKitSys
import XDPKitTestSupport

@Suite("LPMTrie", .kernel)
struct LPMTrieTests {
  @Test("IPv4: the longest of /24 and /25 wins; outside both is nil")
  func ipv4() throws {
    #expect(MemoryLayout<IPv4Prefix>.stride == 8)
    let map = try makeMap(
      .lpmTrie, keySize: 8, valueSize: 4, maxEntries: 64, flags: .noPreallocation, name: "v4")
    let trie = try LPMTrie<IPv4Address, UInt32>(map)
    #expect(trie.maximumPrefixLength == 32)
    #expect(try trie.isEmpty())

    try trie.insert(24, forKey: IPv4Prefix("198.51.100.0/24"))
    #expect(try !trie.isEmpty())
    try trie.insert(25, forKey: IPv4Prefix("198.51.100.128/25"))

    #expect(try trie.longestMatch(for: IPv4Address(parsing: "198.51.100.200")) == 25)
    #expect(try trie.longestMatch(for: IPv4Address(parsing: "198.51.100.128")) == 25)
    #expect(try trie.longestMatch(for: IPv4Address(parsing: "198.51.100.1")) == 24)
    #expect(try trie.longestMatch(for: IPv4Address(parsing: "198.51.100.127")) == 24)
    #expect(try trie.longestMatch(for: IPv4Address(parsing: "192.0.2.1")) == nil)
    #expect(try trie.longestMatch(for: IPv4Address(0xC633_6401)) == 24)  // 198.51.100.1

    // Exact prefixes.
    #expect(try trie.value(forKey: IPv4Prefix("198.51.100.0/24")) == 24)
    #expect(try trie.value(forKey: IPv4Prefix("198.51.100.128/25")) == 25)
    #expect(try trie.value(forKey: IPv4Prefix("198.51.100.0/25")) == nil)  // covered, not stored
    #expect(try trie.value(forKey: IPv4Prefix("198.51.100.0/23")) == nil)
    #expect(try trie.contains(IPv4Prefix("198.51.100.0/24")))

    let keys = try trie.keys()
    #expect(keys.map(\.description) == ["198.51.100.128/25", "198.51.100.0/24"])
    #expect(try trie.count() == 2)
    let entries = try trie.entries()
    #expect(entries.map(\.value) == [25, 24])

    #expect(try trie.removeValue(forKey: IPv4Prefix("198.51.100.128/25")))
    #expect(try trie.removeValue(forKey: IPv4Prefix("198.51.100.128/25")) == false)
    #expect(try trie.longestMatch(for: IPv4Address(parsing: "198.51.100.200")) == 24)
    #expect(try trie.removeValue(forKey: IPv4Prefix("198.51.100.0/24")))
    #expect(try trie.isEmpty())

    #expect(throws: MapError.prefixLengthOutOfRange(map: "v4", prefixLength: 33, maximum: 32)) {
      try trie.insert(1, forKey: IPv4Prefix(prefixLength: 33, address: IPv4Address(0)))
    }
  }

  @Test("IPv6: 2001:db8::/32 and a /48 inside it")
  func ipv6() throws {
    #expect(MemoryLayout<IPv6Prefix>.size == 20)
    #expect(MemoryLayout<IPv6Prefix>.stride == 20)
    let map = try makeMap(
      .lpmTrie, keySize: 20, valueSize: 8, maxEntries: 64, flags: .noPreallocation, name: "v6")
    let trie = try LPMTrie<IPv6Address, UInt64>(map)
    #expect(trie.maximumPrefixLength == 128)

    try trie.insert(32, forKey: IPv6Prefix("2001:db8::/32"))
    try trie.insert(48, forKey: IPv6Prefix("2001:db8:1::/48"))
    #expect(try trie.longestMatch(for: IPv6Address(parsing: "2001:db8:1::7")) == 48)
    #expect(try trie.longestMatch(for: IPv6Address(parsing: "2001:db8:2::1")) == 32)
    #expect(try trie.longestMatch(for: IPv6Address(parsing: "2001:db8::1")) == 32)
    #expect(try trie.longestMatch(for: IPv6Address(parsing: "2001:db9::1")) == nil)
    #expect(try trie.value(forKey: IPv6Prefix("2001:db8::/32")) == 32)
    #expect(try trie.value(forKey: IPv6Prefix("2001:db8::/33")) == nil)
    #expect(Set(try trie.keys().map(\.description)) == ["2001:db8::/32", "2001:db8:1::/48"])
  }

  @Test("a trie whose key does not fit the address type is refused")
  func sizeMismatch() throws {
    let map = try makeMap(
      .lpmTrie, keySize: 8, valueSize: 4, maxEntries: 4, flags: .noPreallocation, name: "v4only")
    #expect(throws: MapError.keySizeMismatch(map: "v4only", expected: 8, actual: 20)) {
      try LPMTrie<IPv6Address, UInt32>(map)
    }
  }
}

@Suite("Prefixes and addresses")
struct PrefixParsingTests {
  @Test("CIDR strings parse to exact keys")
  func parse() throws {
    let v4 = try IPv4Prefix("198.51.100.0/24")
    #expect(v4.prefixLength == 24)
    #expect(v4.address == IPv4Address(198, 51, 100, 0))
    #expect(v4.address.value == 0xC633_6400)
    #expect(try IPv4Prefix("192.0.2.1").prefixLength == 32)
    #expect(try IPv4Prefix("0.0.0.0/0").prefixLength == 0)
    #expect(withUnsafeBytes(of: v4) { Array($0) } == [24, 0, 0, 0, 198, 51, 100, 0])

    let v6 = try IPv6Prefix("2001:db8::/32")
    #expect(v6.prefixLength == 32)
    #expect(withUnsafeBytes(of: v6) { Array($0) }
      == [32, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 12))
    #expect(try IPv6Prefix("2001:db8::1").prefixLength == 128)
  }

  @Test("invalid CIDR strings throw an error naming the text", arguments: [
    ("198.51.100.0/33", AddressParseError.prefixLengthOutOfRange("198.51.100.0/33", length: 33, maximum: 32)),
    ("198.51.100.0/", .invalidPrefix("198.51.100.0/")),
    ("198.51.100.0/-1", .invalidPrefix("198.51.100.0/-1")),
    ("198.51.100.0/2x", .invalidPrefix("198.51.100.0/2x")),
    ("198.51.100.0/24/1", .invalidPrefix("198.51.100.0/24/1")),
    ("198.51.100/24", .invalidIPv4Address("198.51.100/24")),
    ("198.51.100.256/24", .invalidIPv4Address("198.51.100.256/24")),
    ("198.51.100.1/24", .hostBitsSet("198.51.100.1/24")),
    ("", .invalidIPv4Address("")),
  ])
  func invalidIPv4(text: String, error: AddressParseError) {
    #expect(throws: error) { try IPv4Prefix(text) }
    #expect("\(error)".contains("\"\(text)\""))
  }

  @Test("invalid IPv6 CIDR strings throw", arguments: [
    ("2001:db8::/129", AddressParseError.prefixLengthOutOfRange("2001:db8::/129", length: 129, maximum: 128)),
    ("2001:db8:::/32", .invalidIPv6Address("2001:db8:::/32")),
    ("2001:db8::1/32", .hostBitsSet("2001:db8::1/32")),
    ("198.51.100.0/24", .invalidIPv6Address("198.51.100.0/24")),
  ])
  func invalidIPv6(text: String, error: AddressParseError) {
    #expect(throws: error) { try IPv6Prefix(text) }
  }

  @Test("IPv4 addresses: text, value, bytes")
  func ipv4Addresses() throws {
    let address = try IPv4Address(parsing: "192.0.2.1")
    #expect(address.value == 0xC000_0201)
    #expect(address.bytes == [192, 0, 2, 1])
    #expect(withUnsafeBytes(of: address) { Array($0) } == [192, 0, 2, 1])
    #expect(address.description == "192.0.2.1")
    #expect(IPv4Address(0xC000_0201) == address)
    for bad in ["192.0.2", "192.0.2.1.5", "192.0.2.01", "192.0.2.-1", " 192.0.2.1", "192.0.2.1 ",
                "192.0..1", "0x1.0.0.0", "256.0.0.0"] {
      #expect(IPv4Address(bad) == nil, "\(bad)")
    }
  }
}
