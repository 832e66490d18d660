import Dispatch
import Glibc

extension PerfEventArray {
  /// The samples as they arrive, each with its CPU and the samples lost before it.
  ///
  /// Waiting and cancellation work as for ``RingBuffer/records()``: a task waiting for a
  /// sample is suspended while a Dispatch thread waits in epoll_wait(2) on every CPU's event in
  /// slices of ``RingBuffer/asyncWaitSlice``; the sequence ends (returns `nil`) when the task
  /// is cancelled.
  public func records() -> PerfEventRecords {
    PerfEventRecords(array: self)
  }

  /// The samples as they arrive, each decoded as a `Record` (the layout of the C type the
  /// program writes). A sample must hold `MemoryLayout<Record>.stride` bytes plus at most 7
  /// bytes of the kernel's padding; any other ends the sequence with
  /// ``RingBufferError/recordSizeMismatch(map:expected:actual:)``.
  public func records<Record: BitwiseCopyable & Sendable>(as type: Record.Type = Record.self) -> PerfEventTypedRecords<Record> {
    PerfEventTypedRecords(array: self)
  }

  /// Suspends the task until a ring may hold records, or the task is cancelled.
  func waitUntilReadable() async {
    await RingBufferWaitRequest.suspend(waitingOn: waitQueue) { self.wait(for: $0) }
  }

  private func wait(for request: RingBufferWaitRequest) {
    while !request.isDone && !hasData {
      switch epoll.wait(milliseconds: RingBuffer.waitSliceMilliseconds) {
      case .success(true): request.finish(); return
      case .success(false): continue
      case .failure: _ = usleep(UInt32(RingBuffer.waitSliceMilliseconds) * 1000)
      }
    }
    request.finish()
  }
}

/// The samples of a ``PerfEventArray`` as bytes: see ``PerfEventArray/records()``.
public struct PerfEventRecords: AsyncSequence, Sendable {
  public typealias Element = PerfEventSample<[UInt8]>
  public typealias Failure = Never

  /// The perf event array read.
  public let array: PerfEventArray

  public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(array: array) }

  /// Reads one sample per call, waiting off the cooperative pool.
  public struct AsyncIterator: AsyncIteratorProtocol {
    private var array: PerfEventArray?
    init(array: PerfEventArray) { self.array = array }

    /// The next sample; `nil` once the task is cancelled.
    public mutating func next() async -> PerfEventSample<[UInt8]>? { await next(isolation: nil) }

    /// The next sample; `nil` once the task is cancelled.
    public mutating func next(isolation actor: isolated (any Actor)?) async -> PerfEventSample<[UInt8]>? {
      guard let array else { return nil }
      while !Task.isCancelled {
        if let sample = array.takeSample() { return sample }
        await array.waitUntilReadable()
      }
      self.array = nil
      return nil
    }
  }
}

/// The samples of a ``PerfEventArray`` decoded as `Record`: see ``PerfEventArray/records(as:)``.
public struct PerfEventTypedRecords<Record: BitwiseCopyable & Sendable>: AsyncSequence, Sendable {
  public typealias Element = PerfEventSample<Record>
  public typealias Failure = RingBufferError

  /// The perf event array read.
  public let array: PerfEventArray

  public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(array: array) }

  /// Reads and decodes one sample per call, waiting off the cooperative pool.
  public struct AsyncIterator: AsyncIteratorProtocol {
    private var array: PerfEventArray?
    init(array: PerfEventArray) { self.array = array }

    /// The next sample; `nil` once the task is cancelled. Throws for a sample of another size,
    /// after which the iteration is over.
    public mutating func next() async throws(RingBufferError) -> PerfEventSample<Record>? {
      try await next(isolation: nil)
    }

    /// The next sample; `nil` once the task is cancelled.
    public mutating func next(isolation actor: isolated (any Actor)?) async throws(RingBufferError) -> PerfEventSample<Record>? {
      guard let array else { return nil }
      while !Task.isCancelled {
        if let sample = array.takeSample() {
          let stride = MemoryLayout<Record>.stride
          guard sample.value.count >= stride, sample.value.count - stride < 8 else {
            self.array = nil
            throw .recordSizeMismatch(map: array.map.name, expected: stride, actual: sample.value.count)
          }
          let record = sample.value.withUnsafeBytes { $0.loadUnaligned(as: Record.self) }
          return PerfEventSample(cpu: sample.cpu, value: record, lostBefore: sample.lostBefore)
        }
        await array.waitUntilReadable()
      }
      self.array = nil
      return nil
    }
  }
}
