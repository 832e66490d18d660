import Testing
import XDPKit
import XDPKitTestSupport

/// One program of core_kinds.o per relocation kind: (program, kind, path, relocation number,
/// instruction index in the program).
let coreKindPrograms: [(String, BTFExt.CORERelocation.Kind, String, Int, Int)] = [
  ("core_field_offset", .fieldByteOffset, "task_struct.tgid", 0, 0),
  ("core_field_size", .fieldByteSize, "task_struct.comm", 1, 0),
  ("core_field_exists", .fieldExists, "task_struct.pid", 2, 0),
  ("core_field_signed", .fieldSigned, "task_struct.pid", 3, 0),
  ("core_field_lshift", .fieldLeftShiftU64, "sk_buff.pkt_type", 4, 0),
  ("core_field_rshift", .fieldRightShiftU64, "sk_buff.pkt_type", 5, 0),
  ("core_type_id_local", .typeIDLocal, "task_struct", 6, 0),
  ("core_type_id_target", .typeIDTarget, "task_struct", 7, 0),
  ("core_type_exists", .typeExists, "task_struct", 8, 0),
  ("core_type_size", .typeSize, "task_struct", 9, 0),
  ("core_enum_exists", .enumValueExists, "xdp_action___local::XDPKIT_MISSING___local", 10, 0),
  ("core_enum_value", .enumValueValue, "xdp_action___local::XDP_REDIRECT___local", 11, 0),
  ("core_type_matches", .typeMatches, "xdpkit_missing___local", 12, 0),
]

@Suite("CO-RE relocations are never ignored", .kernel)
struct CORERefusalTests {
  @Test("a program with a CO-RE relocation of each kind is refused, naming the relocation",
        arguments: coreKindPrograms.map(\.0))
  func refusedPerKind(program: String) throws {
    let (_, kind, path, number, instruction) = try #require(coreKindPrograms.first { $0.0 == program })
    let object = try TestFixtures.object("core_kinds")
    var failure: CORERelocationFailure?
    #expect {
      try object.load(options: LoadOptions(programs: [program]))
    } throws: { error in
      guard case LoadError.coreRelocation(let f) = error else { return false }
      failure = f
      return true
    }
    let f = try #require(failure)
    #expect(f.program == program)
    #expect(f.kind == kind)
    #expect(f.path == path)
    #expect(f.number == number)
    #expect(f.instruction == instruction)
    #expect("\(LoadError.coreRelocation(f))".contains(
      "CO-RE relocation #\(number) (\(kind.summary) of \(path)"))
  }
}
