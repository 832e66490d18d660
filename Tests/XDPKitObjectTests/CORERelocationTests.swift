import Testing

@testable import XDPKitObject

/// A local BTF (as clang writes it in an object) and a target BTF (as a kernel has it) whose
/// layouts differ in every way CO-RE has to follow.
struct COREWorld {
  var local = BTFBuilder()
  var target = BTFBuilder()
  /// Local type ids by name.
  var l: [String: BTFTypeID] = [:]

  init() throws {
    // Local.
    let int = try local.int("int", size: 4, signed: true)
    let u8 = try local.int("unsigned char", size: 1)
    let u32 = try local.int("unsigned int", size: 4)
    let u64 = try local.int("unsigned long long", size: 8)
    let long = try local.int("long", size: 8, signed: true)
    let char = try local.int("char", size: 1, signed: true)
    let index = try local.int("__ARRAY_SIZE_TYPE__", size: 4)
    l["task"] = try local.composite("task_struct___local", size: 16, [
      ("pad", try local.array(of: char, count: 3, index: index), 0, 0),
      ("pid", int, 32, 0), ("tgid", int, 64, 0),
      ("comm", try local.array(of: char, count: 4, index: index), 96, 0),
    ])
    l["skb"] = try local.composite("sk_buff", size: 16, [("pad", u64, 0, 0), ("pkt_type", u8, 64, 3)])
    l["md"] = try local.composite("md___local", size: 24, [
      ("data_end", u32, 0, 0), ("data", u64, 64, 0), ("sval", long, 128, 0),
    ])
    l["holder"] = try local.composite("holder", size: 16, [
      ("arr", try local.array(of: int, count: 4, index: index), 0, 0),
    ])
    l["outer"] = try local.composite("outer", size: 8, [("a", int, 0, 0), ("b", int, 32, 0)])
    l["action"] = try local.enumeration("action___local", [("REDIRECT___local", 40), ("MISSING___local", 41)])
    l["big"] = try local.enumeration64("big", [("BIG", 0x1_0000_0000)])
    l["dup"] = try local.composite("dup", size: 4, [("f", int, 0, 0)])
    l["same"] = try local.composite("same", size: 4, [("f", int, 0, 0)])
    l["missing"] = try local.composite("missing___local", size: 4, [("f", int, 0, 0)])
    l["int"] = int

    // Target.
    let tint = try target.int("int", size: 4, signed: true)
    let tu8 = try target.int("unsigned char", size: 1)
    let tu32 = try target.int("unsigned int", size: 4)
    let tu64 = try target.int("unsigned long long", size: 8)
    let tlong = try target.int("long", size: 8, signed: true)
    let tchar = try target.int("char", size: 1, signed: true)
    let tindex = try target.int("__ARRAY_SIZE_TYPE__", size: 4)
    let pid = try target.typedef("pid_t", tint)
    _ = try target.composite("task_struct", size: 32, [
      ("x", tlong, 0, 0), ("pid", pid, 64, 0), ("tgid", tu32, 96, 0),
      ("comm", try target.array(of: tchar, count: 16, index: tindex), 128, 0),
    ])
    _ = try target.composite("sk_buff", size: 16, [
      ("x", tu64, 0, 0), ("y", tu8, 64, 6), ("pkt_type", tu8, 70, 3),
    ])
    _ = try target.composite("md", size: 12, [("data", tu32, 0, 0), ("data_end", tu32, 32, 0), ("sval", tint, 64, 0)])
    _ = try target.composite("holder", size: 40, [
      ("pad", tu64, 0, 0), ("arr", try target.array(of: tint, count: 8, index: tindex), 64, 0),
    ])
    let anon = try target.composite(nil, size: 4, union: true, [("b", tint, 0, 0), ("c", tu32, 0, 0)])
    _ = try target.composite("outer", size: 12, [("a", tint, 0, 0), (nil, anon, 64, 0)])
    _ = try target.enumeration("action", [("PASS", 2), ("REDIRECT", 4)])
    _ = try target.enumeration64("big", [("BIG", 0x2_0000_0004)])
    _ = try target.composite("dup", size: 4, [("f", tint, 0, 0)])
    _ = try target.composite("dup___v2", size: 8, [("pad", tint, 0, 0), ("f", tint, 32, 0)])
    _ = try target.composite("same", size: 4, [("f", tint, 0, 0)])
    _ = try target.composite("same___v2", size: 4, [("f", tint, 0, 0)])
    _ = tu32
  }

