// The AF_XDP ring index protocol (Sources/XDPKit/AFXDP/XDPRing.swift) under ThreadSanitizer:
// a producer thread and a consumer thread pass values through one ring over ordinary memory,
// the code the sockets use on the kernel's mapped rings. Built and run by Tests/TSan/run.sh
// with `swiftc -sanitize=thread`; ThreadSanitizer fails the run (exit 66) on any data race,
// for instance a descriptor read before the acquire load of the producer index that
// published it.
//
//   ring-tsan [VALUES]   the protocol; exits 0 when every value arrived in order, race-free
//   ring-tsan selftest   an unsynchronised write and read on purpose: ThreadSanitizer must
//                        report it (run.sh checks that it does, so a clean run means something)
import Glibc
import Synchronization

/// Ring memory laid out like the kernel's: the producer, consumer and flags words on separate
/// cache lines, then the descriptors.
final class RingMemory: @unchecked Sendable {
  let base: UnsafeMutableRawPointer
  let size: UInt32

  init(size: UInt32) {
    self.size = size
    let bytes = 192 + Int(size) * 16
    base = .allocate(byteCount: bytes, alignment: 64)
    base.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
  }

  func ring() -> XDPRing {
    XDPRing(producer: base, consumer: base + 64, flags: base + 128, descriptors: base + 192, size: size)
  }
}

/// Runs `body` on a new thread and returns a function that joins it.
func spawn(_ body: @escaping @Sendable () -> Void) -> () -> Void {
  final class Box: @unchecked Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
  }
  var thread = pthread_t()
  let box = Unmanaged.passRetained(Box(body)).toOpaque()
  let status = pthread_create(&thread, nil, { argument in
    let box = Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue()
    box.body()
    return nil
  }, box)
  precondition(status == 0, "pthread_create: \(status)")
  return { pthread_join(thread, nil) }
}

func protocolRun(values count: UInt64) -> Int32 {
  let memory = RingMemory(size: 64)
  let mismatches = Atomic<Int>(0)
  let joinProducer = spawn {
    var ring = memory.ring()
    var next: UInt64 = 0
    while next < count {
      let room = ring.reserve(UInt32(min(16, count - next)))
      for i in 0..<room {
        ring.setDescriptor(address: next + UInt64(i), length: UInt32(truncatingIfNeeded: next) &+ i, at: ring.cachedProducer &+ i)
      }
      ring.submit(room)
      next += UInt64(room)
      if room == 0 { sched_yield() }
    }
  }
  var ring = memory.ring()
  var expected: UInt64 = 0
  while expected < count {
    let available = ring.peek(32)
    for i in 0..<available {
      let descriptor = ring.descriptor(at: ring.cachedConsumer &+ i)
      if descriptor.address != expected + UInt64(i) || descriptor.length != UInt32(truncatingIfNeeded: expected) &+ i {
        mismatches.add(1, ordering: .relaxed)
      }
    }
    ring.release(available)
    expected += UInt64(available)
    if available == 0 { sched_yield() }
  }
  joinProducer()
  let wrong = mismatches.load(ordering: .relaxed)
  print("ring-tsan: \(count) values through a 64-slot ring, \(wrong) out of order")
  return wrong == 0 ? 0 : 1
}

func selfTest() -> Int32 {
  let memory = RingMemory(size: 4)
  let join = spawn { memory.base.storeBytes(of: 1, toByteOffset: 192, as: UInt64.self) }
  let value = memory.base.load(fromByteOffset: 192, as: UInt64.self)
  join()
  print("ring-tsan: selftest read \(value)")
  return 0
}

let arguments = CommandLine.arguments.dropFirst()
if arguments.first == "selftest" {
  exit(selfTest())
}
exit(protocolRun(values: arguments.first.flatMap { UInt64($0) } ?? 200_000))
