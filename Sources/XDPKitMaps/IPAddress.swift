// IPv4 and IPv6 addresses as BPF programs see them: bytes in network order, laid out so that
// they can be map keys and values (and the data of an LPM trie key) directly. Parsing and
// formatting are written here in Swift, so they behave the same on every platform.

/// Text that is not a valid address or prefix.
public enum AddressParseError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The text is not a dotted-quad IPv4 address ("192.0.2.1").
  case invalidIPv4Address(String)
  /// The text is not an IPv6 address in RFC 4291 text form ("2001:db8::1").
  case invalidIPv6Address(String)
  /// The text is not of the form "address/length" with a decimal length.
  case invalidPrefix(String)
  /// The prefix length in `text` exceeds the address's bits (`maximum`).
  case prefixLengthOutOfRange(String, length: Int, maximum: Int)
  /// The address in `text` has bits set beyond its prefix length ("198.51.100.1/24").
  case hostBitsSet(String)

  /// What is wrong, with the text that was parsed.
  public var description: String {
    switch self {
    case .invalidIPv4Address(let text): "not an IPv4 address: \"\(text)\""
    case .invalidIPv6Address(let text): "not an IPv6 address: \"\(text)\""
    case .invalidPrefix(let text): "not a prefix of the form address/length: \"\(text)\""
    case .prefixLengthOutOfRange(let text, let length, let maximum):
      "prefix length \(length) in \"\(text)\" exceeds \(maximum)"
    case .hostBitsSet(let text): "address in \"\(text)\" has bits set beyond the prefix length"
    }
  }
}

// MARK: - IPv4

/// An IPv4 address: 4 bytes in network order, as in `struct in_addr` and packet headers.
///
/// Its memory layout (4 bytes, alignment 4) is that of a C `__be32`, so it can be a map key
/// or value, or the data of an ``LPMKey``.
public struct IPv4Address: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible,
  LosslessStringConvertible
{
  /// The address's bytes as they lie in memory (network order), read as a native integer.
  /// On a little-endian machine 192.0.2.1 is `0x0102_00C0`.
  public var networkOrder: UInt32

  /// The address whose numeric value is `value`: `IPv4Address(0xC000_0201)` is 192.0.2.1.
  public init(_ value: UInt32) { networkOrder = value.bigEndian }

  /// The address with the given memory representation (network order).
  public init(networkOrder: UInt32) { self.networkOrder = networkOrder }

  /// The address `a.b.c.d`.
  public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
    self.init(UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d))
  }

  /// Parses a dotted quad ("192.0.2.1"): four decimal numbers up to 255, without leading
  /// zeros (which some parsers read as octal).
  public init(parsing text: String) throws(AddressParseError) {
    guard let value = IPText.parseIPv4(Substring(text).utf8) else {
      throw .invalidIPv4Address(text)
    }
    self.init(value)
  }

  /// Parses a dotted quad; `nil` if `description` is not one.
  public init?(_ description: String) {
    guard let value = IPText.parseIPv4(Substring(description).utf8) else { return nil }
    self.init(value)
  }

  /// The numeric value, most significant byte first: 192.0.2.1 is `0xC000_0201`.
  public var value: UInt32 { UInt32(bigEndian: networkOrder) }

  /// The four bytes, first to last.
  public var bytes: [UInt8] {
    let v = value
    return [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16),
            UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
  }

  /// The dotted quad.
  public var description: String {
    let v = value
    return "\(v >> 24).\((v >> 16) & 0xFF).\((v >> 8) & 0xFF).\(v & 0xFF)"
  }

  /// The address with every bit after the first `prefixLength` cleared.
  public func masked(toPrefixLength prefixLength: Int) -> IPv4Address {
    let length = max(0, min(prefixLength, 32))
    let mask: UInt32 = length == 0 ? 0 : ~0 << (32 - length)
    return IPv4Address(value & mask)
  }
}

// MARK: - IPv6

