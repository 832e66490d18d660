import Foundation
import XDPKit

/// One blocklist entry as a user writes it: an address ("192.0.2.1", "2001:db8::1") or a
/// prefix in CIDR notation ("198.51.100.0/24", "2001:db8::/48").
///
/// Addresses go to the firewall's exact maps (BLOCKLIST, BLOCKLIST6), prefixes to its LPM
/// tries (CIDR4, CIDR6). A prefix of full length ("192.0.2.1/32", "2001:db8::1/128") is the
/// address itself and is stored as an exact entry, so `add 192.0.2.1/32` and
/// `remove 192.0.2.1` name the same entry.
public enum BlockEntry: Hashable, Sendable, CustomStringConvertible {
  /// An exact IPv4 source address.
  case ipv4(IPv4Address)
  /// An exact IPv6 source address.
  case ipv6(IPv6Address)
  /// An IPv4 prefix shorter than 32 bits.
  case ipv4Prefix(IPv4Prefix)
  /// An IPv6 prefix shorter than 128 bits.
  case ipv6Prefix(IPv6Prefix)

  /// Parses an address or a CIDR prefix. Surrounding whitespace is ignored.
  ///
  /// Throws ``XDPBlockError/invalidEntry(_:_:)`` naming the text when it is neither, when the
  /// prefix length is out of range, when the address has bits set beyond the prefix
  /// length ("198.51.100.1/24": write "198.51.100.0/24"), or for an IPv4-mapped IPv6 address
  /// or prefix ("::ffff:192.0.2.1": write "192.0.2.1", see ``EntryParseError/ipv4Mapped(_:ipv4:)``).
  public init(parsing text: String) throws(XDPBlockError) {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard !trimmed.isEmpty else { throw .invalidEntry(text, .address(.invalidIPv4Address(text))) }
    do {
      try self.init(parsingTrimmed: trimmed)
    } catch {
      throw .invalidEntry(text, error)
    }
  }

  /// Parses text that has no surrounding whitespace (as ``parseLines(_:source:)`` leaves it).
  init(parsingTrimmed text: String) throws(EntryParseError) {
    var copy = text
    let isIPv6 = copy.withUTF8 { bytes in
      var index = 0
      while index < bytes.count && bytes[index] != UInt8(ascii: ":") { index += 1 }
      return index < bytes.count
    }
    do throws(AddressParseError) {
      if isIPv6 {
        let prefix = try IPv6Prefix(text)
        self = prefix.prefixLength == 128 ? .ipv6(prefix.address) : .ipv6Prefix(prefix)
      } else {
        let prefix = try IPv4Prefix(text)
        self = prefix.prefixLength == 32 ? .ipv4(prefix.address) : .ipv4Prefix(prefix)
      }
    } catch {
      throw .address(error)
    }
    if let ipv4 = mappedIPv4 { throw .ipv4Mapped(text, ipv4: ipv4) }
  }

  /// The IPv4 entry an IPv4-mapped IPv6 address or prefix (inside ::ffff:0:0/96, so /96 or longer)
  /// stands for: "192.0.2.1" for ::ffff:192.0.2.1, "198.51.100.0/24" for
  /// ::ffff:198.51.100.0/120; `nil` for any other prefix. The firewall sees IPv4 packets as
  /// IPv4 (the IPv4 maps) and no IPv6 packet carries a mapped source, so a mapped entry would
  /// never match.
  var mappedIPv4: String? {
    let prefix: IPv6Prefix
    switch self {
    case .ipv4, .ipv4Prefix: return nil
    case .ipv6(let address): prefix = IPv6Prefix(prefixLength: 128, address: address)
    case .ipv6Prefix(let value): prefix = value
    }
    let bytes = prefix.address.bytes
    guard prefix.prefixLength >= 96, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff else {
      return nil
    }
    let address = bytes[12..<16].map(String.init).joined(separator: ".")
    let length = prefix.prefixLength - 96
    return length == 32 ? address : "\(address)/\(length)"
  }

