import Foundation
import XDPKit
import XDPKitTestSupport

/// A UDP socket in one namespace of a ``TestNetwork`` that sends bounded bursts with the UDP
/// checksum turned off (SO_NO_CHECK: the field is 0, valid for IPv4), so that frames which
/// leave the normal path (XDP redirects, AF_XDP) carry no half-computed offload checksum, and
/// that receives the datagrams sent back to it.
final class UDPPeer {
  let socket: BPFFileDescriptor
  let port: UInt16
  /// The most datagrams one send may have.
  static let maximumCount = 10_000

  /// Opens the socket inside `side`'s namespace, bound to `address` (that side's IPv4
  /// address by default) and `port`.
  init(_ network: TestNetwork, side: TestNetwork.Side, port: UInt16, address: String? = nil) throws {
    self.port = port
    socket = try network.withNamespace(side) { () throws -> BPFFileDescriptor in
      let fd = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
      guard fd >= 0 else { throw TestSupportError.socket(call: "socket", errno: .current) }
      let socket = BPFFileDescriptor(adopting: fd)
      var one: Int32 = 1
      _ = setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &one, socklen_t(MemoryLayout<Int32>.size))
      var buffer: Int32 = 8 << 20
      _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, socklen_t(MemoryLayout<Int32>.size))
      var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
      _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
      let local = try SocketAddress(address ?? network.ipv4(side), port: port)
      let bound = local.withSockaddr { bind(fd, $0, $1) }
      if bound != 0 { throw TestSupportError.socket(call: "bind", errno: .current) }
      return socket
    }
  }

  /// The payload of datagram `sequence`: its number (big-endian) and `size - 4` bytes of a
  /// pattern that depends on it.
  static func payload(_ sequence: Int, size: Int) -> [UInt8] {
    var bytes = withUnsafeBytes(of: UInt32(sequence).bigEndian) { Array($0) }
    for i in 4..<max(size, 4) { bytes.append(UInt8(truncatingIfNeeded: sequence &* 7 &+ i)) }
    return bytes
  }

  /// Sends `count` datagrams of `payloadSize` bytes to `address`:`port`. Returns how many the
  /// kernel took.
  @discardableResult
  func send(to address: String, port: UInt16, count: Int, payloadSize: Int = 32) throws -> Int {
    precondition(count <= Self.maximumCount, "bounded bursts only")
    let target = try SocketAddress(address, port: port)
    var sent = 0
    for sequence in 0..<count {
      let bytes = Self.payload(sequence, size: payloadSize)
      let result = bytes.withUnsafeBytes { data in
        target.withSockaddr { sendto(socket.rawValue, data.baseAddress, data.count, 0, $0, $1) }
      }
      if result >= 0 { sent += 1 }
    }
    return sent
  }

  /// Receives datagrams until none has arrived for `quiet` or `limit` are in; at most `count`.
  func receive(count: Int, quiet: Duration = .milliseconds(500)) -> [[UInt8]] {
    var received: [[UInt8]] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    let clock = ContinuousClock()
    var last = clock.now
    while received.count < count, clock.now - last < quiet {
      let n = buffer.withUnsafeMutableBytes { recv(socket.rawValue, $0.baseAddress, $0.count, 0) }
      if n >= 0 {
        received.append(Array(buffer[0..<n]))
        last = clock.now
      }
    }
    return received
  }
}

/// One-shot bursts from a side of a ``TestNetwork`` to the other side's IPv4 address.
enum UDPBurst {
  /// The source port of bursts.
  static let sourcePort: UInt16 = 7777

  /// Sends `count` datagrams from `side` to the peer's IPv4 address and `port`, checksum off.
  static func send(
    _ network: TestNetwork, from side: TestNetwork.Side, count: Int, port: UInt16,
    payloadSize: Int = 32
  ) throws -> Int {
    let peer = try UDPPeer(network, side: side, port: sourcePort)
    return try peer.send(to: network.ipv4(side.peer), port: port, count: count, payloadSize: payloadSize)
  }
}