/// An IPv6 address: 16 bytes in network order, as in `struct in6_addr`.
///
/// Stored as four 32-bit words (each holding 4 bytes in memory order), so its alignment is 4
/// and an ``LPMKey`` of it is exactly the kernel's 20-byte key.
public struct IPv6Address: Hashable, Sendable, BitwiseCopyable, CustomStringConvertible,
  LosslessStringConvertible
{
  /// Bytes 0–3, 4–7, 8–11 and 12–15 as they lie in memory.
  public var words: (UInt32, UInt32, UInt32, UInt32) {
    get { (w0, w1, w2, w3) }
    set { (w0, w1, w2, w3) = newValue }
  }
  private var w0: UInt32, w1: UInt32, w2: UInt32, w3: UInt32

  /// The address `::` (all zero).
  public init() { (w0, w1, w2, w3) = (0, 0, 0, 0) }

  /// The address with the 16 `bytes`, first to last; `nil` unless there are exactly 16.
  public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
    guard bytes.count == 16 else { return nil }
    self.init()
    withUnsafeMutableBytes(of: &self) { storage in
      for (index, byte) in bytes.enumerated() { storage[index] = byte }
    }
  }

  /// The address with the eight 16-bit `groups`, first to last, in numeric value (the
  /// groups of the text form); `nil` unless there are exactly 8.
  public init?<C: Collection>(groups: C) where C.Element == UInt16 {
    guard groups.count == 8 else { return nil }
    var bytes: [UInt8] = []
    for group in groups { bytes += [UInt8(group >> 8), UInt8(truncatingIfNeeded: group)] }
    self.init(bytes: bytes)
  }

  /// Parses the RFC 4291 text form: eight groups of up to four hex digits separated by `:`,
  /// at most one `::` standing for one or more zero groups, optionally ending in a dotted
  /// quad ("::ffff:192.0.2.1"). Zone indices ("%eth0") are not accepted.
  public init(parsing text: String) throws(AddressParseError) {
    guard let groups = IPText.parseIPv6(Substring(text).utf8) else {
      throw .invalidIPv6Address(text)
    }
    self.init(groups: groups)!
  }

  /// Parses the RFC 4291 text form; `nil` if `description` is not an IPv6 address.
  public init?(_ description: String) {
    guard let groups = IPText.parseIPv6(Substring(description).utf8) else { return nil }
    self.init(groups: groups)
  }

  /// The 16 bytes, first to last.
  public var bytes: [UInt8] { withUnsafeBytes(of: self) { Array($0) } }

  /// The eight 16-bit groups of the text form.
  public var groups: [UInt16] {
    let b = bytes
    return (0..<8).map { UInt16(b[2 * $0]) << 8 | UInt16(b[2 * $0 + 1]) }
  }

  /// The RFC 5952 text form: lowercase, no leading zeros, the longest run of two or more
  /// zero groups (the first, on a tie) shortened to `::`, and IPv4-mapped addresses with a
  /// dotted quad ("::ffff:192.0.2.1").
  public var description: String { IPText.formatIPv6(groups) }

  /// The address with every bit after the first `prefixLength` cleared.
  public func masked(toPrefixLength prefixLength: Int) -> IPv6Address {
    var result = self
    let length = max(0, min(prefixLength, 128))
    withUnsafeMutableBytes(of: &result) { storage in
      for index in 0..<16 {
        let keep = max(0, min(8, length - index * 8))
        let mask: UInt8 = keep == 0 ? 0 : ~0 << (8 - keep)
        storage[index] &= mask
      }
    }
    return result
  }
}

// MARK: - Text

/// Parsers and the formatter behind the address types, on UTF-8 bytes.
enum IPText {
  private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

  private static func hexValue(_ byte: UInt8) -> UInt16? {
    switch byte {
    case 0x30...0x39: UInt16(byte - 0x30)
    case 0x61...0x66: UInt16(byte - 0x61 + 10)
    case 0x41...0x46: UInt16(byte - 0x41 + 10)
    default: nil
    }
  }

  /// A dotted quad's numeric value, or `nil`.
  static func parseIPv4(_ text: Substring.UTF8View) -> UInt32? {
    if let value = text.withContiguousStorageIfAvailable({ parseIPv4(bytes: $0) }) { return value }
    return Array(text).withUnsafeBufferPointer { parseIPv4(bytes: $0) }
  }

