import Foundation
import Synchronization
import SystemPackage
import XDPKitSys

/// An IPv4 or IPv6 socket address parsed from text with inet_pton(3).
public enum SocketAddress: Sendable {
  case v4(sockaddr_in)
  case v6(sockaddr_in6)

  /// Parses `address` ("192.0.2.2", "2001:db8::2") with `port`.
  public init(_ address: String, port: UInt16) throws {
    var v4 = sockaddr_in()
    if inet_pton(AF_INET, address, &v4.sin_addr) == 1 {
      v4.sin_family = sa_family_t(AF_INET)
      v4.sin_port = port.bigEndian
      self = .v4(v4)
      return
    }
    var v6 = sockaddr_in6()
    if inet_pton(AF_INET6, address, &v6.sin6_addr) == 1 {
      v6.sin6_family = sa_family_t(AF_INET6)
      v6.sin6_port = port.bigEndian
      self = .v6(v6)
      return
    }
    throw TestSupportError.invalidAddress(address)
  }

  /// AF_INET or AF_INET6.
  public var family: Int32 {
    switch self {
    case .v4: return AF_INET
    case .v6: return AF_INET6
    }
  }

  /// Calls `body` with a `struct sockaddr *` and its length.
  public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
    switch self {
    case .v4(var address):
      return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
    case .v6(var address):
      return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
        }
      }
    }
  }
}

private func udpSocket(family: Int32) throws -> BPFFileDescriptor {
  let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
  if fd < 0 { throw TestSupportError.socket(call: "socket", errno: .current) }
  return BPFFileDescriptor(adopting: fd)
}

private func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Bool {
  var value = value
  return setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0
}

extension TestNetwork {
  /// The most datagrams one ``sendUDP(from:to:count:port:source:payloadSize:)`` sends.
  public static let maximumDatagramCount = 100_000

  /// Sends `count` UDP datagrams of `payloadSize` bytes from inside `side`'s namespace to
  /// `destination` (IPv4 or IPv6), optionally bound to the `source` address first. Returns
  /// the number of datagrams the kernel accepted (`count` unless a send failed with a soft
  /// error such as ENOBUFS, which is not retried).
  ///
  /// Bounded: `count` is at most ``maximumDatagramCount``. The datagrams carry their
  /// sequence number (big-endian `UInt32`) in the first four payload bytes.
  @discardableResult
  public func sendUDP(
    from side: Side, to destination: String, count: Int, port: UInt16,
    source: String? = nil, payloadSize: Int = 32
  ) throws -> Int {
    guard (0 ... Self.maximumDatagramCount).contains(count) else {
      throw TestSupportError.invalidCount(count, limit: Self.maximumDatagramCount)
    }
    let target = try SocketAddress(destination, port: port)
    let bindAddress = try source.map { try SocketAddress($0, port: 0) }
    return try withNamespace(side) {
      let socket = try udpSocket(family: target.family)
      if let bindAddress {
        let bound = bindAddress.withSockaddr { bind(socket.rawValue, $0, $1) }
        if bound != 0 { throw TestSupportError.socket(call: "bind \(source!)", errno: .current) }
      }
      var payload = [UInt8](repeating: 0x58, count: max(payloadSize, 4))
      var sent = 0
      for sequence in 0 ..< count {
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: sequence).bigEndian) {
          for i in 0 ..< 4 { payload[i] = $0[i] }
        }
        let result = payload.withUnsafeBytes { bytes in
          target.withSockaddr { sendto(socket.rawValue, bytes.baseAddress, bytes.count, 0, $0, $1) }
        }
        if result >= 0 {
          sent += 1
          continue
        }
        let code = Errno.current
        switch code {
        case .interrupted, .noBufferSpace, .resourceTemporarilyUnavailable: continue
        default: throw TestSupportError.socket(call: "sendto \(destination)", errno: code)
        }
      }
      return sent
    }
  }

  /// Starts a receiver that counts UDP datagrams arriving on `port` inside `side`'s namespace.
  ///
  /// `address` nil binds `::` with IPV6_V6ONLY off, receiving IPv4 and IPv6; an IPv4 or IPv6
  /// address binds only that. The socket is bound before this returns, so datagrams sent
  /// afterwards are counted.
  public func countingReceiver(
    in side: Side, port: UInt16, address: String? = nil
  ) throws -> UDPCountingReceiver {
    let local = try SocketAddress(address ?? "::", port: port)
    let socket = try withNamespace(side) { () throws -> BPFFileDescriptor in
      let socket = try udpSocket(family: local.family)
      if address == nil { _ = setOption(socket.rawValue, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0) }
      // Room for bursts: the receiving thread drains concurrently, but may be descheduled.
      if !setOption(socket.rawValue, SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20) {
        _ = setOption(socket.rawValue, SOL_SOCKET, SO_RCVBUF, 16 << 20)
      }
      let bound = local.withSockaddr { bind(socket.rawValue, $0, $1) }
      if bound != 0 {
        throw TestSupportError.socket(call: "bind \(address ?? "::") port \(port)", errno: .current)
      }
      return socket
    }
    return UDPCountingReceiver(socket: socket, port: port)
  }
}

