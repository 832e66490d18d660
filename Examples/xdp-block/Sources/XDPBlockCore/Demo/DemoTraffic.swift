import Glibc
import SystemPackage
import XDPKit

/// A UDP socket on IPv4, created inside a network namespace (it stays there for its life) and
/// bound to one of that namespace's addresses. Used by the demo to send from the blocked and
/// the allowed source and to count what arrives.
final class DemoUDPSocket {
  /// The most datagrams one ``send(to:port:count:)`` sends.
  static let maximumCount = 10_000

  private let descriptor: BPFFileDescriptor

  /// A socket in `namespace`, bound to `address`:`port` (port 0: any).
  init(namespace: String, address text: String, port: UInt16) throws(XDPBlockError) {
    let local = try Self.socketAddress(text, port: port)
    do {
      descriptor = try withNetworkNamespace(named: namespace) { () throws -> BPFFileDescriptor in
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { throw XDPBlockError.failed("socket: \(Errno.current)") }
        let owned = BPFFileDescriptor(adopting: fd)
        var size: Int32 = 4 << 20
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
          _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = local
        let bound = withUnsafePointer(to: &address) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
          }
        }
        if bound != 0 { throw XDPBlockError.failed("bind \(text):\(port) in \(namespace): \(Errno.current)") }
        return owned
      }
    } catch let error as XDPBlockError {
      throw error
    } catch {
      throw .failed("enter \(namespace): \(error)")
    }
  }

  static func socketAddress(_ address: String, port: UInt16) throws(XDPBlockError) -> sockaddr_in {
    let parsed: IPv4Address
    do { parsed = try IPv4Address(parsing: address) } catch { throw .invalidEntry(address, .address(error)) }
    var result = sockaddr_in()
    result.sin_family = sa_family_t(AF_INET)
    result.sin_port = port.bigEndian
    result.sin_addr.s_addr = parsed.networkOrder
    return result
  }

  /// Sends `count` (at most ``maximumCount``) datagrams of 32 bytes to `address`:`port`.
  /// Returns how many the kernel accepted.
  ///
  /// Paced: a pause of 1 ms after every 64 datagrams, so that the receiving veth's XDP ring
  /// (256 frames) is drained between bursts and no datagram is lost on the way.
  func send(to address: String, port: UInt16, count: Int) throws(XDPBlockError) -> Int {
    var target = try Self.socketAddress(address, port: port)
    let payload = [UInt8](repeating: 0x78, count: 32)
    var sent = 0
    for index in 0..<min(count, Self.maximumCount) {
      if index > 0 && index % 64 == 0 { usleep(1_000) }
      let result = payload.withUnsafeBytes { bytes in
        withUnsafePointer(to: &target) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(descriptor.rawValue, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
          }
        }
      }
      if result >= 0 { sent += 1 }
    }
    return sent
  }

  /// Receives until nothing has arrived for `quiet` (at most `limit` in all) and counts the
  /// datagrams per source address.
  func receiveCounts(quiet: Duration = .milliseconds(300), limit: Duration = .seconds(5)) -> [String: Int] {
    var counts: [String: Int] = [:]
    var buffer = [UInt8](repeating: 0, count: 2048)
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: limit)
    let quietMilliseconds = Int32(quiet.components.seconds * 1000 + quiet.components.attoseconds / 1_000_000_000_000_000)
    while clock.now < deadline {
      var pollfd = pollfd(fd: descriptor.rawValue, events: Int16(POLLIN), revents: 0)
      let ready = poll(&pollfd, 1, quietMilliseconds)
      if ready < 0 && errno == EINTR { continue }
      if ready <= 0 { break }
      var source = sockaddr_in()
      var length = socklen_t(MemoryLayout<sockaddr_in>.size)
      let n = buffer.withUnsafeMutableBytes { bytes in
        withUnsafeMutablePointer(to: &source) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            recvfrom(descriptor.rawValue, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), $0, &length)
          }
        }
      }
      if n >= 0 {
        counts[IPv4Address(networkOrder: source.sin_addr.s_addr).description, default: 0] += 1
      }
    }
    return counts
  }
}
