import Dispatch
import Glibc
import Synchronization

extension RingBuffer {
  /// The records of the ring buffer as they arrive, each copied out as bytes.
  ///
  /// The sequence never ends by itself: it waits for the next record for as long as it takes,
  /// and ends (returns `nil`) when the iterating task is cancelled. Cancellation is prompt: a
  /// waiting iterator is resumed at once, and no record is consumed after the task was
  /// cancelled, so records not yet read stay in the ring for the next reader.
  ///
  /// How it waits: each call to `next()` first takes one record from the ring without blocking
  /// (shared memory, no system call). Only when there is none does the task suspend, while a
  /// thread outside Swift's cooperative pool (from a serial Dispatch queue that belongs to this
  /// ring buffer) waits in epoll_wait(2) on the map descriptor, in slices of
  /// ``asyncWaitSlice``; between slices it checks the producer position itself, so records
  /// written with `BPF_RB_NO_WAKEUP` are noticed within one slice. No cooperative thread ever
  /// blocks.
  ///
  /// Several iterators (of this or of other sequences of the same ring buffer) share the
  /// records: each record goes to one of them.
  public func records() -> RingBufferRecords {
    RingBufferRecords(ring: self)
  }

  /// The records of the ring buffer as they arrive, each decoded as a `Record`, which should
  /// have the layout of the C type the program writes.
  ///
  /// A record must be exactly `MemoryLayout<Record>.stride` bytes long (the `sizeof` of the C
  /// type, tail padding included). A record of any other length is consumed and ends the
  /// sequence with ``RingBufferError/recordSizeMismatch(map:expected:actual:)``; the records
  /// after it stay in the ring. Waiting and cancellation work as for ``records()``.
  public func records<Record: BitwiseCopyable>(as type: Record.Type = Record.self)
    -> RingBufferTypedRecords<Record>
  {
    RingBufferTypedRecords(ring: self)
  }

  /// How long one epoll_wait(2) of a ``records()`` iterator waits before it checks again for
  /// records written without a notification and for cancellation.
  public static var asyncWaitSlice: Duration { .milliseconds(waitSliceMilliseconds) }

  /// ``asyncWaitSlice`` in the unit of epoll_wait(2).
  static let waitSliceMilliseconds: Int32 = 50

  /// Takes the next record from the ring without blocking and returns what `decode` makes of
  /// it, or `nil` if there is none.
  func takeRecord<Element>(_ decode: (UnsafeRawBufferPointer) -> Element) -> Element? {
    var element: Element?
    _ = consume(limit: 1) { record in
      element = decode(record)
      return false
    }
    return element
  }

  /// Suspends the calling task until the ring may hold a record, or until the task is
  /// cancelled. The wait happens on ``waitQueue``, never on the task's thread. May return
  /// without a record (another reader took it, or it is still busy); callers check again.
  func waitUntilReadable() async {
    await RingBufferWaitRequest.suspend(waitingOn: waitQueue) { self.wait(for: $0) }
  }

  /// The blocking half of ``waitUntilReadable()``, run on ``waitQueue``: waits in slices until
  /// the ring holds unconsumed bytes or `request` was cancelled, then resumes the request.
  private func wait(for request: RingBufferWaitRequest) {
    while !request.isDone && unconsumedBytes == 0 {
      switch epoll.wait(milliseconds: Self.waitSliceMilliseconds) {
      case .success(true):
        request.finish()
        return
      case .success(false):
        continue
      case .failure:
        // epoll_wait(2) on a valid epoll descriptor fails only when interrupted, which
        // wait(milliseconds:) absorbs. Should it fail anyway, keep checking the producer
        // position once per slice rather than stall the reader.
        _ = usleep(UInt32(Self.waitSliceMilliseconds) * 1000)
      }
    }
    request.finish()
  }
}

/// One suspended reader's wait. Its continuation is resumed exactly once: by the wait on the
/// Dispatch queue (the ring may hold records) or by the cancellation of the waiting task,
/// whichever comes first.
final class RingBufferWaitRequest: Sendable {
  private enum State {
    /// The continuation is not installed yet.
    case pending
    /// The task is suspended on this continuation.
    case waiting(CheckedContinuation<Void, Never>)
    /// Resumed (or cancelled before the continuation was installed).
    case done
  }

  private let state = Mutex(State.pending)

  /// Whether the wait is over: the reader was resumed or its task cancelled.
  var isDone: Bool {
    state.withLock { state in
      if case .done = state { return true }
      return false
    }
  }

  /// Installs the continuation of the suspended task. Returns `false`, having resumed
  /// `continuation` already, if the task was cancelled before.
  func install(_ continuation: CheckedContinuation<Void, Never>) -> Bool {
    let installed = state.withLock { state in
      guard case .pending = state else { return false }
      state = .waiting(continuation)
      return true
    }
    if !installed { continuation.resume() }
    return installed
  }