  /// Resolves and patches a `mov r1, imm` at instruction 0.
  func mov(_ kind: BTFExt.CORERelocation.Kind, _ type: String, _ access: String, _ imm: Int32) throws
    -> (COREResolution, BPFInstruction)
  {
    let (resolution, code) = try relocate(
      relocation(kind, try #require(l[type]), access), local: local.btf, target: target.btf,
      [movImmediate(imm)])
    return (resolution, code[0])
  }

  func targetID(_ name: String) -> BTFTypeID? { target.btf.typeID(named: name) }
}

@Suite("CO-RE: each relocation kind against hand-built BTF")
struct CORERelocationTests {
  @Test("field byte offset follows the member to its target offset, through a flavored root")
  func fieldByteOffset() throws {
    let world = try COREWorld()
    let (resolution, insn) = try world.mov(.fieldByteOffset, "task", "0:2", 8)
    #expect(resolution.summary == "field byte offset of task_struct___local.tgid")
    #expect(resolution.localValue == 8)
    #expect(insn.immediate == 12)
    #expect(resolution.target?.rootTypeID == world.targetID("task_struct"))
  }

  @Test("field byte size of an array member is the target array's size")
  func fieldByteSize() throws {
    let (_, insn) = try COREWorld().mov(.fieldByteSize, "task", "0:3", 4)
    #expect(insn.immediate == 16)
  }

  @Test("field exists: 1 when the target has it, 0 when no candidate has it")
  func fieldExists() throws {
    let world = try COREWorld()
    #expect(try world.mov(.fieldExists, "task", "0:1", 1).1.immediate == 1)
    let (missing, insn) = try world.mov(.fieldExists, "missing", "0:0", 1)
    #expect(insn.immediate == 0)
    #expect(!missing.poisoned)
  }

  @Test("field signedness through a typedef, and a field that became unsigned")
  func fieldSigned() throws {
    let world = try COREWorld()
    #expect(try world.mov(.fieldSigned, "task", "0:1", 1).1.immediate == 1)
    #expect(try world.mov(.fieldSigned, "task", "0:2", 1).1.immediate == 0)
  }

  @Test("bitfield: byte offset, size and shifts of a 3-bit field that moved across a byte")
  func bitfield() throws {
    let world = try COREWorld()
    // Local: bits 64..66, one byte at 8. Target: bits 70..72, crosses into byte 9: a 2-byte
    // load at 8.
    #expect(try world.mov(.fieldByteOffset, "skb", "0:1", 8).1.immediate == 8)
    #expect(try world.mov(.fieldByteSize, "skb", "0:1", 1).1.immediate == 2)
    #expect(try world.mov(.fieldLeftShiftU64, "skb", "0:1", 61).1.immediate == 64 - (70 + 3 - 64))
    #expect(try world.mov(.fieldRightShiftU64, "skb", "0:1", 61).1.immediate == 61)
    #expect(try world.mov(.fieldSigned, "skb", "0:1", 0).1.immediate == 0)
  }

  @Test("array element: index into a member array that moved and grew")
  func arrayElement() throws {
    let world = try COREWorld()
    let (resolution, insn) = try world.mov(.fieldByteOffset, "holder", "0:0:2", 8)
    #expect(resolution.summary == "field byte offset of holder.arr[2]")
    #expect(insn.immediate == 8 + 2 * 4)
    // The root index steps over whole objects: holder[1].arr[2].
    #expect(try world.mov(.fieldByteOffset, "holder", "1:0:2", 24).1.immediate == 40 + 16)
    #expect(try world.mov(.fieldByteSize, "holder", "0:0:2", 4).1.immediate == 4)
  }