/// Counts UDP datagrams on a bound socket, on its own thread, until stopped.
///
/// Call ``count(settle:limit:)`` after sending to wait until no datagram has arrived for the
/// `settle` interval and read the total. The thread stops (and the socket closes) at
/// ``stop()`` or when the receiver is deinitialised.
public final class UDPCountingReceiver: Sendable {
  /// The port it listens on.
  public let port: UInt16

  private final class State: Sendable {
    let socket: BPFFileDescriptor
    let received = Atomic<Int>(0)
    let bytes = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    let finished = DispatchSemaphore(value: 0)
    init(socket: BPFFileDescriptor) { self.socket = socket }
  }

  private let state: State
  private let stopped = Mutex(false)

  init(socket: BPFFileDescriptor, port: UInt16) {
    self.port = port
    state = State(socket: socket)
    // A 50 ms receive timeout lets the loop notice `stopping`.
    var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
    _ = setsockopt(socket.rawValue, SOL_SOCKET, SO_RCVTIMEO, &timeout,
                   socklen_t(MemoryLayout<timeval>.size))
    let state = self.state
    let thread = Thread {
      var buffer = [UInt8](repeating: 0, count: 65_536)
      while !state.stopping.load(ordering: .acquiring) {
        let n = buffer.withUnsafeMutableBytes {
          recv(state.socket.rawValue, $0.baseAddress, $0.count, 0)
        }
        if n >= 0 {
          state.received.wrappingAdd(1, ordering: .releasing)
          state.bytes.wrappingAdd(n, ordering: .relaxed)
        }
      }
      state.finished.signal()
    }
    thread.name = "udp-receiver-\(port)"
    thread.start()
  }

  deinit { stop() }

  /// The number of datagrams received so far.
  public var received: Int { state.received.load(ordering: .acquiring) }

  /// The number of payload bytes received so far.
  public var receivedBytes: Int { state.bytes.load(ordering: .relaxed) }

  /// Waits until no datagram has arrived for `settle` (at most `limit` in all), then returns
  /// the number received so far.
  public func count(settle: Duration = .milliseconds(300), limit: Duration = .seconds(10)) -> Int {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: limit)
    var last = received
    var quietSince = clock.now
    while clock.now < deadline {
      usleep(10_000)
      let now = received
      if now != last {
        last = now
        quietSince = clock.now
      } else if clock.now - quietSince >= settle {
        break
      }
    }
    return received
  }

  /// Sets the count back to zero (after ``count(settle:limit:)`` has settled).
  public func reset() {
    state.received.store(0, ordering: .releasing)
    state.bytes.store(0, ordering: .relaxed)
  }

  /// Stops the receiving thread and waits for it. Idempotent.
  public func stop() {
    let already = stopped.withLock { value -> Bool in
      defer { value = true }
      return value
    }
    if already { return }
    state.stopping.store(true, ordering: .releasing)
    state.finished.wait()
  }
}
