// Exact-value tests of the object reader against the fixtures with several programs, calls,
// maps of maps and externs. The helpers are in ReaderFixtureTests.swift.

import Testing

@testable import XDPKitObject

extension ReaderFixtureTests {
  // MARK: calls.o

  @Test func bpfToBPFCalls() throws {
    let object = try fixtureObject("calls")
    #expect(object.elf.sections.count == 28)

    // `.text` subprograms are functions but not programs; functions are listed by section,
    // then offset.
    #expect(object.functions.map(\.name) == ["add_one", "clamp_action", "add_two", "xdp_first", "xdp_second"])
    #expect(object.functions.map(\.sectionName) == [".text", ".text", ".text", "xdp", "xdp"])
    #expect(object.functions.map(\.sectionIndex) == [2, 2, 2, 4, 4])
    #expect(object.functions.map(\.offset) == [0, 0x18, 0x50, 0, 0x40])
    #expect(object.functions.map(\.size) == [24, 56, 32, 64, 80])
    #expect(object.functions.map(\.instructionCount) == [3, 7, 4, 8, 10])
    #expect(object.functions.map(\.isGlobal) == [true, false, false, true, true])
    #expect(object.functions.map(\.symbolIndex) == [15, 4, 5, 16, 17])
    #expect(object.programs.map(\.name) == ["xdp_first", "xdp_second"])
    #expect(throws: ObjectLookupError(kind: .program, name: "add_one", available: ["xdp_first", "xdp_second"])) {
      try object.program(named: "add_one")
    }

    #expect(slots(object.functions[0].bytes).first == [0xbc, 0x10, 0, 0, 0, 0, 0, 0])  // w0 = w1
    #expect(slots(object.functions[2].bytes).first == [0x85, 0x10, 0, 0, 0xff, 0xff, 0xff, 0xff])
    #expect(slots(object.functions[4].bytes).first == [0x61, 0x16, 0x10, 0, 0, 0, 0, 0])

