// The reader and cold fragments (`name.cold`, `name.cold.N`): facts of Fixtures/cold_fragment.o
// (see Fixtures/README.md), checked with `llvm-objdump -d -r`.

import Testing

@testable import XDPKitObject

@Suite("Cold fragments are part of their function, not programs")
struct ColdFragmentTests {
  @Test("xdp_split.cold is a fragment of xdp_split; the programs are xdp_split and xdp_after")
  func fixture() throws {
    let object = try BPFObject(bytes: fixtureBytes("cold_fragment"))
    #expect(object.programs.map(\.name) == ["xdp_split", "xdp_after"])
    let functions = object.functions.map { "\($0.name)@\($0.offset)+\($0.size) of \($0.fragmentOf ?? "-")" }
    #expect(functions == [
      "split_helper@0+48 of -", "split_helper.cold.1@48+16 of split_helper",
      "xdp_split@0+64 of -", "xdp_split.cold@64+88 of xdp_split", "xdp_after@152+16 of -",
    ])
    let split = try object.program(named: "xdp_split").function
    #expect(object.fragments(of: split).map(\.name) == ["xdp_split.cold"])
    #expect(object.fragments(of: try object.program(named: "xdp_after").function).isEmpty)
    // The map relocation lies in the fragment (instruction 12 of the section), not the program.
    #expect(try object.program(named: "xdp_split").relocations.isEmpty)
    let relocations = try #require(object.relocations.first { $0.targetSectionName == "xdp" }).entries
    #expect(relocations.map(\.offset) == [96, 152])
    #expect(relocations.first?.target == .map(name: "COLD_HITS"))
    let helper = try #require(object.functions.first { $0.name == "split_helper" })
    #expect(object.fragments(of: helper).map(\.name) == ["split_helper.cold.1"])
    #expect(throws: ObjectLookupError.self) { try object.program(named: "xdp_split.cold") }
  }

  @Test("the fragment suffix: .cold and .cold.N, nothing else", arguments: [
    ("f.cold", "f"), ("f.cold.2", "f"), ("xdp_split.cold.17", "xdp_split"), ("a.b.cold", "a.b"),
    ("f", nil), ("f.cold.", nil), (".cold", nil), ("f.cold.x", nil), ("f.part.0", nil), ("f.coldx", nil),
    ("cold", nil), ("f.2", nil),
  ] as [(String, String?)])
  func suffix(name: String, parent: String?) {
    #expect(BPFFunction.fragmentParentName(name) == parent)
  }
}