  /// The entry in the form it is parsed from: "192.0.2.1", "198.51.100.0/24".
  public var description: String {
    switch self {
    case .ipv4(let address): return address.description
    case .ipv6(let address): return address.description
    case .ipv4Prefix(let prefix): return prefix.description
    case .ipv6Prefix(let prefix): return prefix.description
    }
  }

  /// 4 or 6.
  public var family: Int {
    switch self {
    case .ipv4, .ipv4Prefix: return 4
    case .ipv6, .ipv6Prefix: return 6
    }
  }

  /// Whether the entry is a single address (exact map) rather than a prefix (LPM trie).
  public var isExact: Bool {
    switch self {
    case .ipv4, .ipv6: return true
    case .ipv4Prefix, .ipv6Prefix: return false
    }
  }

  /// "exact" or "prefix", as `list` shows it and drop events name the reason.
  public var kind: String { isExact ? "exact" : "prefix" }

  /// The name of the firewall map that holds this entry.
  public var mapName: String {
    switch self {
    case .ipv4: return FirewallMaps.Name.blocklist
    case .ipv6: return FirewallMaps.Name.blocklist6
    case .ipv4Prefix: return FirewallMaps.Name.cidr4
    case .ipv6Prefix: return FirewallMaps.Name.cidr6
    }
  }
}

extension BlockEntry: Comparable {
  /// IPv4 before IPv6; within a family by address bytes, then shorter prefixes first, exact
  /// addresses last — the order `list` prints.
  public static func < (lhs: BlockEntry, rhs: BlockEntry) -> Bool {
    lhs.sortKey < rhs.sortKey
  }

  /// Family, the address as a 128-bit number (IPv4 in the low bits), prefix length: a value
  /// to compare without allocating, as sorting 100,000 entries for `list` needs.
  private var sortKey: (family: UInt8, high: UInt64, low: UInt64, length: UInt32) {
    switch self {
    case .ipv4(let a): return (4, 0, UInt64(a.value), 32)
    case .ipv4Prefix(let p): return (4, 0, UInt64(p.address.value), p.prefixLength)
    case .ipv6(let a): return Self.key(a, 128)
    case .ipv6Prefix(let p): return Self.key(p.address, p.prefixLength)
    }
  }

  private static func key(_ address: IPv6Address, _ length: UInt32) -> (UInt8, UInt64, UInt64, UInt32) {
    let (w0, w1, w2, w3) = address.words
    let high = UInt64(UInt32(bigEndian: w0)) << 32 | UInt64(UInt32(bigEndian: w1))
    let low = UInt64(UInt32(bigEndian: w2)) << 32 | UInt64(UInt32(bigEndian: w3))
    return (6, high, low, length)
  }
}

extension BlockEntry {
  /// Parses every text, all or nothing: the first invalid one throws, naming its text.
  /// Each entry is returned once, where it first appears ("192.0.2.1" and "192.0.2.1/32" are
  /// the same entry), so that commands apply and report it once.
  public static func parseAll(_ texts: [String]) throws(XDPBlockError) -> [BlockEntry] {
    var entries: [BlockEntry] = []
    var seen = Set<BlockEntry>()
    for text in texts {
      let entry = try BlockEntry(parsing: text)
      if seen.insert(entry).inserted { entries.append(entry) }
    }
    return entries
  }
}

/// Why text is not a blocklist entry.
public enum EntryParseError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The text is not an address or a CIDR prefix; the parser's error says why.
  case address(AddressParseError)
  /// `text` is an IPv4-mapped IPv6 address or prefix (inside ::ffff:0:0/96), which would
  /// never match: IPv4 packets are matched by their IPv4 source. `ipv4` is the entry to
  /// block instead ("192.0.2.1", "198.51.100.0/24").
  case ipv4Mapped(_ text: String, ipv4: String)

  /// What is wrong, with the text that was parsed.
  public var description: String {
    switch self {
    case .address(let error): return error.description
    case .ipv4Mapped(let text, let ipv4):
      let what = ipv4.contains("/") ? "prefix" : "address"
      return "\(text) is an IPv4-mapped IPv6 \(what): block \(ipv4) instead"
    }
  }
}
