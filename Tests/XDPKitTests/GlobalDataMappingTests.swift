import Foundation
import Synchronization
import Testing
import XDPKit
import XDPKitSys
import XDPKitTestSupport

/// Data sections created mmapable and mmapped: globals are memory, and writing one no longer
/// rewrites the section around it.
@Suite("Mmapped global data", .kernel)
struct GlobalDataMappingTests {
  static let mmapable: UInt32 = 1 << 10

  @Test("every data section of the globals fixture is mmapable and mapped; reads and writes go through memory")
  func mapped() throws {
    #expect(KernelFeatures.mmapableArrays.isSupported)
    let loaded = try TestFixtures.object("globals").load(options: LoadOptions(globals: ["enabled": UInt8(1), "mode": UInt32(2)]))
    for section in [".data", ".bss", ".rodata", ".data.custom", ".rodata.cfg"] {
      #expect(try loaded.isMapped(section: section), "\(section)")
      #expect(try loaded.dataMap(section).flags & Self.mmapable != 0, "\(section)")
    }
    let program = try loaded.program("xdp_globals")
    _ = try program.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1), payload: 0), repetitions: 3)
    #expect(try loaded.withGlobalPointer("packets", as: UInt64.self) { $0.pointee } == 3)
    #expect(try loaded.withGlobalPointer("mode", as: UInt32.self) { $0.pointee } == 2)
    // A write through the pointer is what the program reads next.
    try loaded.withGlobalPointer("counter_seed", as: UInt32.self) { $0.pointee = 1000 }
    _ = try program.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1), payload: 0))
    #expect(try loaded.global("counter_seed", as: UInt32.self) == 1042)
    // .rodata stays frozen.
    #expect(throws: (any Error).self) { try loaded.setGlobal("mode", to: UInt32(1)) }
    #expect(try loaded.global("mode", as: UInt32.self) == 2)
  }

  @Test("a MappedGlobal handle reads what the program wrote and writes what it reads next; read-only and wrong-size variables are refused")
  func handle() throws {
    let loaded = try TestFixtures.object("globals").load(options: LoadOptions(globals: ["mode": UInt32(2)]))
    let program = try loaded.program("xdp_globals")
    let packets = try #require(try loaded.mappedGlobal("packets", as: UInt64.self))
    let seed = try #require(try loaded.mappedGlobal("counter_seed", as: UInt32.self))
    let mode = try #require(try loaded.mappedGlobal("mode", as: UInt32.self))
    #expect(packets.section == ".bss" && packets.isWritable)
    #expect(mode.section == ".rodata" && !mode.isWritable && mode.value == 2)
    #expect(seed.value == 7)
    _ = try program.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1), payload: 0), repetitions: 5)
    #expect(packets.value == 5)
    seed.value = 1000
    _ = try program.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1), payload: 0))
    #expect(seed.value == 1042)
    #expect(try loaded.global("counter_seed", as: UInt32.self) == 1042)
    // The handle keeps the mapping after the object is closed.
    loaded.close()
    #expect(packets.value == 6)
    #expect(throws: LoadedObjectError.self) { try loaded.mappedGlobal("packets", as: UInt64.self) }
    let other = try TestFixtures.object("globals").load()
    let narrow = Result { () throws(LoadedObjectError) in try other.mappedGlobal("packets", as: UInt32.self) }
    guard case .failure(let error) = narrow else { Issue.record("a 4-byte view of an 8-byte global was accepted"); return }
    #expect(error.description == "global packets is 8 bytes, the Swift type is 4 bytes")
  }

  @Test("writing a .bss variable while the program counts in another loses no count")
  func noLostUpdates() throws {
    let loaded = try TestFixtures.object("globals").load()
    let program = try loaded.program("xdp_globals")
    let packet = Packet.ipv4UDP(source: (192, 0, 2, 1), payload: 0)
    // The writer is a thread of its own: the cooperative pool may be held by other tests.
    let running = Atomic(true)
    let written = Atomic(0)
    let failed = Atomic(false)
    let writer = Thread {
      var count = 0
      while running.load(ordering: .acquiring) {
        do { try loaded.setGlobal("drops", to: UInt32(truncatingIfNeeded: count)) } catch { failed.store(true, ordering: .releasing) }
        count += 1
        written.store(count, ordering: .releasing)
      }
    }
    writer.start()
    // Wait (bounded) until the writer is writing, then count while it writes.
    for _ in 0..<10_000 where written.load(ordering: .acquiring) == 0 { usleep(1000) }
    for _ in 0..<200 { _ = try program.testRun(packet: packet, repetitions: 1000) }
    let writesDuringRuns = written.load(ordering: .acquiring)
    running.store(false, ordering: .releasing)
    while !writer.isFinished { usleep(1000) }
    #expect(writesDuringRuns > 0)
    let anyFailed = failed.load(ordering: .acquiring)
    #expect(!anyFailed)
    #expect(try loaded.global("packets", as: UInt64.self) == 200_000)
  }
}
