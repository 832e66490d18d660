// Exact-value tests of the object reader against the committed fixtures.
//
// Every expected number below is a fact of the committed `.o` files, as listed in
// Fixtures/README.md and checked with `llvm-readelf -S -s -r` and `llvm-objdump -d`: section and
// symbol indices, function offsets and sizes, relocation offsets, map definitions, data bytes.
// If a rebuild of the fixtures changes an object, check these values again.

import Testing

@testable import XDPKitObject

/// Parses `Fixtures/<name>.o`.
private func load(_ name: String) throws -> BPFObject {
  try BPFObject(bytes: fixtureBytes(name))
}

/// Splits instruction bytes into 8-byte slots, for readable comparisons.
private func slots(_ bytes: [UInt8]) -> [[UInt8]] {
  stride(from: 0, to: bytes.count, by: 8).map { Array(bytes[$0..<min($0 + 8, bytes.count)]) }
}

/// The BTF-resolved size of a type id, or nil.
private func btfSize(_ object: BPFObject, _ id: UInt32?) -> Int? {
  guard let id, let btf = object.btf else { return nil }
  return try? btf.resolvedSize(of: id)
}

/// `w0 = imm` (`b4 00 00 00 imm32`).
private func movW0(_ imm: Int32) -> [UInt8] {
  BPFInstruction(opcode: 0xb4, immediate: imm).bytes
}

private let exitInstruction: [UInt8] = [0x95, 0, 0, 0, 0, 0, 0, 0]
private let lddwR1: [UInt8] = [0x18, 0x01, 0, 0, 0, 0, 0, 0]

/// One relocation in code, as the tests spell it.
private func rel(_ section: Int, _ offset: UInt64, _ type: BPFRelocationType, _ symbol: Int,
                 _ name: String, _ target: RelocationTarget) -> BPFRelocation {
  BPFRelocation(sectionIndex: section, offset: offset, type: type, symbolIndex: symbol,
                symbolName: name, target: target)
}

@Suite("Reader: exact values of every fixture")
struct ReaderFixtureTests {
  // MARK: xdp_pass.o

