import Foundation
import Glibc
import Synchronization
import XDPKit

/// The sender: a UDP socket in the sender's namespace, bound to port 7777, that sends the
/// burst to the receiver's port 9999 and counts the echoes that come back to it on its own
/// thread. The UDP checksum is off (SO_NO_CHECK), as a copy-mode echo must not carry a
/// half-computed offload checksum.
final class DemoSender: @unchecked Sendable {
  let socket: Int32
  let echoes = Atomic<Int>(0)
  let stopping = Atomic<Bool>(false)
  private let finished = DispatchSemaphore(value: 0)

  init(namespace: String, address: String, port: UInt16) throws {
    socket = try withNetworkNamespace(named: namespace) { () throws -> Int32 in
      let fd = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
      guard fd >= 0 else { throw DemoError("socket: errno \(errno)") }
      var one: Int32 = 1
      _ = setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &one, socklen_t(MemoryLayout<Int32>.size))
      // Room for every echo of a window, whenever the counting thread is descheduled.
      var buffer: Int32 = 16 << 20
      _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, socklen_t(MemoryLayout<Int32>.size))
      var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
      _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
      var local = sockaddr_in()
      local.sin_family = sa_family_t(AF_INET)
      local.sin_port = port.bigEndian
      inet_pton(AF_INET, address, &local.sin_addr)
      let bound = withUnsafePointer(to: &local) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
      guard bound == 0 else { throw DemoError("bind \(address):\(port): errno \(errno)") }
      return fd
    }
    let thread = Thread { [self] in
      var buffer = [UInt8](repeating: 0, count: 2048)
      while !stopping.load(ordering: .acquiring) {
        if buffer.withUnsafeMutableBytes({ recv(socket, $0.baseAddress, $0.count, 0) }) >= 0 {
          echoes.add(1, ordering: .releasing)
        }
      }
      finished.signal()
    }
    thread.start()
  }

  /// Sends `count` datagrams of `size` bytes to `address`:`port`, keeping at most `window`
  /// unanswered so that the echo side's rings are never overrun. Returns how many were sent.
  func send(count: Int, size: Int, to address: String, port: UInt16, window: Int) -> Int {
    var target = sockaddr_in()
    target.sin_family = sa_family_t(AF_INET)
    target.sin_port = port.bigEndian
    inet_pton(AF_INET, address, &target.sin_addr)
    var payload = [UInt8](repeating: 0x58, count: size)
    var sent = 0
    let clock = ContinuousClock()
    var stalledSince = clock.now
    while sent < count {
      if sent - echoes.load(ordering: .acquiring) >= window {
        // No echo for a second: the rest would not be answered either.
        if clock.now - stalledSince > .seconds(1) { break }
        sched_yield()
        continue
      }
      stalledSince = clock.now
      withUnsafeBytes(of: UInt32(sent).bigEndian) { payload.replaceSubrange(0..<4, with: $0) }
      let result = payload.withUnsafeBytes { bytes in
        withUnsafePointer(to: &target) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(socket, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
          }
        }
      }
      if result >= 0 { sent += 1 }
    }
    return sent
  }

  /// Waits until `expected` echoes are in or none has come for `quiet`; returns the count.
  func waitForEchoes(_ expected: Int, quiet: Duration = .milliseconds(500)) -> Int {
    let clock = ContinuousClock()
    var last = echoes.load(ordering: .acquiring)
    var since = clock.now
    while last < expected && clock.now - since < quiet {
      usleep(5_000)
      let now = echoes.load(ordering: .acquiring)
      if now != last {
        last = now
        since = clock.now
      }
    }
    return last
  }

  /// Stops the receiving thread and closes the socket.
  func close() {
    stopping.store(true, ordering: .releasing)
    finished.wait()
    _ = Glibc.close(socket)
  }
}
