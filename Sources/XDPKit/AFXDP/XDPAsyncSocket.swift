import Dispatch
import Glibc
import Synchronization

/// An ``XDPSocket`` for Swift concurrency: an `AsyncSequence` of received packet batches and
/// an `async` ``send(_:)``. It owns the socket (and so its UMEM, rings and redirect program),
/// which is released when the last reference to this object goes away.
///
/// Packets are copied between the UMEM and ``XDPPacketBatch`` values, so they outlive the
/// call that received them; use ``XDPSocket``'s batch API directly where no copy may be made.
///
/// Waiting never blocks a thread of the cooperative pool: when the RX ring is empty (or the
/// TX ring full), the task suspends while a thread of this socket's own serial Dispatch queue
/// waits in poll(2) for up to ``waitSlice``, then the task looks again. A cancelled task stops
/// within one slice.
public final class XDPAsyncSocket: Sendable {
  private let socket: Mutex<XDPSocket>
  private let descriptor: Int32
  private let waitQueue = DispatchQueue(label: "XDPAsyncSocket.wait")

  /// How long one poll(2) waits before the waiting task checks for cancellation.
  public static var waitSlice: Duration { .milliseconds(Int64(waitSliceMilliseconds)) }
  static let waitSliceMilliseconds: Int32 = 50

  /// Takes ownership of `socket`.
  public init(_ socket: consuming XDPSocket) {
    descriptor = socket.descriptor
    self.socket = Mutex(socket)
  }

  /// The received packets, in batches of at most `limit`, copied out of the UMEM. The
  /// sequence ends when the iterating task is cancelled. Several iterators share the packets.
  public func batches(limit: Int = 64) -> XDPReceivedBatches {
    XDPReceivedBatches(socket: self, limit: limit)
  }

  /// Hands every packet of `batch` to the kernel for transmission, waiting for room in the TX
  /// ring as needed and waking the kernel until it has taken them all. Returns the number
  /// queued: all of them, unless the task was cancelled. A packet
  /// longer than a UMEM frame throws ``XDPSocketError/frameTooLarge(length:capacity:)`` before
  /// any packet of the batch is queued.
  @discardableResult
  public func send(_ batch: XDPPacketBatch) async throws -> Int {
    let capacity = socket.withLock { $0.transmitCapacity }
    for index in 0..<batch.count where batch.range(ofPacket: index).count > capacity {
      throw XDPSocketError.frameTooLarge(length: batch.range(ofPacket: index).count, capacity: capacity)
    }
    var sent = 0
    while sent < batch.count && !Task.isCancelled {
      let start = sent
      sent += try socket.withLock { socket in
        try socket.transmit(count: batch.count - start) { index, frame in
          let range = batch.range(ofPacket: start + index)
          batch.bytes.withUnsafeBytes { frame.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[range])) }
          return range.count
        }
      }
      if sent < batch.count { await wait(for: Int16(POLLOUT)) }
    }
    try await drainTransmitRing()
    return sent
  }

  /// Wakes the kernel until it has taken every frame of the TX ring (in copy mode it takes a
  /// limited batch per wakeup), at most ``drainRounds`` times; frames left then go with the
  /// next wakeup.
  private func drainTransmitRing() async throws {
    for _ in 0..<Self.drainRounds where !Task.isCancelled {
      let pending = try socket.withLock { socket in
        _ = try socket.freeTransmitFrames()
        return socket.hasPendingTransmits
      }
      if !pending { return }
      await Task.yield()
    }
  }

  /// The most wakeups one ``send(_:)`` makes to drain the TX ring.
  static let drainRounds = 1000

  /// The kernel's counters for the socket.
  public func statistics() throws(XDPSocketError) -> XDPSocketStatistics {
    try socket.withLock { socket throws(XDPSocketError) in try socket.statistics() }
  }

  /// Takes up to `limit` received packets, copied; an empty batch if there is none. Also
  /// lets the kernel send what waits in the TX ring.
  func take(limit: Int) -> XDPPacketBatch {
    socket.withLock { socket in
      _ = try? socket.freeTransmitFrames()
      return socket.receive(limit: limit) { frames in
        var total = 0
        for index in 0..<frames.count { total += frames.length(ofFrame: index) }
        var batch = XDPPacketBatch(reservingPackets: frames.count, bytes: total)
        frames.forEachFrame { _, bytes in batch.append(bytes) }
        return batch
      }
    }
  }

  /// Suspends until the socket may be ready for `events` or one wait slice has passed,
  /// polling on ``waitQueue``, never on the caller's thread.
  func wait(for events: Int16) async {
    let fd = descriptor
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      waitQueue.async {
        // Errors of poll(2) on a valid descriptor (EINTR) only end the slice early.
        _ = try? XDPSocket.poll(fd, events: events, timeout: Self.waitSlice)
        continuation.resume()
      }
    }
  }
}

/// The received packets of an ``XDPAsyncSocket``: see ``XDPAsyncSocket/batches(limit:)``.
public struct XDPReceivedBatches: AsyncSequence, Sendable {
  /// A batch of one or more packets.
  public typealias Element = XDPPacketBatch
  /// The sequence does not fail; it ends when the iterating task is cancelled.
  public typealias Failure = Never

  let socket: XDPAsyncSocket
  let limit: Int

  /// An iterator over the socket's received packets.
  public func makeAsyncIterator() -> AsyncIterator {
    AsyncIterator(socket: socket, limit: limit)
  }

  /// Reads batches of received packets, waiting off the cooperative pool.
  public struct AsyncIterator: AsyncIteratorProtocol {
    private var socket: XDPAsyncSocket?
    private let limit: Int

    init(socket: XDPAsyncSocket, limit: Int) {
      self.socket = socket
      self.limit = limit
    }

    /// The next non-empty batch; `nil` once the task is cancelled.
    public mutating func next() async -> XDPPacketBatch? {
      await next(isolation: nil)
    }

    /// The next non-empty batch; `nil` once the task is cancelled.
    public mutating func next(isolation actor: isolated (any Actor)?) async -> XDPPacketBatch? {
      guard let socket else { return nil }
      while !Task.isCancelled {
        let batch = socket.take(limit: limit)
        if !batch.isEmpty { return batch }
        await socket.wait(for: Int16(POLLIN))
      }
      self.socket = nil
      return nil
    }
  }
}
