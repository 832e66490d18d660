import Foundation
import Testing
import XDPKitObject
import XDPKitSys
import XDPKitTestSupport

@testable import XDPKitMaps

// The parts of RingBuffer that need a ring buffer map but no producer. Reading records that BPF
// programs wrote is tested end to end in Tests/XDPKitTests/RingBufferTests.swift, where the
// loader is available.
@Suite("RingBuffer on the real kernel, without a producer", .kernel, .serialized)
struct RingBufferMapTests {
  @Test("a map of another type is refused before any call")
  func wrongType() throws {
    let hash = try makeMap(.hash, keySize: 4, valueSize: 4, maxEntries: 4, name: "rb_hash")
    #expect(throws: MapError.wrongType(map: "rb_hash", expected: [.ringBuffer], actual: .hash)) {
      try RingBuffer(hash)
    }
    let array = try makeMap(.array, keySize: 4, valueSize: 8, maxEntries: 4, name: "rb_array")
    #expect(throws: MapError.wrongType(map: "rb_array", expected: [.ringBuffer], actual: .array)) {
      try RingBuffer(array)
    }
  }

  @Test("a definition that claims a ring buffer is checked against the kernel")
  func wrongTypeInKernel() throws {
    let hash = try makeMap(.hash, keySize: 4, valueSize: 4, maxEntries: 4, name: "rb_liar")
    let claimed = BPFMap(
      fileDescriptor: hash.fileDescriptor, name: "rb_liar", type: .ringBuffer, keySize: 0,
      valueSize: 0, maxEntries: 16384)
    #expect(throws: MapError.wrongType(map: "rb_liar", expected: [.ringBuffer], actual: .hash)) {
      try RingBuffer(claimed)
    }
  }

  @Test("a new ring buffer maps, is empty, and drains nothing")
  func emptyRing() throws {
    let map = try makeMap(.ringBuffer, keySize: 0, valueSize: 0, maxEntries: 16384, name: "rb_empty")
    let ring = try RingBuffer(map)
    #expect(ring.capacity == 16384)
    #expect(ring.unconsumedBytes == 0)
    #expect(ring.consumerPosition == 0)
    #expect(ring.producerPosition == 0)
    #expect(ring.drain() == 0)
    var seen = 0
    #expect(ring.drain { _ in seen += 1 } == 0)
    #expect(seen == 0)
    #expect(ring.mapping.pageSize == Int(sysconf(Int32(_SC_PAGESIZE))))
    #expect(ring.description == "ring buffer rb_empty (16384 B, \(map.fileDescriptor))")
  }

  @Test("the size of the data area comes from the kernel, not from the definition")
  func capacityFromKernel() throws {
    let map = try makeMap(.ringBuffer, keySize: 0, valueSize: 0, maxEntries: 8192, name: "rb_size")
    let understated = BPFMap(
      fileDescriptor: map.fileDescriptor, name: "rb_size", type: .ringBuffer, keySize: 0,
      valueSize: 0, maxEntries: 4096)
    #expect(try RingBuffer(understated).capacity == 8192)
  }

  @Test("poll on an empty ring waits for the timeout and returns 0")
  func pollTimesOut() throws {
    let map = try makeMap(.ringBuffer, keySize: 0, valueSize: 0, maxEntries: 4096, name: "rb_poll")
    let ring = try RingBuffer(map)
    let clock = ContinuousClock()
    var count = -1
    let elapsed = try clock.measure {
      count = try ring.poll(timeout: .milliseconds(60)) { _ in Issue.record("no record expected") }
    }
    #expect(count == 0)
    #expect(elapsed >= .milliseconds(60))
    #expect(elapsed < .seconds(5))
    #expect(try ring.poll(timeout: .zero) { _ in } == 0)
  }

  @Test("a map opened read-only cannot be mapped: the error names mmap")
  func readOnlyDescriptor() throws {
    let map = try makeMap(.ringBuffer, keySize: 0, valueSize: 0, maxEntries: 4096, name: "rb_ro")
    let readOnly = try BPFMap.open(id: map.id, access: .readOnly)
    #expect(readOnly.type == .ringBuffer)
    do {
      _ = try RingBuffer(readOnly)
      Issue.record("mapping the consumer page writable through a read-only descriptor succeeded")
    } catch {
      guard case .syscall(let name, let cause) = error else {
        Issue.record("unexpected error \(error)")
        return
      }
      #expect(name == "rb_ro")
      #expect(cause.operation == .mmap)
      // mmap(2) refuses a writable shared mapping of a descriptor not open for writing.
      #expect(cause.errno == .permissionDenied, "\(cause)")
    }
  }

  @Test("the mappings and the epoll descriptor are released when the last reference goes")
  func releasesOnDeinit() throws {
    let map = try makeMap(.ringBuffer, keySize: 0, valueSize: 0, maxEntries: 4096, name: "rb_deinit")
    var consumer = 0
    var producer = 0
    var epoll: Int32 = -1
    do {
      let ring = try RingBuffer(map)
      consumer = Int(bitPattern: ring.mapping.consumerPage)
      producer = Int(bitPattern: ring.mapping.producerPage)
      epoll = ring.epoll.epoll.rawValue
      let mapped = try mappedRanges()
      #expect(mapped[consumer] == consumer + ring.mapping.pageSize)
      #expect(mapped[producer] == producer + ring.mapping.pageSize + 2 * 4096)
      #expect(descriptorTarget(epoll) == "anon_inode:[eventpoll]")
      #expect(ring.drain() == 0)
    }
    let mapped = try mappedRanges()
    #expect(mapped[consumer] == nil)
    #expect(mapped[producer] == nil)
    #expect(descriptorTarget(epoll) != "anon_inode:[eventpoll]")
    // The map itself is still open and can be mapped again.
    #expect(try RingBuffer(map).drain() == 0)
  }

  @Test("several ring buffers over one map share its positions")
  func twoReadersOneMap() throws {
    let map = try makeMap(.ringBuffer, keySize: 0, valueSize: 0, maxEntries: 4096, name: "rb_two")
    let first = try RingBuffer(map)
    let second = try RingBuffer(map)
    #expect(first.mapping.consumerPage != second.mapping.consumerPage)
    #expect(first.consumerPosition == second.consumerPosition)
    #expect(first.producerPosition == second.producerPosition)
  }

  @Test("timeouts are rounded up to whole milliseconds for epoll_wait")
  func millisecondRounding() {
    #expect(RingBuffer.milliseconds(roundingUp: .zero) == 0)
    #expect(RingBuffer.milliseconds(roundingUp: .nanoseconds(1)) == 1)
    #expect(RingBuffer.milliseconds(roundingUp: .milliseconds(50)) == 50)
    #expect(RingBuffer.milliseconds(roundingUp: .microseconds(50_001)) == 51)
    #expect(RingBuffer.milliseconds(roundingUp: .seconds(3)) == 3000)
    #expect(RingBuffer.milliseconds(roundingUp: .seconds(Int64.max)) == Int32.max)
    #expect(RingBuffer.asyncWaitSlice == .milliseconds(50))
  }

  @Test("the size mismatch error names the map and both sizes")
  func errorDescription() {
    let error = RingBufferError.recordSizeMismatch(map: "EVENTS", expected: 16, actual: 4)
    #expect(
      error.description
        == "ring buffer EVENTS: a record of 4 bytes, the Swift record type's stride is 16 bytes")
  }
}

/// The start and end addresses of every mapping of this process, from /proc/self/maps.
private func mappedRanges() throws -> [Int: Int] {
  // procfs files report a size of 0, so they are read to the end here rather than by
  // Foundation, which would stop after the first buffer.
  guard let file = fopen("/proc/self/maps", "r") else {
    throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: "/proc/self/maps"])
  }
  defer { fclose(file) }
  var bytes: [UInt8] = []
  var buffer = [UInt8](repeating: 0, count: 65536)
  while true {
    let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
    if count == 0 { break }
    bytes += buffer[..<count]
  }
  var ranges: [Int: Int] = [:]
  for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
    guard let range = line.split(separator: " ").first else { continue }
    let bounds = range.split(separator: "-")
    guard bounds.count == 2, let start = Int(bounds[0], radix: 16),
      let end = Int(bounds[1], radix: 16)
    else { continue }
    ranges[start] = end
  }
  return ranges
}

/// What `/proc/self/fd/<fd>` links to, or `nil` if the descriptor is not open.
private func descriptorTarget(_ fd: Int32) -> String? {
  try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")
}
