import Foundation
import Synchronization
import Testing
import XDPKit
import XDPKitSys
import XDPKitTestSupport

/// Direct (mmapped) element access to array maps created with BPF_F_MMAPABLE: the program's
/// counts read as memory, atomic adds from Swift while the program counts, the errors for maps
/// without the flag, for a read-only mapping and for an index out of range.
@Suite("ArrayMap direct element access", .kernel)
struct ArrayMapDirectAccessTests {
  static let packet = Packet.ipv4UDP(source: (192, 0, 2, 1), payload: 0)

  @Test("the program's increments read through the mapping, exactly, and a Swift write is what the program reads")
  func programCountsReadAsMemory() throws {
    let loaded = try TestFixtures.object("mmap_array").load()
    let counters = try loaded.arrayMap("COUNTERS", value: UInt64.self)
    #expect(counters.isMappable)
    let program = try loaded.program("xdp_mmap_count")
    _ = try program.testRun(packet: Self.packet, repetitions: 1000)
    #expect(try counters.mappedValue(at: 1) == 1000)
    #expect(try counters.atomicValue(at: 1) == 1000)
    #expect(try counters.pointer(at: 1).pointee == 1000)
    #expect(try counters.value(at: 1) == 1000)  // BPF_MAP_LOOKUP_ELEM agrees
    #expect(try counters.mappedValue(at: 0) == 0)

    // A store through the mapping is what the program copies next.
    try counters.setMapped(0xABCD_0123, at: 2)
    _ = try program.testRun(packet: Self.packet)
    #expect(try loaded.arrayMap("PLAIN", value: UInt64.self).value(at: 0) == 0xABCD_0123)
    #expect(try counters.mappedValue(at: 1) == 1001)
    // A write through bpf(2) shows in the mapping.
    try counters.set(7, at: 3)
    #expect(try counters.mappedValue(at: 3) == 7)
  }

  @Test("atomic adds from Swift while the program counts lose nothing")
  func atomicAddsWhileTheProgramRuns() throws {
    let loaded = try TestFixtures.object("mmap_array").load()
    let counters = try loaded.arrayMap("COUNTERS", value: UInt64.self)
    let program = try loaded.program("xdp_mmap_count")
    // The adder is a thread of its own: the cooperative pool may be held by other tests.
    let running = Atomic(true)
    let added = Atomic(0)
    let failed = Atomic(false)
    let adder = Thread {
      var count = 0
      while running.load(ordering: .acquiring) {
        do { try counters.wrappingAdd(1, at: 1) } catch { failed.store(true, ordering: .releasing) }
        count += 1
        added.store(count, ordering: .releasing)
      }
    }
    adder.start()
    for _ in 0..<10_000 where added.load(ordering: .acquiring) == 0 { usleep(1000) }
    for _ in 0..<200 { _ = try program.testRun(packet: Self.packet, repetitions: 1000) }
    let addedDuringRuns = added.load(ordering: .acquiring)
    running.store(false, ordering: .releasing)
    while !adder.isFinished { usleep(1000) }
    let anyFailed = failed.load(ordering: .acquiring)
    #expect(!anyFailed)
    #expect(addedDuringRuns > 0)
    let total = added.load(ordering: .acquiring)
    #expect(try counters.atomicValue(at: 1) == UInt64(200_000 + total))
    #expect(try counters.wrappingSubtract(UInt64(total), at: 1) == 200_000)
  }

  @Test("a map without BPF_F_MMAPABLE, an index out of range and a frozen map fail with their errors")
  func errors() throws {
    let loaded = try TestFixtures.object("mmap_array").load()
    let plain = try loaded.arrayMap("PLAIN", value: UInt64.self)
    #expect(!plain.isMappable)
    #expect(throws: MapError.notMappable(map: "PLAIN", reason: "it was created without BPF_F_MMAPABLE")) {
      try plain.mappedValue(at: 0)
    }
    #expect(throws: MapError.notMappable(map: "PLAIN", reason: "it was created without BPF_F_MMAPABLE")) {
      try plain.wrappingAdd(1, at: 0)
    }
    let counters = try loaded.arrayMap("COUNTERS", value: UInt64.self)
    #expect(throws: MapError.indexOutOfRange(map: "COUNTERS", index: 4, count: 4)) {
      try counters.pointer(at: 4)
    }
    // A frozen .rodata section is mmapable and mapped read-only: reads work, writes are refused.
    let globals = try TestFixtures.object("globals").load()
    let config = try ArrayMap<UInt32>(try globals.dataMap(".rodata.cfg"))
    #expect(config.isMappable == KernelFeatures.mmapableArrays.isSupported)
    if config.isMappable {
      #expect(try config.mappedValue(at: 0) == 100)
      #expect(throws: MapError.readOnlyMapping(map: ".rodata.cfg")) { try config.wrappingAdd(1, at: 0) }
      #expect(throws: MapError.readOnlyMapping(map: ".rodata.cfg")) { try config.mutablePointer(at: 0) }
    }
  }
}