  @Test func xdpPass() throws {
    let object = try load("xdp_pass")
    #expect(object.elf.sections.count == 24)
    #expect(object.elf.machine == 247)
    #expect(object.elf.flags == 0)
    #expect(object.elf.symbols.count == 12)
    #expect(object.elf.symbolTableIndex == 23)
    #expect(object.elf.sections.map(\.name)[1...4] == [".strtab", ".text", "xdp", "license"])
    #expect(object.elf.sections[13].name == ".BTF")
    #expect(object.elf.sections[15].name == ".BTF.ext")
    #expect(object.elf.sections[22].type == ELFConstants.shtLLVMAddrsig)

    #expect(object.programs.map(\.name) == ["xdp_pass"])
    let program = try object.program(named: "xdp_pass")
    #expect(program.sectionName == "xdp")
    #expect(program.programType == .xdp)
    #expect(program.kind.expectedAttachType == .xdp)
    #expect(program.kind.allowsFragments == false)
    #expect(program.kind.isLegacyName == false)
    #expect(program.kind.attachTarget == nil)
    #expect(program.function == BPFFunction(
      name: "xdp_pass", symbolIndex: 10, sectionIndex: 3, sectionName: "xdp", offset: 0, size: 16,
      isGlobal: true, bytes: movW0(2) + exitInstruction))
    #expect(program.function.instructionCount == 2)
    #expect(program.function.bytes == [0xb4, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0])
    #expect(program.function.instructions.map(\.opcode) == [0xb4, 0x95])
    #expect(program.function.instructions.first?.immediate == 2)
    #expect(program.relocations.isEmpty)
    #expect(object.functions == [program.function])

    #expect(object.maps.isEmpty)
    #expect(object.dataSections.isEmpty)
    #expect(object.license == "GPL")
    #expect(object.kernelVersion == nil)
    #expect(object.btf != nil)
    #expect(object.btfExt != nil)

    // Only debug and BTF relocations, none against code: the reader does not read those
    // (nothing applies them), though the sections are there and well-formed.
    #expect(object.relocations.isEmpty)
    let relSections = object.elf.sections.filter { $0.type == ELFConstants.shtRel }
    #expect(relSections.map { object.elf.sections[Int($0.info)].name } == [
      ".debug_info", ".debug_str_offsets", ".debug_addr", ".BTF", ".BTF.ext", ".debug_frame",
      ".debug_line",
    ])
    #expect(try relSections.map { try object.elf.relocations(in: $0).count } == [4, 24, 2, 1, 2, 2, 7])
  }

  // MARK: blocklist_btf.o and blocklist_legacy.o

  /// The firewall program is the same in both blocklist objects.
  private func checkFirewall(_ object: BPFObject, blocklistSymbol: Int, statsSymbol: Int) throws {
    #expect(object.programs.map(\.name) == ["xdp_firewall"])
    let program = try object.program(named: "xdp_firewall")
    #expect(program.sectionName == "xdp")
    #expect(program.programType == .xdp)
    #expect(program.kind.expectedAttachType == .xdp)
    #expect(program.function.sectionIndex == 3)
    #expect(program.function.symbolIndex == 11)
    #expect(program.function.offset == 0)
    #expect(program.function.size == 304)
    #expect(program.function.instructionCount == 38)
    #expect(program.function.isGlobal)
    let insns = slots(program.function.bytes)
    #expect(insns.first == [0x61, 0x12, 0x04, 0x00, 0, 0, 0, 0])  // r2 = *(u32 *)(r1 + 4)
    #expect(insns[1] == [0x61, 0x11, 0, 0, 0, 0, 0, 0])            // r1 = *(u32 *)(r1 + 0)
    #expect(insns[20] == lddwR1)                                     // BLOCKLIST
    #expect(insns[29] == lddwR1)                                     // STATS
    #expect(insns.last == exitInstruction)
    #expect(program.relocations == [
      rel(3, 0xa0, .r64_64, blocklistSymbol, "BLOCKLIST", .map(name: "BLOCKLIST")),
      rel(3, 0xe8, .r64_64, statsSymbol, "STATS", .map(name: "STATS")),
    ])
    let code = try #require(object.relocations.first { $0.targetSectionName == "xdp" })
    #expect(code.relocationSectionIndex == 4)
    #expect(code.targetSectionIndex == 3)
    #expect(code.entries == program.relocations)
    #expect(object.functions == [program.function])
    #expect(object.dataSections.isEmpty)
    #expect(object.license == "GPL")
    #expect(object.kernelVersion == nil)
  }

  @Test func blocklistBTF() throws {
    let object = try load("blocklist_btf")
    #expect(object.elf.sections.count == 27)
    #expect(object.elf.sections[5].name == ".maps")
    try checkFirewall(object, blocklistSymbol: 12, statsSymbol: 13)

    // clang lays out STATS first; the reader lists maps by offset.
    #expect(object.maps.map(\.name) == ["STATS", "BLOCKLIST"])
    let stats = try object.map(named: "STATS")
    let blocklist = try object.map(named: "BLOCKLIST")
    let btf = try #require(object.btf)
    for map in [stats, blocklist] {
      #expect(map.style == .btf)
      #expect(map.flags == 0)
      #expect(map.numaNode == 0)
      #expect(map.pinning == .none)
      #expect(map.mapExtra == 0)
      #expect(map.innerMap == nil)
      #expect(map.initialValues.isEmpty)
      #expect(map.sectionIndex == 5)
      #expect(map.legacyExtra.isEmpty)
    }
    #expect(stats.type == .perCPUArray)
    #expect(stats.isPerCPU)
    #expect(stats.keySize == 4)
    #expect(stats.valueSize == 8)
    #expect(stats.maxEntries == 4)
    #expect(stats.offset == 0)
    #expect(stats.symbolIndex == 13)
    #expect(btfSize(object, stats.keyTypeID) == 4)
    #expect(btfSize(object, stats.valueTypeID) == 8)
    #expect(try btf.name(of: btf.skippingModifiers(#require(stats.keyTypeID))) == "unsigned int")

    #expect(blocklist.type == .hash)
    #expect(!blocklist.isPerCPU)
    #expect(blocklist.keySize == 4)
    #expect(blocklist.valueSize == 4)
    #expect(blocklist.maxEntries == 1024)
    #expect(blocklist.offset == 0x20)
    #expect(blocklist.symbolIndex == 12)
    #expect(btfSize(object, blocklist.keyTypeID) == 4)
    #expect(btfSize(object, blocklist.valueTypeID) == 4)
  }

  @Test func blocklistLegacy() throws {
    let object = try load("blocklist_legacy")
    #expect(object.elf.sections.count == 27)
    #expect(object.elf.sections[5].name == "maps")
    try checkFirewall(object, blocklistSymbol: 12, statsSymbol: 13)

    #expect(object.maps == [
      BPFMapDefinition(
        name: "BLOCKLIST", style: .legacy, type: .hash, keySize: 4, valueSize: 4,
        maxEntries: 1024, flags: 0, numaNode: 0, pinning: .none, mapExtra: 0, keyTypeID: nil,
        valueTypeID: nil, innerMap: nil, initialValues: [:], sectionIndex: 5, offset: 0,
        symbolIndex: 12, legacyExtra: []),
      BPFMapDefinition(
        name: "STATS", style: .legacy, type: .perCPUArray, keySize: 4, valueSize: 8,
        maxEntries: 4, flags: 0, numaNode: 0, pinning: .none, mapExtra: 0, keyTypeID: nil,
        valueTypeID: nil, innerMap: nil, initialValues: [:], sectionIndex: 5, offset: 0x14,
        symbolIndex: 13, legacyExtra: []),
    ])
  }

  @Test func legacyAndBTFBlocklistsDescribeTheSameMaps() throws {
    let btf = try load("blocklist_btf")
    let legacy = try load("blocklist_legacy")
    for name in ["BLOCKLIST", "STATS"] {
      let a = try btf.map(named: name)
      let b = try legacy.map(named: name)
      #expect(a.type == b.type, "\(name)")
      #expect(a.keySize == b.keySize, "\(name)")
      #expect(a.valueSize == b.valueSize, "\(name)")
      #expect(a.maxEntries == b.maxEntries, "\(name)")
      #expect(a.flags == b.flags, "\(name)")
      #expect(a.pinning == b.pinning, "\(name)")
    }
    // Same instructions too: only the map definitions differ.
    #expect(try btf.program(named: "xdp_firewall").function.bytes
      == legacy.program(named: "xdp_firewall").function.bytes)
  }

  // MARK: legacy_long.o

  @Test func legacyLongRecords() throws {
    let object = try load("legacy_long")
    #expect(object.programs.map(\.name) == ["xdp_long_maps"])
    let program = try object.program(named: "xdp_long_maps")
    #expect(program.function.size == 168)
    #expect(program.function.instructionCount == 21)
    #expect(slots(program.function.bytes).first == [0xb4, 0x01, 0, 0, 0, 0, 0, 0])  // w1 = 0
    #expect(slots(program.function.bytes)[4] == lddwR1)
    #expect(slots(program.function.bytes)[13] == lddwR1)
    #expect(program.relocations == [
      rel(3, 0x20, .r64_64, 12, "COUNTERS", .map(name: "COUNTERS")),
      rel(3, 0x68, .r64_64, 13, "PINNED", .map(name: "PINNED")),
    ])
    #expect(object.maps == [
      BPFMapDefinition(
        name: "COUNTERS", style: .legacy, type: .array, keySize: 4, valueSize: 8, maxEntries: 2,
        flags: 0, numaNode: 0, pinning: .none, mapExtra: 0, keyTypeID: nil, valueTypeID: nil,
        innerMap: nil, initialValues: [:], sectionIndex: 5, offset: 0, symbolIndex: 12,
        legacyExtra: [0, 0]),
      // id 5, pinning 2 (iproute2 PIN_GLOBAL_NS) read as by-name.
      BPFMapDefinition(
        name: "PINNED", style: .legacy, type: .hash, keySize: 4, valueSize: 4, maxEntries: 64,
        flags: 1, numaNode: 0, pinning: .byName, mapExtra: 0, keyTypeID: nil, valueTypeID: nil,
        innerMap: nil, initialValues: [:], sectionIndex: 5, offset: 0x1c, symbolIndex: 13,
        legacyExtra: [5, 2]),
    ])
    #expect(object.license == "GPL")
  }

  // MARK: globals.o

  @Test func globalData() throws {
    let object = try load("globals")
    #expect(object.elf.sections.count == 31)
    #expect(object.maps.isEmpty)
    let program = try object.program(named: "xdp_globals")
    #expect(object.programs.map(\.name) == ["xdp_globals"])
    #expect(program.function.size == 328)
    #expect(program.function.instructionCount == 41)
    #expect(slots(program.function.bytes).first == [0x61, 0x12, 0, 0, 0, 0, 0, 0])

    // Data sections in section order, with their bytes and variables.
    #expect(object.dataSections.map(\.name) == [".data", ".rodata", ".data.custom", ".rodata.cfg", ".bss"])
    #expect(object.dataSections.map(\.sectionIndex) == [5, 6, 7, 8, 9])
    #expect(object.dataSections.map(\.kind) == [.data, .rodata, .data, .rodata, .bss])
    #expect(object.dataSections.map(\.size) == [16, 5, 4, 4, 12])

    let data = try #require(object.dataSection(named: ".data"))
    #expect(data.initialBytes == [7, 0, 0, 0, 0, 0, 0, 0, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11])
    let rodata = try #require(object.dataSection(named: ".rodata"))
    #expect(rodata.initialBytes == [1, 0, 0, 0, 0])  // mode = 1, enabled = 0
    let custom = try #require(object.dataSection(named: ".data.custom"))
    #expect(custom.initialBytes == [42, 0, 0, 0])
    let cfg = try #require(object.dataSection(named: ".rodata.cfg"))
    #expect(cfg.initialBytes == [100, 0, 0, 0])
    let bss = try #require(object.dataSection(named: ".bss"))
    #expect(bss.initialBytes.isEmpty)  // no file bytes; the loader zero-fills 12
    #expect(object.elf.sections[9].isNoBits)

    struct Var: Equatable { var name: String; var offset: UInt64; var size: UInt64; var isGlobal: Bool }
    func vars(_ s: DataSection) -> [Var] {
      s.variables.map { Var(name: $0.name, offset: $0.offset, size: $0.size, isGlobal: $0.isGlobal) }
    }
    #expect(vars(data) == [Var(name: "counter_seed", offset: 0, size: 4, isGlobal: true),
                           Var(name: "byte_seed", offset: 8, size: 8, isGlobal: true)])
    #expect(vars(rodata) == [Var(name: "mode", offset: 0, size: 4, isGlobal: true),
                             Var(name: "enabled", offset: 4, size: 1, isGlobal: true)])
    #expect(vars(custom) == [Var(name: "custom_val", offset: 0, size: 4, isGlobal: true)])
    #expect(vars(cfg) == [Var(name: "limit", offset: 0, size: 4, isGlobal: true)])
    #expect(vars(bss) == [Var(name: "packets", offset: 0, size: 8, isGlobal: true),
                          Var(name: "drops", offset: 8, size: 4, isGlobal: false)])

    // Every variable's BTF type has the symbol's size; every section has its DATASEC.
    let btf = try #require(object.btf)
    for section in object.dataSections {
      let id = try #require(section.btfTypeID, "\(section.name)")
      #expect(try btf.name(of: id) == section.name)
      for variable in section.variables {
        #expect(btfSize(object, variable.typeID) == Int(variable.size), "\(variable.name)")
      }
    }

    // Globals are relocated against their own symbols with imm 0; the static `drops` against
    // the `.bss` section symbol with its offset 8 in the immediate.
    #expect(program.relocations == [
      rel(3, 0x10, .r64_64, 14, "packets", .data(section: ".bss", offset: 0, variable: "packets")),
      rel(3, 0x38, .r64_64, 15, "custom_val", .data(section: ".data.custom", offset: 0, variable: "custom_val")),
      rel(3, 0x50, .r64_64, 16, "counter_seed", .data(section: ".data", offset: 0, variable: "counter_seed")),
      rel(3, 0x80, .r64_64, 17, "byte_seed", .data(section: ".data", offset: 8, variable: "byte_seed")),
      rel(3, 0xb0, .r64_64, 18, "enabled", .data(section: ".rodata", offset: 4, variable: "enabled")),
      rel(3, 0xd0, .r64_64, 19, "mode", .data(section: ".rodata", offset: 0, variable: "mode")),
      rel(3, 0xf0, .r64_64, 20, "limit", .data(section: ".rodata.cfg", offset: 0, variable: "limit")),
      rel(3, 0x110, .r64_64, 4, ".bss", .data(section: ".bss", offset: 8, variable: "drops")),
    ])
    // The `drops` lddw carries the offset in its immediate.
    #expect(slots(program.function.bytes)[34] == [0x18, 0x01, 0, 0, 8, 0, 0, 0])
    #expect(object.elf.symbols[4].type == ELFConstants.sttSection)
  }

  // MARK: calls.o

  @Test func bpfToBPFCalls() throws {
    let object = try load("calls")
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
    let object = try load("multi_prog")
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
    let object = try load("multi_prog")
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
    let object = try load("map_in_map")
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
    let object = try load("map_in_map")
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
    let object = try load("extern")
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
    let object = try load("extern_ksym")
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
    let object = try load("verifier_reject")
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

  // MARK: Every fixture

  /// Program and map names of each fixture, for the lookup tests.
  static let names: [String: (programs: [String], maps: [String])] = [
    "xdp_pass": (["xdp_pass"], []),
    "blocklist_btf": (["xdp_firewall"], ["STATS", "BLOCKLIST"]),
    "blocklist_legacy": (["xdp_firewall"], ["BLOCKLIST", "STATS"]),
    "legacy_long": (["xdp_long_maps"], ["COUNTERS", "PINNED"]),
    "globals": (["xdp_globals"], []),
    "calls": (["xdp_first", "xdp_second"], []),
    "map_in_map": (["xdp_tail_target", "xdp_maps"],
                   ["INNER", "OUTER", "JUMP_TABLE", "OUTER_HASH", "DYNAMIC", "PINNED", "SPARSE",
                    "PREFIXES", "SEEN", "EVENTS"]),
    "multi_prog": (multiProgCases.map(\.program), []),
    "extern": (["xdp_extern"], []),
    "extern_ksym": (["xdp_ksym"], []),
    "verifier_reject": (["xdp_unchecked"], []),
  ]

  @Test(arguments: allFixtureNames)
  func lookupsListWhatTheObjectHas(_ fixture: String) throws {
    let object = try load(fixture)
    let expected = try #require(Self.names[fixture])
    #expect(object.programs.map(\.name) == expected.programs)
    #expect(object.maps.map(\.name) == expected.maps)
    #expect(throws: ObjectLookupError(kind: .program, name: "no_such_program", available: expected.programs)) {
      try object.program(named: "no_such_program")
    }
    #expect(throws: ObjectLookupError(kind: .map, name: "NO_SUCH_MAP", available: expected.maps)) {
      try object.map(named: "NO_SUCH_MAP")
    }
    for name in expected.programs { #expect(try object.program(named: name).name == name) }
    for name in expected.maps { #expect(try object.map(named: name).name == name) }
    // Names are case-sensitive.
    if let first = expected.maps.first {
      #expect(throws: ObjectLookupError.self) { try object.map(named: first.lowercased()) }
    }
  }

  @Test(arguments: allFixtureNames)
  func commonFacts(_ fixture: String) throws {
    let object = try load(fixture)
    #expect(object.license == "GPL")
    #expect(object.elf.machine == ELFConstants.emBPF)
    #expect(object.btf != nil)
    #expect(object.btfExt != nil)
    let text = try #require(object.elf.section(named: ".text"))
    #expect(text.index == 2)
    #expect(text.size == (fixture == "calls" ? 112 : 0))
    // Programs are the functions outside `.text`, in order.
    #expect(object.programs.map(\.function) == object.functions.filter { $0.sectionName != ".text" })
    // Relocations of a program lie inside it; instructions are whole 8-byte slots.
    for program in object.programs {
      #expect(program.function.bytes.count == Int(program.function.size))
      #expect(program.function.size % 8 == 0)
      for r in program.relocations {
        #expect(r.sectionIndex == program.function.sectionIndex)
        #expect(r.offset >= program.function.offset && r.offset < program.function.offset + program.function.size)
      }
    }
    // Map definitions sit where their symbols say.
    for map in object.maps {
      #expect(object.elf.symbols[map.symbolIndex].name == map.name)
      #expect(object.elf.symbols[map.symbolIndex].value == map.offset)
    }
  }

  @Test(arguments: allFixtureNames)
  func parsingTwiceGivesEqualResults(_ fixture: String) throws {
    let bytes = try fixtureBytes(fixture)
    let a = try BPFObject(bytes: bytes)
    let b = try BPFObject(bytes: bytes)
    #expect(a.programs == b.programs)
    #expect(a.functions == b.functions)
    #expect(a.maps == b.maps)
    #expect(a.dataSections == b.dataSections)
    #expect(a.relocations == b.relocations)
    #expect(a.license == b.license)
    #expect(a.kernelVersion == b.kernelVersion)
    #expect(a.btf == b.btf)
    #expect(a.btfExt == b.btfExt)
    #expect(a.elf.sections == b.elf.sections)
    #expect(a.elf.symbols == b.elf.symbols)
    #expect(a.elf.reader.bytes == bytes)
  }

  // MARK: Section names

  struct KindCase: Sendable, CustomTestStringConvertible {
    var name: String
    var type: BPFProgramType?
    var attach: BPFAttachType? = nil
    var frags = false
    var target: String? = nil
    var legacy = false
    var testDescription: String { name.isEmpty ? "(empty)" : name }
  }

  static let kindCases: [KindCase] = [
    KindCase(name: "xdp", type: .xdp, attach: .xdp),
    KindCase(name: "xdp.frags", type: .xdp, attach: .xdp, frags: true),
    KindCase(name: "xdp/devmap", type: .xdp, attach: .xdpDevMap),
    KindCase(name: "xdp/cpumap", type: .xdp, attach: .xdpCPUMap),
    KindCase(name: "xdp.frags/devmap", type: .xdp, attach: .xdpDevMap, frags: true),
    KindCase(name: "xdp.frags/cpumap", type: .xdp, attach: .xdpCPUMap, frags: true),
    KindCase(name: "xdp_legacy", type: .xdp, attach: .xdp, legacy: true),
    KindCase(name: "xdp_prog/extra", type: .xdp, attach: .xdp, target: "extra", legacy: true),
    KindCase(name: "xdp/legacy_name", type: .xdp, attach: .xdp, target: "legacy_name", legacy: true),
    KindCase(name: "tc", type: .schedClassifier),
    KindCase(name: "classifier", type: .schedClassifier),
    KindCase(name: "classifier/ingress", type: .schedClassifier, target: "ingress"),
    KindCase(name: "action", type: .schedAction),
    KindCase(name: "socket", type: .socketFilter),
    KindCase(name: "tracepoint/syscalls/sys_enter_openat", type: .tracepoint, target: "syscalls/sys_enter_openat"),
    KindCase(name: "tp/syscalls/sys_enter_openat", type: .tracepoint, target: "syscalls/sys_enter_openat"),
    KindCase(name: "kprobe/do_unlinkat", type: .kprobe, target: "do_unlinkat"),
    KindCase(name: "kretprobe/do_unlinkat", type: .kprobe, target: "do_unlinkat"),
    KindCase(name: "fentry/do_unlinkat", type: .tracing, attach: .traceFentry, target: "do_unlinkat"),
    KindCase(name: "fexit/do_unlinkat", type: .tracing, attach: .traceFexit, target: "do_unlinkat"),
    // Not program sections.
    KindCase(name: ".text", type: nil),
    KindCase(name: "license", type: nil),
    KindCase(name: "maps", type: nil),
    KindCase(name: ".maps", type: nil),
    KindCase(name: "xdpfoo", type: nil),
    KindCase(name: "XDP", type: nil),
    KindCase(name: "unknown/thing", type: nil, target: "thing"),
    KindCase(name: "", type: nil),
  ]

  @Test(arguments: kindCases)
  func sectionNameClassification(_ c: KindCase) {
    let kind = ProgramSectionKind(sectionName: c.name)
    #expect(kind.programType == c.type)
    #expect(kind.expectedAttachType == c.attach)
    #expect(kind.allowsFragments == c.frags)
    #expect(kind.attachTarget == c.target)
    #expect(kind.isLegacyName == c.legacy)
  }
}
