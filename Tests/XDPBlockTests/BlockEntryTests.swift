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
    ("2001:db8::5/128", "2001:db8::5", nil), ("64:ff9b::192.0.2.1", "64:ff9b::c000:201", nil),
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
      return reason == .address(.hostBitsSet(text)) && error.description.contains("bits set beyond the prefix length")
    }
  }

  @Test("IPv4-mapped IPv6 addresses and prefixes (/96 and longer) are refused, naming the IPv4 entry", arguments: [
    ("::ffff:192.0.2.1", "::ffff:192.0.2.1 is an IPv4-mapped IPv6 address: block 192.0.2.1 instead"),
    ("::FFFF:c000:201", "::FFFF:c000:201 is an IPv4-mapped IPv6 address: block 192.0.2.1 instead"),
    ("::ffff:192.0.2.1/128", "::ffff:192.0.2.1/128 is an IPv4-mapped IPv6 address: block 192.0.2.1 instead"),
    ("::ffff:198.51.100.0/120", "::ffff:198.51.100.0/120 is an IPv4-mapped IPv6 prefix: block 198.51.100.0/24 instead"),
    ("::ffff:203.0.113.128/121", "::ffff:203.0.113.128/121 is an IPv4-mapped IPv6 prefix: block 203.0.113.128/25 instead"),
    ("::ffff:0:0/96", "::ffff:0:0/96 is an IPv4-mapped IPv6 prefix: block 0.0.0.0/0 instead"),
  ])
  func ipv4Mapped(text: String, message: String) {
    #expect {
      _ = try BlockEntry(parsing: text)
    } throws: { error in
      guard let error = error as? XDPBlockError, case .invalidEntry(let named, .ipv4Mapped(let mapped, _)) = error else {
        return false
      }
      return named == text && mapped == text && error.description == "invalid address or prefix \"\(text)\": \(message)"
        && error.hint == "the firewall matches IPv4 packets by their IPv4 source, never by a mapped IPv6 form"
    }
  }

  @Test("a mapped entry in a file names its line; other IPv6 entries near ::ffff:0:0/96 are kept as they are")
  func ipv4MappedNeighbours() throws {
    #expect {
      _ = try BlockEntry.parseLines(Array("2001:db8::1\n::ffff:198.51.100.0/120\n".utf8), source: "list.txt")
    } throws: { error in
      (error as? XDPBlockError)?.description
        == "list.txt:2: invalid address or prefix \"::ffff:198.51.100.0/120\": ::ffff:198.51.100.0/120 is an IPv4-mapped IPv6 prefix: block 198.51.100.0/24 instead"
    }
    // Shorter than /96, IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96): ordinary IPv6.
    let kept = try BlockEntry.parseAll(["::/64", "::fffe:0:0/95", "::192.0.2.1", "64:ff9b::c000:201", "2001:db8::ffff:c000:201"])
    #expect(kept.map(\.description) == ["::/64", "::fffe:0:0/95", "::c000:201", "64:ff9b::c000:201", "2001:db8::ffff:c000:201"])
    #expect(kept.map(\.family) == [6, 6, 6, 6, 6])
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