  /// A dotted quad's numeric value, or `nil`: four decimal numbers of one to three digits,
  /// each at most 255 and without a leading zero, separated by dots.
  ///
  /// One pass over contiguous bytes with no generic calls: blocklist files of 100,000
  /// addresses are parsed this way, also in debug builds.
  static func parseIPv4(bytes: UnsafeBufferPointer<UInt8>) -> UInt32? {
    var value: UInt32 = 0
    var number: UInt32 = 0
    var digits = 0
    var parts = 0
    var leadingZero = false
    var index = 0
    let count = bytes.count
    while index <= count {
      let byte = index < count ? bytes[index] : UInt8(ascii: ".")
      index += 1
      if byte == UInt8(ascii: ".") {
        // The end of a part (the end of the text counts as one more dot).
        guard digits >= 1, !(leadingZero && digits > 1), number <= 255, parts < 4 else { return nil }
        value = value << 8 | number
        parts += 1
        number = 0
        digits = 0
        continue
      }
      guard byte >= 0x30 && byte <= 0x39, digits < 3 else { return nil }
      if digits == 0 { leadingZero = byte == 0x30 }
      number = number * 10 + UInt32(byte - 0x30)
      digits += 1
    }
    return parts == 4 ? value : nil
  }

  /// Parses `:`-separated pieces into groups; the last piece may be a dotted quad when
  /// `allowIPv4` is set. `nil` for an empty piece or a bad group.
  private static func parseGroups(_ text: Substring.UTF8View, allowIPv4: Bool) -> [UInt16]? {
    if text.isEmpty { return [] }
    let pieces = text.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
    var groups: [UInt16] = []
    for (index, piece) in pieces.enumerated() {
      if allowIPv4 && index == pieces.count - 1 && piece.contains(UInt8(ascii: ".")) {
        guard let v4 = parseIPv4(piece) else { return nil }
        groups.append(UInt16(v4 >> 16))
        groups.append(UInt16(truncatingIfNeeded: v4))
        continue
      }
      guard piece.count >= 1, piece.count <= 4 else { return nil }
      var group: UInt16 = 0
      for byte in piece {
        guard let digit = hexValue(byte) else { return nil }
        group = group << 4 | digit
      }
      groups.append(group)
    }
    return groups
  }

  /// The eight groups of an IPv6 address in text form, or `nil`.
  static func parseIPv6(_ text: Substring.UTF8View) -> [UInt16]? {
    let bytes = Array(text)
    // Find the one "::", if any.
    var gap: Int? = nil
    var index = 0
    while index + 1 < bytes.count {
      if bytes[index] == UInt8(ascii: ":") && bytes[index + 1] == UInt8(ascii: ":") {
        if gap != nil { return nil }
        gap = index
        index += 2
      } else {
        index += 1
      }
    }
    let all = Substring(text)
    if let gap {
      let headEnd = all.utf8.index(all.utf8.startIndex, offsetBy: gap)
      let tailStart = all.utf8.index(headEnd, offsetBy: 2)
      let head = Substring(all.utf8[..<headEnd]).utf8
      let tail = Substring(all.utf8[tailStart...]).utf8
      guard let front = parseGroups(head, allowIPv4: false),
        let back = parseGroups(tail, allowIPv4: true),
        front.count + back.count <= 7
      else { return nil }
      return front + Array(repeating: 0, count: 8 - front.count - back.count) + back
    }
    guard let groups = parseGroups(text, allowIPv4: true), groups.count == 8 else { return nil }
    return groups
  }

  /// The RFC 5952 text form of eight groups.
  static func formatIPv6(_ groups: [UInt16]) -> String {
    // IPv4-mapped: ::ffff:a.b.c.d
    if groups[0..<5].allSatisfy({ $0 == 0 }) && groups[5] == 0xFFFF {
      let v4 = IPv4Address(UInt32(groups[6]) << 16 | UInt32(groups[7]))
      return "::ffff:\(v4)"
    }
    // The longest run of at least two zero groups; the first one on a tie.
    var bestStart = -1
    var bestLength = 1
    var runStart = -1
    for index in 0...8 {
      if index < 8 && groups[index] == 0 {
        if runStart < 0 { runStart = index }
      } else if runStart >= 0 {
        if index - runStart > bestLength {
          bestStart = runStart
          bestLength = index - runStart
        }
        runStart = -1
      }
    }
    func hex(_ range: Range<Int>) -> String {
      groups[range].map { String($0, radix: 16) }.joined(separator: ":")
    }
    if bestStart < 0 { return hex(0..<8) }
    return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
  }
}
