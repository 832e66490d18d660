import Dispatch
import Foundation
import Synchronization
import Testing
import XDPKit
import XDPKitTestSupport

/// `struct record` of RingBufferProgram.c: 16 bytes, no padding.
private struct RingRecord: BitwiseCopyable, Equatable, CustomStringConvertible {
  var sequence: UInt32
  var length: UInt32
  var magic: UInt64

  /// The record's bytes as the program writes them (little-endian, as on the host).
  var bytes: [UInt8] { withUnsafeBytes(of: self) { Array($0) } }

  var description: String { "#\(sequence) (\(length) B, magic \(String(magic, radix: 16)))" }
}

/// The `magic` each program of RingBufferProgram.c writes.
private enum Magic {
  static let output: UInt64 = 0x5249_4e47_0000_0001
  static let reserve: UInt64 = 0x5249_4e47_0000_0002
  static let noWakeup: UInt64 = 0x5249_4e47_0000_0003
}

/// RingBufferProgram.o (next to its source in Tests/XDPKitMapsTests), loaded, with its ring
/// buffer mapped.
private struct Producer {
  let loaded: LoadedObject
  let ring: RingBuffer
  /// 42 bytes: Ethernet, IPv4 and UDP with no payload, in the documentation ranges.
  let packet = Packet.ipv4UDP(source: (192, 0, 2, 1), payload: 0)

  /// Loads the object, with the ring's data area `capacity` bytes if given (else 16 KiB).
  init(capacity: UInt32? = nil) throws {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("XDPKitMapsTests/RingBufferProgram.o").path
    guard let bytes = FileManager.default.contents(atPath: path) else {
      throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
    }
    var options = LoadOptions()
    if let capacity { options.maxEntries["EVENTS"] = capacity }
    loaded = try BPFObject(bytes: [UInt8](bytes)).load(options: options)
    ring = try RingBuffer(loaded.map("EVENTS"))
  }

  /// Runs program `name` `count` times with BPF_PROG_TEST_RUN: one record (or drop) each.
  func run(_ name: String = "ringbuf_output", times count: UInt32 = 1) throws {
    let result = try loaded.program(name).testRun(packet: packet, repetitions: count)
    #expect(result.action == .pass)
  }

  /// Runs that found the ring full.
  var dropped: UInt32 {
    get throws { try loaded.global("dropped", as: UInt32.self) }
  }

  /// What ringbuf_output writes on run number `sequence`.
  func outputRecord(_ sequence: UInt32, magic: UInt64 = Magic.output) -> RingRecord {
    RingRecord(sequence: sequence, length: UInt32(packet.count), magic: magic)
  }

  /// Drains the ring, decoding each record; records of another size fail the test.
  func drainRecords() -> [RingRecord] {
    var records: [RingRecord] = []
    ring.drain { bytes in
      #expect(bytes.count == MemoryLayout<RingRecord>.stride)
      records.append(bytes.loadUnaligned(as: RingRecord.self))
    }
    return records
  }
}

/// A record occupies its 16 bytes plus the 8-byte header, already a multiple of 8.
private let recordSpace = 24

@Suite("RingBuffer with BPF producers", .kernel)
struct RingBufferTests {
  @Test("100 records arrive in order through the async sequence, byte for byte")
  func hundredInOrder() async throws {
    let producer = try Producer()
    try producer.run(times: 100)
    #expect(producer.ring.unconsumedBytes == 100 * recordSpace)
    let received = try await value(within: .seconds(10)) { [ring = producer.ring] in
      var records: [[UInt8]] = []
      for await record in ring.records() {
        records.append(record)
        if records.count == 100 { break }
      }
      return records
    }
    #expect(received == (0..<100).map { producer.outputRecord($0).bytes })
    #expect(producer.ring.unconsumedBytes == 0)
    #expect(producer.ring.consumerPosition == UInt64(100 * recordSpace))
    #expect(producer.ring.drain() == 0)
    #expect(try producer.dropped == 0)
  }