    // Call targets: symbol value + (imm + 1) * 8. Global add_one with imm -1; statics through
    // the `.text` section symbol (index 2) with imm 2 (clamp_action) or 9 (add_two).
    let first = try object.program(named: "xdp_first")
    let second = try object.program(named: "xdp_second")
    #expect(first.relocations == [
      rel(4, 0x20, .r64_32, 15, "add_one", .call(section: 2, offset: 0)),
      rel(4, 0x30, .r64_32, 2, ".text", .call(section: 2, offset: 0x18)),
    ])
    #expect(second.relocations == [
      rel(4, 0x50, .r64_32, 15, "add_one", .call(section: 2, offset: 0)),
      rel(4, 0x68, .r64_32, 2, ".text", .call(section: 2, offset: 0x50)),
      rel(4, 0x80, .r64_32, 2, ".text", .call(section: 2, offset: 0x18)),
    ])
    let text = try #require(object.relocations.first { $0.targetSectionName == ".text" })
    #expect(text.relocationSectionIndex == 3)
    #expect(text.targetSectionIndex == 2)
    #expect(text.entries == [
      rel(2, 0x50, .r64_32, 15, "add_one", .call(section: 2, offset: 0)),
      rel(2, 0x60, .r64_32, 15, "add_one", .call(section: 2, offset: 0)),
    ])
    // Every call lands on the first instruction of a function.
    for entry in first.relocations + second.relocations + text.entries {
      guard case .call(let section, let offset) = entry.target else { continue }
      #expect(object.function(section: section, offset: UInt64(offset)) != nil, "\(entry)")
    }
    #expect(object.function(section: 2, offset: 0x50)?.name == "add_two")
    #expect(object.function(section: 2, offset: 0x18)?.name == "clamp_action")
    #expect(object.function(section: 2, offset: 0x08) == nil)
  }

  // MARK: multi_prog.o

  struct SectionNameCase: Sendable, CustomTestStringConvertible {
    var program: String
    var section: String
    var sectionIndex: Int
    var returns: Int32
    var type: BPFProgramType?
    var attach: BPFAttachType?
    var frags: Bool
    var target: String?
    var legacy: Bool
    var testDescription: String { section }
  }

  static let multiProgCases: [SectionNameCase] = [
    .init(program: "xdp_multi_pass", section: "xdp", sectionIndex: 3, returns: 2, type: .xdp, attach: .xdp, frags: false, target: nil, legacy: false),
    .init(program: "xdp_multi_drop", section: "xdp", sectionIndex: 3, returns: 1, type: .xdp, attach: .xdp, frags: false, target: nil, legacy: false),
    .init(program: "xdp_frags_prog", section: "xdp.frags", sectionIndex: 4, returns: 3, type: .xdp, attach: .xdp, frags: true, target: nil, legacy: false),
    .init(program: "xdp_devmap_prog", section: "xdp/devmap", sectionIndex: 5, returns: 4, type: .xdp, attach: .xdpDevMap, frags: false, target: nil, legacy: false),
    .init(program: "xdp_cpumap_prog", section: "xdp/cpumap", sectionIndex: 6, returns: 5, type: .xdp, attach: .xdpCPUMap, frags: false, target: nil, legacy: false),
    .init(program: "xdp_frags_devmap_prog", section: "xdp.frags/devmap", sectionIndex: 7, returns: 6, type: .xdp, attach: .xdpDevMap, frags: true, target: nil, legacy: false),
    .init(program: "xdp_legacy_prog", section: "xdp_legacy", sectionIndex: 8, returns: 7, type: .xdp, attach: .xdp, frags: false, target: nil, legacy: true),
    .init(program: "xdp_legacy_name_prog", section: "xdp/legacy_name", sectionIndex: 9, returns: 8, type: .xdp, attach: .xdp, frags: false, target: "legacy_name", legacy: true),
    .init(program: "tc_prog", section: "tc", sectionIndex: 10, returns: 0, type: .schedClassifier, attach: nil, frags: false, target: nil, legacy: false),
    .init(program: "classifier_prog", section: "classifier", sectionIndex: 11, returns: -1, type: .schedClassifier, attach: nil, frags: false, target: nil, legacy: false),
    .init(program: "socket_prog", section: "socket", sectionIndex: 12, returns: 10, type: .socketFilter, attach: nil, frags: false, target: nil, legacy: false),
    .init(program: "tracepoint_prog", section: "tracepoint/syscalls/sys_enter_openat", sectionIndex: 13, returns: 11, type: .tracepoint, attach: nil, frags: false, target: "syscalls/sys_enter_openat", legacy: false),
    .init(program: "kprobe_prog", section: "kprobe/do_unlinkat", sectionIndex: 14, returns: 12, type: .kprobe, attach: nil, frags: false, target: "do_unlinkat", legacy: false),
  ]

  @Test func multiProgListsEveryProgramInSectionOrder() throws {
    let object = try fixtureObject("multi_prog")
    #expect(object.elf.sections.count == 36)
    #expect(object.programs.map(\.name) == Self.multiProgCases.map(\.program))
    #expect(object.programs.map(\.sectionName) == Self.multiProgCases.map(\.section))
    #expect(object.functions.count == 13)
    #expect(object.programs.allSatisfy { $0.relocations.isEmpty })
    #expect(object.maps.isEmpty)
    #expect(object.dataSections.isEmpty)
    // The two programs sharing `xdp` sit at 0 and 16.
    #expect(try object.program(named: "xdp_multi_pass").function.offset == 0)
    #expect(try object.program(named: "xdp_multi_drop").function.offset == 16)
  }

  @Test(arguments: multiProgCases)
  func multiProgSection(_ c: SectionNameCase) throws {
    let object = try fixtureObject("multi_prog")
    let program = try object.program(named: c.program)
    #expect(program.sectionName == c.section)
    #expect(program.function.sectionIndex == c.sectionIndex)
    #expect(object.elf.sections[c.sectionIndex].name == c.section)
    #expect(program.function.size == 16)
    #expect(program.function.instructionCount == 2)
    #expect(program.function.bytes == movW0(c.returns) + exitInstruction)
    #expect(program.kind.programType == c.type)
    #expect(program.kind.expectedAttachType == c.attach)
    #expect(program.kind.allowsFragments == c.frags)
    #expect(program.kind.attachTarget == c.target)
    #expect(program.kind.isLegacyName == c.legacy)
    #expect(program.kind == ProgramSectionKind(sectionName: c.section))
  }

  // MARK: map_in_map.o

  @Test func mapInMapDefinitions() throws {
    let object = try fixtureObject("map_in_map")
    #expect(object.elf.sections.count == 28)
    let btf = try #require(object.btf)
    #expect(object.maps.map(\.name) == [
      "INNER", "OUTER", "JUMP_TABLE", "OUTER_HASH", "DYNAMIC", "PINNED", "SPARSE", "PREFIXES",
      "SEEN", "EVENTS",
    ])
    #expect(object.maps.map(\.offset) == [0, 0x20, 0x48, 0x78, 0x90, 0xa8, 0xd0, 0xf8, 0x120, 0x148])
    #expect(object.maps.map(\.symbolIndex) == [22, 13, 21, 14, 15, 16, 17, 18, 19, 20])
    #expect(object.maps.allSatisfy { $0.style == .btf && $0.sectionIndex == 5 && $0.legacyExtra.isEmpty })

    struct Shape: Equatable {
      var type: BPFMapType; var key: UInt32; var value: UInt32; var max: UInt32; var flags: UInt32
      var pinning: MapPinning; var extra: UInt64; var numa: UInt32
    }
    func shape(_ name: String) throws -> Shape {
      let m = try object.map(named: name)
      return Shape(type: m.type, key: m.keySize, value: m.valueSize, max: m.maxEntries,
                   flags: m.flags, pinning: m.pinning, extra: m.mapExtra, numa: m.numaNode)
    }
    #expect(try shape("INNER") == Shape(type: .array, key: 4, value: 4, max: 8, flags: 0, pinning: .none, extra: 0, numa: 0))
    #expect(try shape("OUTER") == Shape(type: .arrayOfMaps, key: 4, value: 4, max: 4, flags: 0, pinning: .none, extra: 0, numa: 0))
    #expect(try shape("JUMP_TABLE") == Shape(type: BPFMapType(rawValue: 3), key: 4, value: 4, max: 4, flags: 0, pinning: .none, extra: 0, numa: 0))
    #expect(try shape("OUTER_HASH") == Shape(type: .hashOfMaps, key: 4, value: 4, max: 2, flags: 0, pinning: .none, extra: 0, numa: 0))
    #expect(try shape("DYNAMIC") == Shape(type: .hash, key: 4, value: 8, max: 0, flags: 0, pinning: .none, extra: 0, numa: 0))
    #expect(try shape("PINNED") == Shape(type: .hash, key: 4, value: 4, max: 16, flags: 0, pinning: .byName, extra: 0, numa: 0))
    #expect(try shape("SPARSE") == Shape(type: .hash, key: 8, value: 8, max: 128, flags: 1, pinning: .none, extra: 0, numa: 0))
    #expect(try shape("PREFIXES") == Shape(type: .lpmTrie, key: 8, value: 4, max: 256, flags: 1, pinning: .none, extra: 0, numa: 0))
    #expect(try shape("SEEN") == Shape(type: .bloomFilter, key: 0, value: 4, max: 64, flags: 0, pinning: .none, extra: 3, numa: 0))
    #expect(try shape("EVENTS") == Shape(type: .ringBuffer, key: 0, value: 0, max: 16384, flags: 0, pinning: .none, extra: 0, numa: 0))

    // BTF key and value types: present where `__type` declared them, with the right sizes.
    let keySizes = object.maps.map { btfSize(object, $0.keyTypeID) }
    let valueSizes = object.maps.map { btfSize(object, $0.valueTypeID) }
    #expect(keySizes == [4, 4, nil, 4, 4, 4, 8, 8, nil, nil])
    #expect(valueSizes == [4, nil, nil, nil, 8, 4, 8, 4, 4, nil])
    let prefixKey = try #require(try object.map(named: "PREFIXES").keyTypeID)
    #expect(try btf.name(of: btf.skippingModifiers(prefixKey)) == "lpm_v4_key")

    // Map-in-map templates: both outer maps take INNER's definition (struct inner_map).
    let inner = try object.map(named: "INNER")
    let template = InnerMapDefinition(type: .array, keySize: 4, valueSize: 4, maxEntries: 8, flags: 0,
                                      keyTypeID: inner.keyTypeID, valueTypeID: inner.valueTypeID)
    #expect(try object.map(named: "OUTER").innerMap == template)
    #expect(try object.map(named: "OUTER_HASH").innerMap == template)
    #expect(object.maps.filter { $0.innerMap != nil }.map(\.name) == ["OUTER", "OUTER_HASH"])

    // Initial values from `.rel.maps`: OUTER[1] = INNER, JUMP_TABLE[2] = xdp_tail_target.
    #expect(try object.map(named: "OUTER").initialValues == [1: .map("INNER")])
    #expect(try object.map(named: "JUMP_TABLE").initialValues == [2: .program("xdp_tail_target")])
    #expect(object.maps.filter { !$0.initialValues.isEmpty }.map(\.name) == ["OUTER", "JUMP_TABLE"])
    let relMaps = try #require(object.relocations.first { $0.targetSectionName == ".maps" })
    #expect(relMaps.relocationSectionIndex == 6)
    #expect(relMaps.targetSectionIndex == 5)
    #expect(relMaps.entries == [
      rel(5, 0x40, .abs64, 22, "INNER", .sectionData(section: 5, offset: 0)),
      rel(5, 0x70, .abs64, 11, "xdp_tail_target", .sectionData(section: 3, offset: 0)),
    ])
  }

  @Test func mapInMapPrograms() throws {
    let object = try fixtureObject("map_in_map")
    #expect(object.programs.map(\.name) == ["xdp_tail_target", "xdp_maps"])
    let target = try object.program(named: "xdp_tail_target")
    #expect(target.function.offset == 0)
    #expect(target.function.size == 16)
    #expect(target.function.bytes == movW0(3) + exitInstruction)
    #expect(target.relocations.isEmpty)

    let maps = try object.program(named: "xdp_maps")
    #expect(maps.function.offset == 16)
    #expect(maps.function.size == 712)
    #expect(maps.function.instructionCount == 89)
    #expect(slots(maps.function.bytes).first == [0xbf, 0x16, 0, 0, 0, 0, 0, 0])  // r6 = r1
    let expected: [(UInt64, Int, String)] = [
      (0x70, 13, "OUTER"), (0xd8, 14, "OUTER_HASH"), (0x140, 15, "DYNAMIC"), (0x188, 16, "PINNED"),
      (0x1c8, 17, "SPARSE"), (0x208, 18, "PREFIXES"), (0x240, 19, "SEEN"), (0x270, 20, "EVENTS"),
      (0x2a8, 21, "JUMP_TABLE"),
    ]
    #expect(maps.relocations == expected.map { rel(3, $0.0, .r64_64, $0.1, $0.2, .map(name: $0.2)) })
    // Every relocated instruction is an lddw (relocation offsets are section offsets).
    for r in maps.relocations {
      let at = Int(r.offset - maps.function.offset)
      #expect(maps.function.bytes[at] == 0x18, "\(r.symbolName)")
    }
  }

  // MARK: extern.o and extern_ksym.o

  @Test func externsAndVersion() throws {
    let object = try fixtureObject("extern")
    #expect(object.kernelVersion == 0x0006_0100)
    #expect(object.elf.sections[5].name == "version")
    #expect(object.license == "GPL")
    #expect(object.maps.isEmpty)
    #expect(object.dataSections.isEmpty)
    #expect(!object.elf.sections.contains { $0.name == ".kconfig" || $0.name == ".ksyms" })
    let program = try object.program(named: "xdp_extern")
    #expect(object.programs.map(\.name) == ["xdp_extern"])
    #expect(program.function.size == 120)
    #expect(program.function.instructionCount == 15)
    // The kfunc call: src_reg 1, imm -1, like a bpf-to-bpf call.
    #expect(slots(program.function.bytes).first == [0x85, 0x10, 0, 0, 0xff, 0xff, 0xff, 0xff])
    #expect(slots(program.function.bytes)[5] == lddwR1)
    #expect(slots(program.function.bytes)[9] == lddwR1)
    #expect(program.relocations == [
      rel(3, 0x0, .r64_32, 12, "bpf_cast_to_kern_ctx", .external(name: "bpf_cast_to_kern_ctx")),
      rel(3, 0x28, .r64_64, 13, "LINUX_KERNEL_VERSION", .external(name: "LINUX_KERNEL_VERSION")),
      rel(3, 0x48, .r64_64, 14, "CONFIG_XDPKIT_MISSING", .external(name: "CONFIG_XDPKIT_MISSING")),
    ])
    let symbols = object.elf.symbols
    #expect(symbols[12].isUndefined && symbols[13].isUndefined && symbols[14].isUndefined)
    #expect(symbols[14].binding == ELFConstants.stbWeak)
    #expect(symbols[15].name == "_version")
  }

  @Test func kernelSymbolExterns() throws {
    let object = try fixtureObject("extern_ksym")
    #expect(object.programs.map(\.name) == ["xdp_ksym"])
    let program = try object.program(named: "xdp_ksym")
    #expect(program.function.size == 112)
    #expect(program.function.instructionCount == 14)
    #expect(slots(program.function.bytes).first == lddwR1)
    #expect(slots(program.function.bytes)[2] == [0x85, 0, 0, 0, 154, 0, 0, 0])  // bpf_this_cpu_ptr
    #expect(program.relocations == [
      rel(3, 0x0, .r64_64, 12, "bpf_bprintf_nest_level", .external(name: "bpf_bprintf_nest_level")),
      rel(3, 0x38, .r64_64, 13, "bpf_prog_active", .external(name: "bpf_prog_active")),
    ])
    #expect(object.kernelVersion == nil)
    #expect(object.maps.isEmpty)
  }

  // MARK: verifier_reject.o

  /// The loader tests' fixture: a program the verifier rejects; the reader only has to read it.
  @Test func verifierRejectFixture() throws {
    let object = try fixtureObject("verifier_reject")
    #expect(object.elf.sections.count == 25)
    #expect(object.programs.map(\.name) == ["xdp_unchecked"])
    let program = try object.program(named: "xdp_unchecked")
    #expect(program.programType == .xdp)
    #expect(program.function.sectionIndex == 3)
    #expect(program.function.symbolIndex == 11)
    #expect(program.function.size == 48)
    #expect(program.function.instructionCount == 6)
    #expect(slots(program.function.bytes) == [
      [0x61, 0x11, 0, 0, 0, 0, 0, 0],        // r1 = *(u32 *)(r1 + 0)   (ctx->data)
      [0x71, 0x11, 0, 0, 0, 0, 0, 0],        // r1 = *(u8 *)(r1 + 0)    (unchecked read)
      movW0(1),                              // w0 = XDP_DROP
      [0x16, 0x01, 0x01, 0, 0xff, 0, 0, 0],  // if w1 == 255 goto +1
      movW0(2),                              // w0 = XDP_PASS
      exitInstruction,
    ])
    #expect(program.relocations.isEmpty)
    #expect(object.maps.isEmpty)
    #expect(object.dataSections.isEmpty)
    #expect(object.license == "GPL")
  }
}