  @Test("an index past the local array is an error naming the step")
  func arrayIndexOutOfRange() throws {
    let world = try COREWorld()
    let holder = world.local.btf.types[Int(try #require(world.l["holder"]))]
    guard case .struct(_, let members) = holder.body else { Issue.record("holder"); return }
    let array = members[0].type
    #expect(throws: COREError.invalidAccess(step: 2, index: 4, typeID: array, reason: "the array has 4 elements")) {
      try world.mov(.fieldByteOffset, "holder", "0:0:4", 0)
    }
  }

  @Test("a member inside an anonymous union of the target")
  func anonymousMember() throws {
    let world = try COREWorld()
    let (resolution, insn) = try world.mov(.fieldByteOffset, "outer", "0:1", 4)
    #expect(insn.immediate == 8)
    #expect(resolution.target?.accessors.last?.name == "b")
  }

  @Test("type ids: local is the object's id, target the kernel's")
  func typeIDs() throws {
    let world = try COREWorld()
    let task = try #require(world.l["task"])
    let local = try relocate(relocation(.typeIDLocal, task, "0"), local: world.local.btf,
                             target: world.target.btf, loadImmediate64(UInt64(task)))
    #expect(local.instructions[0].immediate == Int32(task))
    let target = try relocate(relocation(.typeIDTarget, task, "0"), local: world.local.btf,
                              target: world.target.btf, loadImmediate64(UInt64(task)))
    #expect(target.instructions[0].immediate == Int32(try #require(world.targetID("task_struct"))))
    #expect(target.instructions[1].immediate == 0)
  }

  @Test("type exists, size and matches; all 0 for a type the target lacks")
  func typeKinds() throws {
    let world = try COREWorld()
    #expect(try world.mov(.typeExists, "task", "0", 1).1.immediate == 1)
    #expect(try world.mov(.typeSize, "task", "0", 16).1.immediate == 32)
    #expect(try world.mov(.typeExists, "missing", "0", 1).1.immediate == 0)
    #expect(try world.mov(.typeSize, "missing", "0", 4).1.immediate == 0)
    #expect(try world.mov(.typeMatches, "missing", "0", 1).1.immediate == 0)
    // dup matches (same members); task_struct does not (the local member "pad" is not there).
    #expect(try world.mov(.typeMatches, "same", "0", 1).1.immediate == 1)
    #expect(try world.mov(.typeMatches, "task", "0", 1).1.immediate == 0)
  }

  @Test("enum value and existence, with flavored enumerator names")
  func enumValues() throws {
    let world = try COREWorld()
    let action = try #require(world.l["action"])
    let value = try relocate(relocation(.enumValueValue, action, "0"), local: world.local.btf,
                             target: world.target.btf, loadImmediate64(40))
    #expect(value.resolution.summary == "enum value of action___local::REDIRECT___local")
    #expect(value.instructions[0].immediate == 4)
    let exists = try relocate(relocation(.enumValueExists, action, "1"), local: world.local.btf,
                              target: world.target.btf, loadImmediate64(1))
    #expect(exists.instructions[0].immediate == 0)
  }

  @Test("enum64: a 64-bit value goes into both halves of ld_imm64")
  func enum64() throws {
    let world = try COREWorld()
    let result = try relocate(relocation(.enumValueValue, try #require(world.l["big"]), "0"),
                              local: world.local.btf, target: world.target.btf,
                              loadImmediate64(0x1_0000_0000))
    #expect(result.instructions[0].immediate == 4)
    #expect(result.instructions[1].immediate == 2)
  }

  @Test("candidates that disagree are an error; candidates that agree are not")
  func ambiguity() throws {
    let world = try COREWorld()
    let dup = try #require(world.targetID("dup")), v2 = try #require(world.targetID("dup___v2"))
    #expect(throws: COREError.ambiguous(candidates: [dup, v2], values: [0, 4])) {
      try world.mov(.fieldByteOffset, "dup", "0:0", 0)
    }
    #expect(try world.mov(.fieldByteOffset, "same", "0:0", 0).1.immediate == 0)
  }

  @Test("a compatible size change adjusts the load; an incompatible one is refused")
  func memorySize() throws {
    let world = try COREWorld()
    let md = try #require(world.l["md"])
    // data: u64 at 8 locally, u32 at 0 in the target: LDX DW r1 = [r1+8] becomes LDX W [r1+0].
    let load = BPFInstruction(opcode: 0x79, destination: 1, source: 1, offset: 8)
    let adjusted = try relocate(relocation(.fieldByteOffset, md, "0:1"), local: world.local.btf,
                                target: world.target.btf, [load])
    #expect(adjusted.instructions[0].opcode == 0x61)
    #expect(adjusted.instructions[0].offset == 0)
    // sval: signed 8 bytes locally, signed 4 in the target.
    let signed = BPFInstruction(opcode: 0x79, destination: 1, source: 1, offset: 16)
    #expect(throws: COREError.incompatibleSizeChange(localSize: 8, targetSize: 4)) {
      try relocate(relocation(.fieldByteOffset, md, "0:2"), local: world.local.btf,
                   target: world.target.btf, [signed])
    }
  }