  @Test("drain hands over every available record in place, in order")
  func drainInOrder() throws {
    let producer = try Producer()
    #expect(producer.drainRecords().isEmpty)
    try producer.run(times: 7)
    #expect(producer.drainRecords() == (0..<7).map { producer.outputRecord($0) })
    try producer.run(times: 3)
    #expect(producer.ring.drain() == 3)
    #expect(producer.drainRecords().isEmpty)
  }

  @Test("1,000 records through a 4 KiB ring: records wrap past the end and stay whole")
  func wrapAround() throws {
    let producer = try Producer(capacity: 4096)
    #expect(producer.ring.capacity == 4096)
    var received: [RingRecord] = []
    for _ in 0..<20 {
      try producer.run(times: 50)  // 1,200 bytes: the ring never fills
      received += producer.drainRecords()
    }
    #expect(received.count == 1000)
    #expect(received == (0..<1000).map { producer.outputRecord($0) })
    #expect(try producer.dropped == 0)
    // 24,000 bytes went through the ring: it wrapped five times, and since 4096 is not a
    // multiple of 24, records straddled the end of the data area.
    #expect(producer.ring.consumerPosition == UInt64(1000 * recordSpace))
    #expect(producer.ring.producerPosition == UInt64(1000 * recordSpace))
  }

  @Test("a full ring drops new records; draining makes room again")
  func fullRing() throws {
    let producer = try Producer(capacity: 4096)
    try producer.run(times: 200)
    // A reservation must leave the producer less than a whole ring ahead: 170 * 24 = 4080.
    #expect(try producer.dropped == 30)
    #expect(producer.ring.unconsumedBytes == 170 * recordSpace)
    #expect(producer.drainRecords() == (0..<170).map { producer.outputRecord($0) })
    try producer.run(times: 10)
    #expect(producer.drainRecords() == (200..<210).map { producer.outputRecord($0) })
    #expect(try producer.dropped == 30)
  }

  @Test("discarded records are skipped, and their space is released")
  func discardedRecords() throws {
    let producer = try Producer()
    try producer.run("ringbuf_reserve", times: 20)
    #expect(producer.ring.unconsumedBytes == 20 * recordSpace)
    let expected = stride(from: UInt32(0), to: 20, by: 2).map {
      producer.outputRecord($0, magic: Magic.reserve)
    }
    #expect(producer.drainRecords() == expected)
    #expect(producer.ring.unconsumedBytes == 0)
    #expect(producer.ring.consumerPosition == UInt64(20 * recordSpace))
  }

  @Test("the typed sequence receives records produced after iteration began")
  func typedRecordsAfterStart() async throws {
    let producer = try Producer()
    let iteration = Task { [ring = producer.ring] in
      var records: [RingRecord] = []
      for try await record in ring.records(as: RingRecord.self) {
        records.append(record)
        if records.count == 10 { break }
      }
      return records
    }
    try await Task.sleep(for: .milliseconds(150))  // the iterator is waiting in epoll by now
    try producer.run(times: 4)
    try await Task.sleep(for: .milliseconds(50))
    try producer.run(times: 6)
    let received = try await value(of: iteration, within: .seconds(10))
    #expect(received == (0..<10).map { producer.outputRecord($0) })
  }

  @Test("records written with BPF_RB_NO_WAKEUP reach a waiting iterator within a slice or two")
  func noWakeup() async throws {
    let producer = try Producer()
    let iteration = Task { [ring = producer.ring] in
      var records: [RingRecord] = []
      for try await record in ring.records(as: RingRecord.self) {
        records.append(record)
        if records.count == 3 { break }
      }
      return records
    }
    try await Task.sleep(for: .milliseconds(150))
    let clock = ContinuousClock()
    let start = clock.now
    try producer.run("ringbuf_no_wakeup", times: 3)
    let received = try await value(of: iteration, within: .seconds(10))
    #expect(received == (0..<3).map { producer.outputRecord($0, magic: Magic.noWakeup) })
    #expect(start.duration(to: clock.now) < .seconds(10))  // promptly, with room for a loaded 2-core CI machine
  }

