import Foundation
import Synchronization
import Testing

@testable import XDPKit

/// The single-producer, single-consumer ring protocol of AF_XDP rings, on ordinary memory:
/// the same code the sockets use on the kernel's mapped rings.
@Suite("AF_XDP ring protocol")
struct XDPRingTests {
  /// Ring memory laid out like the kernel's: producer, consumer and flags words on separate
  /// cache lines, then the descriptors.
  final class Memory: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let size: UInt32
    init(size: UInt32) {
      self.size = size
      base = .allocate(byteCount: 192 + Int(size) * 16, alignment: 64)
      base.initializeMemory(as: UInt8.self, repeating: 0, count: 192 + Int(size) * 16)
    }
    deinit { base.deallocate() }
    func ring() -> XDPRing {
      XDPRing(producer: base, consumer: base + 64, flags: base + 128, descriptors: base + 192, size: size)
    }
  }

  final class Counter: Sendable {
    let value = Atomic<Int>(0)
  }

  @Test("a full ring reserves nothing, a released slot is reserved again, an empty ring peeks nothing")
  func fullAndEmpty() {
    let memory = Memory(size: 8)
    var producer = memory.ring()
    var consumer = memory.ring()
    #expect(consumer.peek(4) == 0)
    #expect(producer.reserve(20) == 8)
    for i in 0..<UInt32(8) { producer.setAddress(UInt64(100 + i), at: producer.cachedProducer &+ i) }
    producer.submit(8)
    #expect(producer.reserve(1) == 0)
    #expect(consumer.peek(3) == 3)
    #expect(consumer.address(at: consumer.cachedConsumer) == 100)
    consumer.release(3)
    #expect(producer.reserve(5) == 3)
    #expect(consumer.peek(10) == 5)
    #expect(consumer.address(at: consumer.cachedConsumer &+ 4) == 107)
    #expect(memory.ring().needsWakeup == false)
  }

  @Test("indices wrap around 2^32 without losing a slot")
  func wraparound() {
    let memory = Memory(size: 4)
    let start = UInt32.max - 1
    memory.base.storeBytes(of: start, as: UInt32.self)
    memory.base.storeBytes(of: start, toByteOffset: 64, as: UInt32.self)
    var producer = memory.ring()
    var consumer = memory.ring()
    #expect(producer.reserve(4) == 4)
    for i in 0..<UInt32(4) {
      producer.setDescriptor(address: UInt64(i), length: 60 + i, at: producer.cachedProducer &+ i)
    }
    producer.submit(4)
    #expect(consumer.peek(4) == 4)
    #expect(consumer.descriptor(at: consumer.cachedConsumer &+ 3) == (3, 63))
    consumer.release(4)
    #expect(memory.base.load(fromByteOffset: 64, as: UInt32.self) == 2)
  }

  /// Runs `body` on a thread of its own (not a task: the two sides spin on each other, and two
  /// tasks spinning in the cooperative pool can each wait forever for a pool thread the other
  /// test holds). Returns a function that waits for it.
  static func startThread(_ body: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
      body()
      done.signal()
    }
    thread.start()
    return { done.wait() }
  }

  @Test("a producer and a consumer thread pass 200000 values in order")
  func threads() {
    let memory = Memory(size: 64)
    let count: UInt64 = 200_000
    let mismatches = Counter()
    let producer = Self.startThread {
      var ring = memory.ring()
      var next: UInt64 = 0
      while next < count {
        let room = ring.reserve(UInt32(min(16, count - next)))
        for i in 0..<room { ring.setAddress(next + UInt64(i), at: ring.cachedProducer &+ i) }
        ring.submit(room)
        next += UInt64(room)
        if room == 0 { sched_yield() }
      }
    }
    let consumer = Self.startThread {
      var ring = memory.ring()
      var expected: UInt64 = 0
      while expected < count {
        let available = ring.peek(32)
        for i in 0..<available where ring.address(at: ring.cachedConsumer &+ i) != expected + UInt64(i) {
          mismatches.value.add(1, ordering: .relaxed)
        }
        ring.release(available)
        expected += UInt64(available)
        if available == 0 { sched_yield() }
      }
    }
    producer()
    consumer()
    #expect(mismatches.value.load(ordering: .relaxed) == 0)
  }
}
