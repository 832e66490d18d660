import Foundation
import Testing
import XDPKit
import XDPKitTestSupport

/// `struct sample` of Fixtures/PerfProgram.c.
private struct Sample: BitwiseCopyable, Sendable, Equatable {
  var cpu: UInt32
  var sequence: UInt32
  var magic: UInt64
}

@Suite("PerfEventArray (kernel)", .kernel, .serialized)
struct PerfEventArrayTests {
  static let magic: UInt64 = 0x5045_5246_5341_4d50

  static func load(perRun: UInt32) throws -> LoadedObject {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/PerfProgram.o").path
    let bytes = try #require(FileManager.default.contents(atPath: path))
    return try BPFObject(bytes: [UInt8](bytes)).load(options: LoadOptions(globals: ["per_run": perRun]))
  }

  @Test("a program run on every CPU: exact sample counts per CPU, in order, none lost")
  func everyCPU() async throws {
    let loaded = try Self.load(perRun: 50)
    let array = try loaded.perfEventArray("SAMPLES")
    let cpus = try SystemInfo.possibleCPUCount()
    #expect(array.cpus == Array(0..<cpus))
    let program = try loaded.program("perf_output")
    for cpu in 0..<cpus { #expect(try program.testRun(context: [UInt8](repeating: 0, count: 8), cpu: cpu) == 0) }

    var received: [Int: [Sample]] = [:]
    var iterator = array.records(as: Sample.self).makeAsyncIterator()
    for _ in 0..<(50 * cpus) {
      let sample = try #require(try await iterator.next())
      #expect(sample.lostBefore == 0)
      received[sample.cpu, default: []].append(sample.value)
    }
    for cpu in 0..<cpus {
      #expect(received[cpu] == (0..<50).map { Sample(cpu: UInt32(cpu), sequence: $0, magic: Self.magic) })
    }
    #expect(array.drain() == 0 && array.lostSamples == 0)
    #expect(try loaded.global("failed", as: UInt32.self) == 0)
  }

  @Test("raw samples carry the kernel's padding; a full ring reports its losses before the next sample")
  func lossesAndPadding() async throws {
    let loaded = try Self.load(perRun: 256)
    // One page per CPU: a sample takes 32 bytes (8 header, 4 size, 16 data, 4 padding), and the
    // kernel leaves at least one byte of the 4096 free, so 127 fit; the other 129 of a run fail
    // with ENOSPC and are reported as lost.
    let array = try loaded.perfEventArray("SAMPLES", pagesPerCPU: 1)
    let program = try loaded.program("perf_output")
    _ = try program.testRun(context: [UInt8](repeating: 0, count: 8), cpu: 0)
    let failed = try loaded.global("failed", as: UInt32.self)
    var first: [PerfEventSample<[UInt8]>] = []
    array.drain { first.append($0) }
    #expect(first.count + Int(failed) == 256)
    #expect(failed == 129)
    #expect(first.allSatisfy { $0.cpu == 0 && $0.value.count == 20 && $0.lostBefore == 0 })
    // The kernel writes the PERF_RECORD_LOST once there is room again: before the next sample.
    _ = try program.testRun(context: [UInt8](repeating: 0, count: 8), cpu: 0)
    var iterator = array.records().makeAsyncIterator()
    let next = try #require(await iterator.next())
    #expect(next.lostBefore == UInt64(failed))
    #expect(array.lostSamples == UInt64(failed))
  }

  @Test("the wrong map type is refused")
  func wrongType() throws {
    let loaded = try Self.load(perRun: 1)
    _ = loaded
    let other = try LogFixture.object().load()
    #expect(throws: MapError.wrongType(map: "XDPKIT_LOG", expected: [.perfEventArray], actual: .ringBuffer)) {
      try PerfEventArray(other.map("XDPKIT_LOG"))
    }
  }
}