  @Test("cancelling the iterating task ends the sequence at once and consumes nothing more")
  func cancellation() async throws {
    let producer = try Producer()
    try producer.run(times: 2)
    let readCount = Locked(0)
    let iteration = Task { [ring = producer.ring] in
      var records: [[UInt8]] = []
      for await record in ring.records() {
        records.append(record)
        readCount.value.withLock { $0 = records.count }
      }
      return records  // the sequence ended: the task was cancelled
    }
    // Wait (bounded) until both records are read; the iterator then waits for a third.
    let clock = ContinuousClock()
    let readBy = clock.now.advanced(by: .seconds(10))
    while readCount.value.withLock({ $0 }) < 2 && clock.now < readBy {
      try await Task.sleep(for: .milliseconds(10))
    }
    try await Task.sleep(for: .milliseconds(100))
    let start = clock.now
    iteration.cancel()
    let received = try await value(of: iteration, within: .seconds(5))
    // Resumed by the cancellation handler, not at the end of a wait slice: typically well
    // under a millisecond; the bound leaves room for a loaded machine.
    #expect(start.duration(to: clock.now) < .seconds(10))  // promptly, with room for a loaded 2-core CI machine
    #expect(received == (0..<2).map { producer.outputRecord($0).bytes })
    // Records written after the cancellation are still in the ring for the next reader.
    try producer.run(times: 1)
    try await Task.sleep(for: .milliseconds(100))
    #expect(producer.drainRecords() == [producer.outputRecord(2)])
  }