  /// Resumes the task if it is still waiting.
  func finish() {
    let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
      defer { state = .done }
      if case .waiting(let continuation) = state { return continuation }
      return nil
    }
    continuation?.resume()
  }

  /// The task was cancelled: resumes it now if it is waiting, or makes ``install(_:)`` resume
  /// it at once.
  func cancel() { finish() }

  /// Suspends the calling task while `wait` runs on `queue` with a new request, until `wait`
  /// finishes the request or the task is cancelled.
  static func suspend(waitingOn queue: DispatchQueue, _ wait: @escaping @Sendable (RingBufferWaitRequest) -> Void) async {
    let request = RingBufferWaitRequest()
    await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        guard request.install(continuation) else { return }
        queue.async { wait(request) }
      }
    } onCancel: {
      request.cancel()
    }
  }
}

/// The records of a ``RingBuffer``, each copied out as bytes: see ``RingBuffer/records()``.
public struct RingBufferRecords: AsyncSequence, Sendable {
  /// A record's bytes, copied out of the ring: exactly the length the producer gave.
  public typealias Element = [UInt8]
  /// The sequence does not fail; it ends when the iterating task is cancelled.
  public typealias Failure = Never

  /// The ring buffer read.
  public let ring: RingBuffer

  /// An iterator that reads from ``ring``.
  public func makeAsyncIterator() -> AsyncIterator {
    AsyncIterator(ring: ring)
  }

  /// Reads the records of a ring buffer, one per call, waiting off the cooperative pool.
  public struct AsyncIterator: AsyncIteratorProtocol {
    /// The ring buffer, until the iteration ended.
    private var ring: RingBuffer?

    init(ring: RingBuffer) { self.ring = ring }

    /// The next record, waiting for one as long as needed; `nil` once the task is cancelled.
    public mutating func next() async -> [UInt8]? {
      await next(isolation: nil)
    }

    /// The next record, waiting for one as long as needed; `nil` once the task is cancelled.
    public mutating func next(isolation actor: isolated (any Actor)?) async -> [UInt8]? {
      guard let ring else { return nil }
      while !Task.isCancelled {
        if let record = ring.takeRecord({ Array($0) }) { return record }
        await ring.waitUntilReadable()
      }
      self.ring = nil
      return nil
    }
  }
}

/// The records of a ``RingBuffer``, each decoded as a `Record`: see
/// ``RingBuffer/records(as:)``.
public struct RingBufferTypedRecords<Record: BitwiseCopyable>: AsyncSequence, Sendable {
  /// A record, decoded from exactly `MemoryLayout<Record>.stride` bytes.
  public typealias Element = Record
  /// A record of another length ends the sequence with
  /// ``RingBufferError/recordSizeMismatch(map:expected:actual:)``.
  public typealias Failure = RingBufferError

  /// The ring buffer read.
  public let ring: RingBuffer

  /// An iterator that reads from ``ring``.
  public func makeAsyncIterator() -> AsyncIterator {
    AsyncIterator(ring: ring)
  }

  /// Reads the records of a ring buffer, one per call, waiting off the cooperative pool.
  public struct AsyncIterator: AsyncIteratorProtocol {
    /// The ring buffer, until the iteration ended.
    private var ring: RingBuffer?

    init(ring: RingBuffer) { self.ring = ring }

    /// The next record, waiting for one as long as needed; `nil` once the task is cancelled.
    /// Throws ``RingBufferError/recordSizeMismatch(map:expected:actual:)`` for a record that
    /// is not `MemoryLayout<Record>.stride` bytes long, after which the iteration is over.
    public mutating func next() async throws(RingBufferError) -> Record? {
      try await next(isolation: nil)
    }

    /// The next record, waiting for one as long as needed; `nil` once the task is cancelled.
    /// Throws ``RingBufferError/recordSizeMismatch(map:expected:actual:)`` for a record that
    /// is not `MemoryLayout<Record>.stride` bytes long, after which the iteration is over.
    public mutating func next(isolation actor: isolated (any Actor)?)
      async throws(RingBufferError) -> Record?
    {
      guard let ring else { return nil }
      while !Task.isCancelled {
        if let decoded = ring.takeRecord(Self.decode) {
          switch decoded {
          case .success(let record):
            return record
          case .failure(let length):
            self.ring = nil
            throw .recordSizeMismatch(
              map: ring.map.name, expected: MemoryLayout<Record>.stride, actual: length.value)
          }
        }
        await ring.waitUntilReadable()
      }
      self.ring = nil
      return nil
    }

    /// The record as a `Record`, or its length if that is not the stride of `Record`.
    private static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<Record, RecordLength> {
      guard bytes.count == MemoryLayout<Record>.stride else {
        return .failure(RecordLength(bytes.count))
      }
      return .success(bytes.loadUnaligned(as: Record.self))
    }
  }
}

/// The length of a record that did not decode, carried out of the consumer as a `Result`'s
/// failure.
struct RecordLength: Error {
  let value: Int
  init(_ value: Int) { self.value = value }
}
