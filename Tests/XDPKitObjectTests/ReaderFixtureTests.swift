// Exact-value tests of the object reader against the committed fixtures.
//
// Every expected number below is a fact of the committed `.o` files, as listed in
// Fixtures/README.md and checked with `llvm-readelf -S -s -r` and `llvm-objdump -d`: section and
// symbol indices, function offsets and sizes, relocation offsets, map definitions, data bytes.
// If a rebuild of the fixtures changes an object, check these values again.

import Testing

@testable import XDPKitObject

/// Parses `Fixtures/<name>.o`.
func fixtureObject(_ name: String) throws -> BPFObject {
  try BPFObject(bytes: fixtureBytes(name))
}

/// Splits instruction bytes into 8-byte slots, for readable comparisons.
func slots(_ bytes: [UInt8]) -> [[UInt8]] {
  stride(from: 0, to: bytes.count, by: 8).map { Array(bytes[$0..<min($0 + 8, bytes.count)]) }
}

/// The BTF-resolved size of a type id, or nil.
func btfSize(_ object: BPFObject, _ id: UInt32?) -> Int? {
  guard let id, let btf = object.btf else { return nil }
  return try? btf.resolvedSize(of: id)
}

/// `w0 = imm` (`b4 00 00 00 imm32`).
func movW0(_ imm: Int32) -> [UInt8] {
  BPFInstruction(opcode: 0xb4, immediate: imm).bytes
}

/// `exit`.
let exitInstruction: [UInt8] = [0x95, 0, 0, 0, 0, 0, 0, 0]
/// The first slot of `r1 = imm64` (`ld_imm64`), before relocation.
let lddwR1: [UInt8] = [0x18, 0x01, 0, 0, 0, 0, 0, 0]

/// One relocation in code, as the tests spell it.
func rel(_ section: Int, _ offset: UInt64, _ type: BPFRelocationType, _ symbol: Int,
         _ name: String, _ target: RelocationTarget) -> BPFRelocation {
  BPFRelocation(sectionIndex: section, offset: offset, type: type, symbolIndex: symbol,
                symbolName: name, target: target)
}

@Suite("Reader: exact values of every fixture")
struct ReaderFixtureTests {
  // MARK: xdp_pass.o

  @Test func xdpPass() throws {
    let object = try fixtureObject("xdp_pass")
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
    let object = try fixtureObject("blocklist_btf")
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
    let object = try fixtureObject("blocklist_legacy")
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
    let btf = try fixtureObject("blocklist_btf")
    let legacy = try fixtureObject("blocklist_legacy")
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
    let object = try fixtureObject("legacy_long")
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
    let object = try fixtureObject("globals")
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
}