  @Test("after a cancelled wait, nothing keeps the ring buffer alive")
  func releasedAfterCancelledWait() async throws {
    weak var released: RingBuffer?
    do {
      let producer = try Producer()
      released = producer.ring
      let iteration = Task { [ring = producer.ring] in
        for await _ in ring.records() {}
      }
      try await Task.sleep(for: .milliseconds(100))  // waiting in epoll on the wait queue
      iteration.cancel()
      try await value(of: iteration, within: .seconds(5))
    }
    // The wait on the Dispatch queue notices the cancellation within one slice and lets go.
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .seconds(5))
    while released != nil && clock.now < deadline {
      try await Task.sleep(for: .milliseconds(10))
    }
    #expect(released == nil)
  }

  @Test("a task cancelled before it iterates gets no record, and the records stay")
  func cancelledBeforeStart() async throws {
    let producer = try Producer()
    try producer.run(times: 1)
    let iteration = Task { [ring = producer.ring] in
      withUnsafeCurrentTask { $0?.cancel() }
      var iterator = ring.records(as: RingRecord.self).makeAsyncIterator()
      return try await iterator.next()
    }
    #expect(try await value(of: iteration, within: .seconds(5)) == nil)
    #expect(producer.drainRecords() == [producer.outputRecord(0)])
  }

  @Test("a record of another size ends the typed sequence with a size mismatch")
  func sizeMismatch() async throws {
    let producer = try Producer()
    try producer.run("ringbuf_short", times: 1)
    try producer.run(times: 1)
    let outcome = try await value(within: .seconds(10)) { [ring = producer.ring] in
      var iterator = ring.records(as: RingRecord.self).makeAsyncIterator()
      var error: RingBufferError?
      do {
        _ = try await iterator.next()
      } catch let thrown as RingBufferError {
        error = thrown
      }
      let afterwards = try await iterator.next()  // the iteration is over
      return (error, afterwards)
    }
    #expect(outcome.0 == .recordSizeMismatch(map: "EVENTS", expected: 16, actual: 4))
    #expect(outcome.1 == nil)
    // The short record was consumed; the one after it is still there.
    #expect(producer.drainRecords() == [producer.outputRecord(1)])
    // As bytes, a short record is just 4 bytes.
    try producer.run("ringbuf_short", times: 1)
    let bytes = try await value(within: .seconds(10)) { [ring = producer.ring] in
      var iterator = ring.records().makeAsyncIterator()
      return await iterator.next()
    }
    #expect(bytes == [2, 0, 0, 0])
  }

  @Test("poll blocks until a record is committed, then returns it")
  func pollWakesUp() throws {
    let producer = try Producer()
    let runs = Locked<[any Error]>([])
    DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) { [producer] in
      do { try producer.run(times: 1) } catch { runs.value.withLock { $0.append(error) } }
    }
    let clock = ContinuousClock()
    var records: [RingRecord] = []
    let elapsed = try clock.measure {
      let count = try producer.ring.poll(timeout: .seconds(10)) { bytes in
        records.append(bytes.loadUnaligned(as: RingRecord.self))
      }
      #expect(count == 1)
    }
    #expect(runs.value.withLock { $0.isEmpty })
    #expect(records == [producer.outputRecord(0)])
    #expect(elapsed < .seconds(5))
    // With records waiting, poll does not wait at all.
    try producer.run(times: 2)
    #expect(try producer.ring.poll(timeout: .seconds(10)) { _ in } == 2)
  }

  @Test("two iterators share the records: each exactly once, each in order")
  func twoIterators() async throws {
    let producer = try Producer()
    let total = 200
    let seen = Locked(0)
    func reader(_ ring: RingBuffer) -> Task<[UInt32], Error> {
      Task {
        var sequences: [UInt32] = []
        for try await record in ring.records(as: RingRecord.self) {
          sequences.append(record.sequence)
          if seen.value.withLock({ $0 += 1; return $0 }) == total { break }
        }
        return sequences
      }
    }
    let first = reader(producer.ring)
    let second = reader(producer.ring)
    for _ in 0..<20 {
      try producer.run(times: 10)
      try await Task.sleep(for: .milliseconds(5))
    }
    // One reader breaks at the last record; the other is then waiting and is cancelled.
    let deadline = ContinuousClock.now + .seconds(10)
    while seen.value.withLock({ $0 }) < total && ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(10))
    }
    first.cancel()
    second.cancel()
    let a = try await value(of: first, within: .seconds(5))
    let b = try await value(of: second, within: .seconds(5))
    #expect(a == a.sorted())
    #expect(b == b.sorted())
    #expect((a + b).sorted() == (0..<UInt32(total)).map { $0 })
  }
}

// MARK: - Bounded waits

/// A `Mutex` that escaping closures can share.
private final class Locked<Value: Sendable>: Sendable {
  let value: Mutex<Value>
  init(_ initial: Value) { value = Mutex(initial) }
}

/// The test waited longer than its bound.
private struct TimedOut: Error, CustomStringConvertible {
  let timeout: Duration
  var description: String { "no result within \(timeout)" }
}

/// Runs `body` in a new task and returns its result, or cancels the task and throws
/// ``TimedOut`` after `timeout`.
private func value<T: Sendable>(
  within timeout: Duration, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
  try await value(of: Task { try await body() }, within: timeout)
}

/// The result of `task`, or ``TimedOut`` after `timeout` (the task is then cancelled). Never
/// waits for a task that does not finish: the test fails instead of hanging.
private func value<T: Sendable, Failure: Error>(
  of task: Task<T, Failure>, within timeout: Duration
) async throws -> T {
  let outcome = Locked<CheckedContinuation<T, Error>?>(nil)
  return try await withCheckedThrowingContinuation { continuation in
    outcome.value.withLock { $0 = continuation }
    Task {
      let result = await task.result
      outcome.value.withLock { $0.take() }?.resume(with: result.mapError { $0 })
    }
    Task {
      try? await Task.sleep(for: timeout)
      guard let pending = outcome.value.withLock({ $0.take() }) else { return }
      task.cancel()
      pending.resume(throwing: TimedOut(timeout: timeout))
    }
  }
}
