/// The fields of an Ethernet + IPv4 (no options) + UDP frame that the AF_XDP tests check, and
/// the address swap of an echo.
struct UDPFrame: Equatable {
  var destinationMAC: [UInt8]
  var sourceMAC: [UInt8]
  var sourceIP: [UInt8]
  var destinationIP: [UInt8]
  var sourcePort: UInt16
  var destinationPort: UInt16
  var payload: [UInt8]

  /// The header length before the payload.
  static let headerLength = 14 + 20 + 8

  /// Parses `bytes`; `nil` unless it is IPv4 UDP with a 20-byte header.
  init?(_ bytes: UnsafeRawBufferPointer) {
    guard bytes.count >= Self.headerLength, bytes[12] == 0x08, bytes[13] == 0x00,
      bytes[14] == 0x45, bytes[23] == 17
    else { return nil }
    destinationMAC = Array(bytes[0..<6])
    sourceMAC = Array(bytes[6..<12])
    sourceIP = Array(bytes[26..<30])
    destinationIP = Array(bytes[30..<34])
    sourcePort = UInt16(bytes[34]) << 8 | UInt16(bytes[35])
    destinationPort = UInt16(bytes[36]) << 8 | UInt16(bytes[37])
    let udpLength = Int(UInt16(bytes[38]) << 8 | UInt16(bytes[39]))
    guard udpLength >= 8, 34 + udpLength <= bytes.count else { return nil }
    payload = Array(bytes[42..<(34 + udpLength)])
  }

  /// The sequence number in the first four payload bytes (big-endian), as ``UDPPeer`` sends.
  var sequence: Int {
    Self.sequence(of: payload)
  }

  /// The sequence number in the first four bytes of a datagram's payload.
  static func sequence(of payload: [UInt8]) -> Int {
    payload.prefix(4).reduce(0) { $0 << 8 | Int($1) }
  }

  /// Copies the frame in `source` into `target` with MAC addresses, IPv4 addresses and UDP
  /// ports swapped; returns the length. The IPv4 and UDP checksums stay valid: a swap does
  /// not change a ones'-complement sum.
  static func echo(_ source: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer) -> Int {
    target.copyMemory(from: source)
    func swap(_ a: Int, _ b: Int, _ count: Int) {
      for i in 0..<count {
        let t = target[a + i]
        target[a + i] = target[b + i]
        target[b + i] = t
      }
    }
    swap(0, 6, 6)
    swap(26, 30, 4)
    swap(34, 36, 2)
    return source.count
  }
}