  @Test("stores (ST, STX) get the target offset; the access size stays when the field size does")
  func stores() throws {
    let world = try COREWorld()
    let md = try #require(world.l["md"])
    for opcode: UInt8 in [0x63, 0x62] {  // STX W [r1+0] = r2; ST W [r1+0] = imm
      let store = BPFInstruction(opcode: opcode, destination: 1, source: 2, offset: 0, immediate: 7)
      let result = try relocate(relocation(.fieldByteOffset, md, "0:0"), local: world.local.btf,
                                target: world.target.btf, [store])
      #expect(result.instructions[0].opcode == opcode)
      #expect(result.instructions[0].offset == 4)
      #expect(result.instructions[0].immediate == 7)
    }
  }

  @Test("the target id of a type the target lacks is 0")
  func missingTargetID() throws {
    let world = try COREWorld()
    let missing = try #require(world.l["missing"])
    let result = try relocate(relocation(.typeIDTarget, missing, "0"), local: world.local.btf,
                              target: world.target.btf, loadImmediate64(UInt64(missing)))
    #expect(result.instructions[0].immediate == 0)
    #expect(!result.resolution.poisoned)
  }

  @Test("an unresolvable field offset poisons its instruction; an enum value both ld_imm64 halves")
  func poison() throws {
    let world = try COREWorld()
    let (resolution, insn) = try world.mov(.fieldByteOffset, "missing", "0:0", 0)
    #expect(resolution.poisoned)
    #expect(insn == COREPatcher.poisonInstruction)
    #expect(insn.opcode == 0x85 && insn.immediate == 195_896_080)
    var local = world.local
    let ghost = try local.enumeration("ghost", [("GONE", 1)])
    let result = try relocate(relocation(.enumValueValue, ghost, "0"), local: local.btf,
                              target: world.target.btf, loadImmediate64(1))
    #expect(result.instructions == [COREPatcher.poisonInstruction, COREPatcher.poisonInstruction])
  }

  @Test("an instruction that does not hold clang's local value is refused, for every kind",
        arguments: [
          (BTFExt.CORERelocation.Kind.fieldByteOffset, "task", "0:2"), (.fieldByteSize, "task", "0:3"),
          (.fieldExists, "task", "0:1"), (.fieldSigned, "task", "0:1"), (.typeIDLocal, "task", "0"),
          (.typeExists, "task", "0"), (.typeSize, "task", "0"), (.enumValueExists, "action", "0"),
          (.enumValueValue, "action", "0"), (.typeMatches, "same", "0"),
        ])
  func mismatch(kind: BTFExt.CORERelocation.Kind, type: String, access: String) throws {
    let world = try COREWorld()
    #expect(throws: COREError.self) { try world.mov(kind, type, access, 999) }
    #expect {
      try world.mov(kind, type, access, 999)
    } throws: { error in
      guard case COREError.instructionMismatch(_, let found) = error else { return false }
      return found == 999
    }
  }

  @Test("bitfield shifts and the target type id are written without checking clang's value")
  func unvalidatedKinds() throws {
    let world = try COREWorld()
    #expect(try world.mov(.fieldLeftShiftU64, "skb", "0:1", 999).1.immediate == 55)
    #expect(try world.mov(.typeIDTarget, "task", "0", 999).1.immediate
      == Int32(try #require(world.targetID("task_struct"))))
  }

  @Test("a relocation on a jump or call is refused")
  func unrelocatable() throws {
    let world = try COREWorld()
    #expect(throws: COREError.unrelocatableInstruction(opcode: 0x05)) {
      try relocate(relocation(.fieldByteOffset, try #require(world.l["task"]), "0:2"),
                   local: world.local.btf, target: world.target.btf,
                   [BPFInstruction(opcode: 0x05, offset: 8)])
    }
  }

  @Test("malformed access strings and unknown kinds are errors")
  func malformed() throws {
    let world = try COREWorld()
    #expect(throws: COREError.malformedAccessString("0::1")) { try world.mov(.fieldByteOffset, "task", "0::1", 0) }
    #expect(throws: COREError.typeAccessNotZero("0:1")) { try world.mov(.typeSize, "task", "0:1", 0) }
    #expect(throws: COREError.unknownKind(13)) { try world.mov(.unknown(13), "task", "0", 0) }
  }

  @Test("essential names drop the last ___flavor only")
  func essentialNames() {
    #expect(COREName.essential("task_struct___old") == "task_struct")
    #expect(COREName.essential("a___b___c") == "a___b")
    #expect(COREName.essential("a____b") == "a____b")
    #expect(COREName.essential("___x") == "___x")
    #expect(COREName.essential("plain") == "plain")
  }
}
