import Testing
import XDPBlockCore
import XDPKit

@Suite("Blocklist entries: parsing addresses and prefixes")
struct BlockEntryTests {
  @Test("IPv4 addresses are exact entries", arguments: [
    ("192.0.2.1", 0xC000_0201 as UInt32), ("198.51.100.255", 0xC633_64FF), ("203.0.113.0", 0xCB00_7100),
    ("0.0.0.0", 0), (" 192.0.2.7 ", 0xC000_0207), ("192.0.2.9/32", 0xC000_0209),
  ])
  func ipv4Address(text: String, value: UInt32) throws {
    let entry = try BlockEntry(parsing: text)
    #expect(entry == .ipv4(IPv4Address(value)))
    #expect(entry.isExact)
    #expect(entry.kind == "exact")
    #expect(entry.family == 4)
    #expect(entry.mapName == "BLOCKLIST")
  }

  @Test("IPv4 prefixes go to the LPM trie", arguments: [
    ("198.51.100.0/24", "198.51.100.0", 24 as UInt32), ("192.0.2.128/25", "192.0.2.128", 25),
    ("203.0.113.0/31", "203.0.113.0", 31), ("0.0.0.0/0", "0.0.0.0", 0),
  ])
  func ipv4Prefix(text: String, address: String, length: UInt32) throws {
    let entry = try BlockEntry(parsing: text)
    #expect(entry == .ipv4Prefix(IPv4Prefix(prefixLength: length, address: try IPv4Address(parsing: address))))
    #expect(!entry.isExact)
    #expect(entry.kind == "prefix")
    #expect(entry.mapName == "CIDR4")
    #expect(entry.description == text)
  }

  @Test("IPv6 addresses and prefixes", arguments: [
    ("2001:db8::1", "2001:db8::1", nil as UInt32?), ("2001:DB8:0:0:0:0:0:2", "2001:db8::2", nil),
    ("2001:db8::/32", "2001:db8::", 32), ("2001:db8:1::/48", "2001:db8:1::", 48),
    ("2001:db8::5/128", "2001:db8::5", nil), ("::ffff:192.0.2.1", "::ffff:192.0.2.1", nil),
  ])
  func ipv6(text: String, address: String, length: UInt32?) throws {
    let entry = try BlockEntry(parsing: text)
    let parsed = try IPv6Address(parsing: address)
    if let length {
      #expect(entry == .ipv6Prefix(IPv6Prefix(prefixLength: length, address: parsed)))
      #expect(entry.mapName == "CIDR6")
      #expect(entry.description == "\(address)/\(length)")
    } else {
      #expect(entry == .ipv6(parsed))
      #expect(entry.mapName == "BLOCKLIST6")
      #expect(entry.description == address)
    }
    #expect(entry.family == 6)
  }

  @Test("invalid text is rejected, naming the text", arguments: [
    "", "   ", "192.0.2", "192.0.2.256", "192.0.2.1.5", "192.0.02.1", "192.0.2.x", "example.org",
    "192.0.2.0/", "192.0.2.0/33", "192.0.2.0/-1", "192.0.2.0/2a", "192.0.2.0/24/8",
    "2001:db8:::1", "2001:db8::g", "2001:db8::/129", "2001:db8::1%veth0", "1:2:3:4:5:6:7:8:9",
  ])
  func invalid(text: String) {
    #expect {
      _ = try BlockEntry(parsing: text)
    } throws: { error in
      guard let error = error as? XDPBlockError, case .invalidEntry(let named, _) = error else { return false }
      return named == text && error.description.contains("invalid address or prefix \"\(text)\"")
    }
  }

  @Test("host bits beyond the prefix length are rejected", arguments: [
    "198.51.100.1/24", "192.0.2.129/25", "203.0.113.1/31", "2001:db8::1/64", "2001:db8:1::/32",
  ])
  func hostBitsSet(text: String) {
    #expect {
      _ = try BlockEntry(parsing: text)
    } throws: { error in
      guard let error = error as? XDPBlockError, case .invalidEntry(_, let reason) = error else { return false }
      return reason == .hostBitsSet(text) && error.description.contains("bits set beyond the prefix length")
    }
  }

  @Test("parseAll is all or nothing and names the first bad entry")
  func parseAll() throws {
    let entries = try BlockEntry.parseAll(["192.0.2.1", "198.51.100.0/24", "2001:db8::/48"])
    #expect(entries.map(\.description) == ["192.0.2.1", "198.51.100.0/24", "2001:db8::/48"])
    let repeated = try BlockEntry.parseAll(["192.0.2.1", "198.51.100.0/24", "192.0.2.1/32", " 198.51.100.0/24", "192.0.2.1"])
    #expect(repeated.map(\.description) == ["192.0.2.1", "198.51.100.0/24"])
    #expect {
      _ = try BlockEntry.parseAll(["192.0.2.1", "nope", "also-bad"])
    } throws: { error in
      guard case .invalidEntry(let text, _) = error as? XDPBlockError else { return false }
      return text == "nope"
    }
  }

  @Test("entries sort IPv4 before IPv6, by address, prefixes before the exact address")
  func ordering() throws {
    let texts = ["2001:db8::1", "198.51.100.0/24", "192.0.2.1", "192.0.2.0/24", "2001:db8::/32"]
    let sorted = try BlockEntry.parseAll(texts).sorted().map(\.description)
    #expect(sorted == ["192.0.2.0/24", "192.0.2.1", "198.51.100.0/24", "2001:db8::/32", "2001:db8::1"])
  }
}
