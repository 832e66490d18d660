/// A key of an LPM trie: a prefix length in bits followed by the address data, laid out as
/// the kernel's `struct bpf_lpm_trie_key_u8` (a native-endian `__u32 prefixlen`, then the
/// data in network order).
///
/// `Address` must have an alignment of at most 4, so that it starts right after the prefix
/// length, as ``IPv4Address`` and ``IPv6Address`` do; ``LPMTrie`` checks the layout.
public struct LPMKey<Address: BitwiseCopyable>: BitwiseCopyable {
  /// The number of leading address bits that belong to the prefix (`prefixlen`).
  public var prefixLength: UInt32
  /// The address (`data`). Bits after ``prefixLength`` are not part of the prefix.
  public var address: Address

  /// The prefix of `address` that is `prefixLength` bits long. Bits after the prefix are
  /// kept as given.
  public init(prefixLength: UInt32, address: Address) {
    self.prefixLength = prefixLength
    self.address = address
  }
}

extension LPMKey: Sendable where Address: Sendable {}
extension LPMKey: Equatable where Address: Equatable {}
extension LPMKey: Hashable where Address: Hashable {}

extension LPMKey: CustomStringConvertible where Address: CustomStringConvertible {
  /// The CIDR form, "198.51.100.0/24".
  public var description: String { "\(address)/\(prefixLength)" }
}

/// An IPv4 prefix ("198.51.100.0/24") as an LPM trie key: 8 bytes.
public typealias IPv4Prefix = LPMKey<IPv4Address>
/// An IPv6 prefix ("2001:db8::/32") as an LPM trie key: 20 bytes.
public typealias IPv6Prefix = LPMKey<IPv6Address>

extension LPMKey where Address == IPv4Address {
  /// Parses CIDR notation, "198.51.100.0/24"; a bare address is a /32.
  ///
  /// Throws ``AddressParseError`` naming the text if it is not an address with an optional
  /// decimal length of at most 32, or if the address has bits set beyond the length.
  public init(_ cidr: String) throws(AddressParseError) {
    // On the UTF-8 bytes, without Substrings: this parses blocklist files line by line.
    var text = cidr
    let parsed = text.withUTF8 { bytes -> Result<(UInt32, Int), AddressParseError> in
      let slash = CIDR.slashIndex(bytes)
      let length: Int
      do throws(AddressParseError) {
        length = try CIDR.prefixLength(bytes, after: slash, maximum: 32, text: cidr)
      } catch {
        return .failure(error)
      }
      let addressBytes = UnsafeBufferPointer(rebasing: bytes[0..<(slash ?? bytes.count)])
      guard let value = IPText.parseIPv4(bytes: addressBytes) else { return .failure(.invalidIPv4Address(cidr)) }
      return .success((value, length))
    }
    let (value, length) = try parsed.get()
    let address = IPv4Address(value)
    guard address.masked(toPrefixLength: length) == address else { throw .hostBitsSet(cidr) }
    self.init(prefixLength: UInt32(length), address: address)
  }
}

extension LPMKey where Address == IPv6Address {
  /// Parses CIDR notation, "2001:db8::/32"; a bare address is a /128.
  ///
  /// Throws ``AddressParseError`` naming the text if it is not an address with an optional
  /// decimal length of at most 128, or if the address has bits set beyond the length.
  public init(_ cidr: String) throws(AddressParseError) {
    let (addressText, length) = try CIDR.split(cidr, maximum: 128)
    guard let address = IPv6Address(String(addressText)) else {
      throw .invalidIPv6Address(cidr)
    }
    guard address.masked(toPrefixLength: length) == address else { throw .hostBitsSet(cidr) }
    self.init(prefixLength: UInt32(length), address: address)
  }
}

enum CIDR {
  /// The index of the first "/" in `bytes`, if any.
  static func slashIndex(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
    var index = 0
    while index < bytes.count {
      if bytes[index] == UInt8(ascii: "/") { return index }
      index += 1
    }
    return nil
  }

  /// The decimal prefix length after the "/" at `slash` (`maximum` without one), with the
  /// errors of ``split(_:maximum:)``.
  static func prefixLength(
    _ bytes: UnsafeBufferPointer<UInt8>, after slash: Int?, maximum: Int, text: String
  ) throws(AddressParseError) -> Int {
    guard let slash else { return maximum }
    let digits = bytes.count - slash - 1
    guard digits >= 1, digits <= 3 else { throw .invalidPrefix(text) }
    var length = 0
    var index = slash + 1
    while index < bytes.count {
      let byte = bytes[index]
      guard byte >= 0x30 && byte <= 0x39 else { throw .invalidPrefix(text) }
      length = length * 10 + Int(byte - 0x30)
      index += 1
    }
    guard length <= maximum else {
      throw .prefixLengthOutOfRange(text, length: length, maximum: maximum)
    }
    return length
  }

  /// Splits "address/length" into the address text and the length (`maximum` if absent).
  static func split(_ text: String, maximum: Int) throws(AddressParseError) -> (Substring, Int) {
    let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
    if parts.count == 1 { return (parts[0], maximum) }
    let digits = parts[1].utf8
    guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
      let length = Int(parts[1])
    else { throw .invalidPrefix(text) }
    guard length <= maximum else {
      throw .prefixLengthOutOfRange(text, length: length, maximum: maximum)
    }
    return (parts[0], length)
  }
}
