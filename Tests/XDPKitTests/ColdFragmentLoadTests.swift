import Foundation
import Testing
import XDPKit
import XDPKitTestSupport

@Suite("Cold fragments load with their function", .kernel)
struct ColdFragmentLoadTests {
  @Test("short frames run the cold fragments: of xdp_split (XDP_DROP, counted in COLD_HITS[0]) and of the called split_helper")
  func runsTheFragment() throws {
    let loaded = try TestFixtures.object("cold_fragment").load()
    defer { loaded.close() }
    #expect(loaded.programNames == ["xdp_after", "xdp_split"])
    let split = try loaded.program("xdp_split")
    // 8 instructions of xdp_split, then the 11 of xdp_split.cold behind them.
    #expect(split.instructionCount == 19)
    let hits = try loaded.arrayMap("COLD_HITS", value: UInt64.self)

    let short = Packet.ipv4UDP(source: (192, 0, 2, 1), payload: 18)  // 60 bytes
    let long = Packet.ipv4UDP(source: (192, 0, 2, 1), payload: 30)  // 72 bytes
    #expect(short.count == 60 && long.count == 72)
    #expect(try split.testRun(packet: long).action == .pass)
    #expect(try hits.value(at: 0) == 0)
    #expect(try split.testRun(packet: short).action == .drop)
    #expect(try hits.value(at: 0) == 1)
    #expect(try split.testRun(packet: short, repetitions: 3).action == .drop)
    #expect(try hits.value(at: 0) == 4)
    // xdp_after calls split_helper, laid out with its fragment: 2 + 6 + 2 instructions.
    let after = try loaded.program("xdp_after")
    #expect(after.instructionCount == 10)
    #expect(try after.testRun(packet: long).action == .transmit)
    #expect(try after.testRun(packet: short).action == .drop)
    #expect(try hits.value(at: 0) == 4)
  }

  @Test("a jump into a function that is not a fragment is an error naming both")
  func jumpIntoAnotherFunction() throws {
    // The same object with the fragment renamed to xdp_split.colx: now an ordinary function.
    var bytes = try [UInt8](Data(contentsOf: TestFixtures.directory.appendingPathComponent("cold_fragment.o")))
    let name = Array("xdp_split.cold\0".utf8)
    let at = try #require((0...(bytes.count - name.count)).first { Array(bytes[$0..<($0 + name.count)]) == name })
    bytes[at + name.count - 2] = UInt8(ascii: "x")
    let object = try BPFObject(bytes: bytes)
    #expect(object.programs.map(\.name) == ["xdp_split", "xdp_split.colx", "xdp_after"])
    #expect {
      try object.load(options: LoadOptions(programs: ["xdp_split"]))
    } throws: { error in
      "\(error)" == "relocate program xdp_split: instruction at byte 24: jump at instruction 3 of xdp_split "
        + "leaves it for xdp_split.colx, which is neither its fragment nor its parent"
    }
  }
}
