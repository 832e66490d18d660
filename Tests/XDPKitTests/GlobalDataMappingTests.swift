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

  @Test("writing a .bss variable while the program counts in another loses no count")
  func noLostUpdates() async throws {
    let loaded = try TestFixtures.object("globals").load()
    let program = try loaded.program("xdp_globals")
    let packet = Packet.ipv4UDP(source: (192, 0, 2, 1), payload: 0)
    let running = Atomic(true)
    async let writes: Int = {
      var count = 0
      while running.load(ordering: .relaxed) {
        try loaded.setGlobal("drops", to: UInt32(truncatingIfNeeded: count))  // same section as packets
        count += 1
      }
      return count
    }()
    for _ in 0..<200 { _ = try program.testRun(packet: packet, repetitions: 1000) }
    running.store(false, ordering: .relaxed)
    let written = try await writes
    #expect(written > 0)
    #expect(try loaded.global("packets", as: UInt64.self) == 200_000)
  }
}
