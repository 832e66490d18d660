import CXDPKit
import Glibc
import SystemPackage

/// The kernel's counters of an AF_XDP socket (`struct xdp_statistics`), since it was bound.
public struct XDPSocketStatistics: Sendable, Hashable, CustomStringConvertible {
  /// Frames dropped for other reasons than those below (`rx_dropped`), for example because
  /// the fill ring had no frame for them.
  public var receiveDropped: UInt64
  /// Received frames dropped for an invalid fill-ring descriptor (`rx_invalid_descs`).
  public var receiveInvalidDescriptors: UInt64
  /// Frames to transmit rejected for an invalid TX descriptor, such as a length above the
  /// frame size or the MTU (`tx_invalid_descs`).
  public var transmitInvalidDescriptors: UInt64
  /// Frames dropped because the RX ring was full (`rx_ring_full`, kernel 5.9+).
  public var receiveRingFull: UInt64
  /// Times the kernel found the fill ring empty (`rx_fill_ring_empty_descs`, 5.9+).
  public var fillRingEmpty: UInt64
  /// Times the kernel found the TX ring empty when woken (`tx_ring_empty_descs`, 5.9+).
  public var transmitRingEmpty: UInt64

  /// Statistics with the given counts (zero by default).
  public init(
    receiveDropped: UInt64 = 0, receiveInvalidDescriptors: UInt64 = 0,
    transmitInvalidDescriptors: UInt64 = 0, receiveRingFull: UInt64 = 0, fillRingEmpty: UInt64 = 0,
    transmitRingEmpty: UInt64 = 0
  ) {
    self.receiveDropped = receiveDropped
    self.receiveInvalidDescriptors = receiveInvalidDescriptors
    self.transmitInvalidDescriptors = transmitInvalidDescriptors
    self.receiveRingFull = receiveRingFull
    self.fillRingEmpty = fillRingEmpty
    self.transmitRingEmpty = transmitRingEmpty
  }

  public var description: String {
    "rx dropped \(receiveDropped), rx invalid \(receiveInvalidDescriptors), tx invalid"
      + " \(transmitInvalidDescriptors), rx ring full \(receiveRingFull), fill ring empty"
      + " \(fillRingEmpty), tx ring empty \(transmitRingEmpty)"
  }
}

extension XDPSocket {
  /// The kernel's counters for this socket.
  ///
  /// The corresponding call is `getsockopt(SOL_XDP, XDP_STATISTICS)`.
  public func statistics() throws(XDPSocketError) -> XDPSocketStatistics {
    var counters = xdp_statistics()
    var length = socklen_t(MemoryLayout<xdp_statistics>.size)
    if getsockopt(socket.rawValue, cxdpkit_sol_xdp(), XDP_STATISTICS, &counters, &length) != 0 {
      throw .syscall(.getOption("XDP_STATISTICS"), errno: .current)
    }
    // Kernels before 5.9 fill only the first three counters; the rest stay 0.
    return XDPSocketStatistics(
      receiveDropped: counters.rx_dropped, receiveInvalidDescriptors: counters.rx_invalid_descs,
      transmitInvalidDescriptors: counters.tx_invalid_descs, receiveRingFull: counters.rx_ring_full,
      fillRingEmpty: counters.rx_fill_ring_empty_descs,
      transmitRingEmpty: counters.tx_ring_empty_descs)
  }

  /// Blocks the calling thread until the RX ring holds a frame or `timeout` passes (`nil`:
  /// without limit). Returns whether a frame is there. Use it on a thread of your own, never
  /// on Swift's cooperative pool; the async API waits for you off the pool.
  ///
  /// The corresponding call is `poll(2)` with POLLIN.
  public func waitForReceive(timeout: Duration?) throws(XDPSocketError) -> Bool {
    try Self.poll(socket.rawValue, events: Int16(POLLIN), timeout: timeout)
  }

  /// Blocks the calling thread until the TX ring has a free slot or `timeout` passes.
  ///
  /// The corresponding call is `poll(2)` with POLLOUT.
  public func waitForTransmit(timeout: Duration?) throws(XDPSocketError) -> Bool {
    try Self.poll(socket.rawValue, events: Int16(POLLOUT), timeout: timeout)
  }

  /// poll(2) on one descriptor; EINTR counts as a timeout.
  static func poll(_ fd: Int32, events: Int16, timeout: Duration?) throws(XDPSocketError) -> Bool {
    var entry = pollfd(fd: fd, events: events, revents: 0)
    var milliseconds: Int32 = -1
    if let timeout {
      let (seconds, attoseconds) = timeout.components
      let total = max(0, seconds) * 1000 + max(0, attoseconds) / 1_000_000_000_000_000
      milliseconds = Int32(clamping: total)
    }
    let result = Glibc.poll(&entry, 1, milliseconds)
    if result >= 0 { return result > 0 && entry.revents & events != 0 }
    let code = Errno.current
    if code == .interrupted { return false }
    throw .syscall(.poll, errno: code)
  }
}
