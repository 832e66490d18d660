import Glibc
import Testing
import XDPKitMaps

/// The C library's parse of `text`, or `nil` where it refuses it.
private func libcParse(_ text: String) -> [UInt8]? {
  var storage = in6_addr()
  guard inet_pton(AF_INET6, text, &storage) == 1 else { return nil }
  return withUnsafeBytes(of: storage) { Array($0) }
}

/// The C library's text form of `bytes`.
private func libcFormat(_ bytes: [UInt8]) -> String {
  var storage = in6_addr()
  withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: bytes) }
  var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
  _ = inet_ntop(AF_INET6, &storage, &text, socklen_t(text.count))
  return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

@Suite("IPv6Address")
struct IPv6AddressTests {
  @Test("known forms parse to known bytes and format per RFC 5952", arguments: [
    ("2001:db8::1", "2001:db8::1"),
    ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
    ("::", "::"),
    ("::1", "::1"),
    ("1::", "1::"),
    ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
    ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
    ("2001:db8::0:1", "2001:db8::1"),
    ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
    ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
    ("64:ff9b::198.51.100.7", "64:ff9b::c633:6407"),
    ("fe80::1:2:3:4", "fe80::1:2:3:4"),
  ])
  func knownForms(text: String, canonical: String) throws {
    let address = try IPv6Address(parsing: text)
    #expect(address.bytes == libcParse(text))
    #expect(address.description == canonical)
    #expect(try IPv6Address(parsing: canonical) == address)
  }

  @Test("malformed text is refused, as the C library refuses it", arguments: [
    "", ":", ":::", "1:::2", "1::2::3", "12345::", "g::", "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7", ":1::", "1::2:",
    "::192.0.2", "::192.0.2.256", "192.0.2.1::", "::1.2.3.4:5", "2001:db8::1%veth0", " ::1",
  ])
  func malformed(text: String) {
    #expect(IPv6Address(text) == nil)
    #expect(libcParse(text) == nil)
    #expect(throws: AddressParseError.invalidIPv6Address(text)) { try IPv6Address(parsing: text) }
  }

  @Test("random addresses: formatting and parsing agree with inet_ntop and inet_pton")
  func differential() throws {
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<5_000 {
      // Groups biased towards zero so that runs of zeros (and "::") are common.
      let groups: [UInt16] = (0..<8).map { _ in
        Bool.random(using: &generator) ? 0 : UInt16.random(in: 0...0xFFFF, using: &generator)
      }
      let address = try #require(IPv6Address(groups: groups))
      #expect(address.groups == groups)
      let text = address.description
      #expect(IPv6Address(text) == address, "\(text)")
      #expect(libcParse(text) == address.bytes, "\(text)")
      // glibc prints the deprecated IPv4-compatible form (::a.b.c.d) for addresses whose first
      // 96 bits are zero; RFC 5952 does not, so compare only the others.
      if !groups[0..<6].allSatisfy({ $0 == 0 }) {
        #expect(text == libcFormat(address.bytes), "\(groups)")
      }
      // The full, uncompressed form with leading zeros parses to the same address.
      let full = groups.map { group -> String in
        let hex = String(group, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - hex.count) + hex
      }.joined(separator: ":")
      #expect(IPv6Address(full) == address, "\(full)")
    }
  }

  @Test("masking clears the bits after the prefix")
  func masking() throws {
    let address = try IPv6Address(parsing: "2001:db8:ffff:ffff::1")
    #expect(address.masked(toPrefixLength: 32).description == "2001:db8::")
    #expect(address.masked(toPrefixLength: 36).description == "2001:db8:f000::")
    #expect(address.masked(toPrefixLength: 128) == address)
    #expect(address.masked(toPrefixLength: 0) == IPv6Address())
  }
}
