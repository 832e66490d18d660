// Malformed objects: corrupted variants of the fixtures, each expected to throw its own
// ObjectError with the numbers that locate the problem; and sweeps (every truncation, every
// flipped header byte) that must throw or parse but never trap.
//
// The corruptions patch fields found by walking the fixture's own ELF tables (ObjectMutation.swift),
// so no test hard-codes a file offset; the expected errors are computed from the same walk.

import Testing

@testable import XDPKitObject

/// What a corrupted object must throw.
enum ExpectedFailure: Sendable, Equatable {
  /// Exactly this error, numbers included.
  case error(ObjectError)
  /// `invalidBTFMapDefinition` for this map, whatever the wording of the reason.
  case invalidBTFMapDefinition(map: String)

  func matches(_ error: ObjectError) -> Bool {
    switch self {
    case .error(let expected): return error == expected
    case .invalidBTFMapDefinition(let map):
      if case .invalidBTFMapDefinition(map, _) = error { return true }
      return false
    }
  }
}

/// One corrupted variant of a fixture: `corrupt` patches the image and returns what parsing it
/// must throw.
struct Corruption: Sendable, CustomTestStringConvertible {
  var fixture: String
  var name: String
  var corrupt: @Sendable (inout ObjectImage) throws -> ExpectedFailure

  init(_ fixture: String, _ name: String,
       _ corrupt: @escaping @Sendable (inout ObjectImage) throws -> ExpectedFailure) {
    self.fixture = fixture
    self.name = name
    self.corrupt = corrupt
  }

  var testDescription: String { "\(fixture).o: \(name)" }
}

/// Shorthand for an exact expected error.
private func fails(_ error: ObjectError) -> ExpectedFailure { .error(error) }

/// The BTF type id of member `member` of the struct behind `.maps` variable `map`, following
/// the pointer a `__uint` attribute is declared with down to its array: the id of that array.
private func btfMapAttributeArray(_ image: ObjectImage, map: String, member: String) throws -> BTFTypeID {
  let object = try BPFObject(bytes: image.bytes)
  let btf = try #require(object.btf)
  let variable = try #require(btf.firstType(named: map, kind: .variable))
  guard case .variable(let structID, _) = variable.type.body,
        case .struct(_, let members) = try btf.type(id: btf.skippingModifiers(structID)).body,
        let m = members.first(where: { $0.name == member }),
        case .pointer(let arrayID) = try btf.type(id: m.type).body
  else { throw MutationError(description: "\(map).\(member) is not a __uint attribute") }
  return arrayID
}

/// The file offset of the `name_off` of member `member` of `.maps` variable `map`'s struct.
private func btfMapMemberNameOffset(_ image: ObjectImage, map: String, member: String) throws -> Int {
  let object = try BPFObject(bytes: image.bytes)
  let btf = try #require(object.btf)
  let variable = try #require(btf.firstType(named: map, kind: .variable))
  guard case .variable(let structID, _) = variable.type.body else {
    throw MutationError(description: "\(map) is not a VAR")
  }
  let id = try btf.skippingModifiers(structID)
  guard case .struct(_, let members) = try btf.type(id: id).body,
        let index = members.firstIndex(where: { $0.name == member })
  else { throw MutationError(description: "\(map) has no member \(member)") }
  // A STRUCT record is 12 bytes, then 12 bytes per member starting with name_off.
  return try image.btfTypeRecordOffsets()[Int(id)] + 12 + 12 * index
}

let corruptions: [Corruption] = [
  // MARK: ELF header
  Corruption("xdp_pass", "empty file") { image in
    image.bytes = []
    return fails(.truncatedHeader(size: 0, need: 64))
  },
  Corruption("xdp_pass", "truncated at 10 bytes") { image in
    image.bytes = Array(image.bytes[0..<10])
    return fails(.truncatedHeader(size: 10, need: 64))
  },
  Corruption("xdp_pass", "truncated at 63 bytes") { image in
    image.bytes = Array(image.bytes[0..<63])
    return fails(.truncatedHeader(size: 63, need: 64))
  },
  Corruption("xdp_pass", "wrong magic") { image in
    image.bytes[3] = UInt8(ascii: "G")
    return fails(.notELF(magic: [0x7f, 0x45, 0x4c, 0x47]))
  },
  Corruption("xdp_pass", "not an ELF file at all") { image in
    image.bytes = Array("#!/bin/sh\necho not an object\n".utf8)
    return fails(.notELF(magic: Array("#!/b".utf8)))
  },
  Corruption("xdp_pass", "ELFCLASS32") { image in
    image.bytes[ObjectImage.Header.eiClass] = 1
    return fails(.unsupportedClass(1))
  },
  Corruption("xdp_pass", "big-endian EI_DATA 2") { image in
    image.bytes[ObjectImage.Header.eiData] = 2
    return fails(.bigEndian)
  },
  Corruption("xdp_pass", "EI_DATA 0") { image in
    image.bytes[ObjectImage.Header.eiData] = 0
    return fails(.invalidDataEncoding(0))
  },
  Corruption("xdp_pass", "EI_DATA 3") { image in
    image.bytes[ObjectImage.Header.eiData] = 3
    return fails(.invalidDataEncoding(3))
  },
  Corruption("xdp_pass", "EI_VERSION 0") { image in
    image.bytes[ObjectImage.Header.eiVersion] = 0
    return fails(.unsupportedELFVersion(0))
  },
  Corruption("xdp_pass", "e_version 0") { image in
    try image.write(UInt32(0), at: ObjectImage.Header.version)
    return fails(.unsupportedELFVersion(0))
  },
  Corruption("xdp_pass", "e_version 2") { image in
    try image.write(UInt32(2), at: ObjectImage.Header.version)
    return fails(.unsupportedELFVersion(2))
  },
  Corruption("xdp_pass", "ET_EXEC") { image in
    try image.write(UInt16(2), at: ObjectImage.Header.type)
    return fails(.notRelocatable(type: 2))
  },
  Corruption("xdp_pass", "ET_DYN") { image in
    try image.write(UInt16(3), at: ObjectImage.Header.type)
    return fails(.notRelocatable(type: 3))
  },
  Corruption("xdp_pass", "e_machine x86_64") { image in
    try image.write(UInt16(62), at: ObjectImage.Header.machine)
    return fails(.unsupportedMachine(62))
  },
  Corruption("xdp_pass", "e_shentsize 40") { image in
    try image.write(UInt16(40), at: ObjectImage.Header.shentsize)
    return fails(.invalidSectionHeaderSize(40))
  },
  Corruption("xdp_pass", "section header table offset at end of file") { image in
    let count = try image.sectionCount
    try image.write(UInt64(image.bytes.count), at: ObjectImage.Header.shoff)
    return fails(.sectionHeaderTableOutOfBounds(offset: UInt64(image.bytes.count), count: count,
                                                fileSize: image.bytes.count))
  },
  Corruption("xdp_pass", "section header table offset overflows") { image in
    let count = try image.sectionCount
    try image.write(UInt64.max - 63, at: ObjectImage.Header.shoff)
    return fails(.sectionHeaderTableOutOfBounds(offset: UInt64.max - 63, count: count,
                                                fileSize: image.bytes.count))
  },
  Corruption("xdp_pass", "one more section than the table holds") { image in
    let count = try image.sectionCount
    let offset = try image.sectionHeaderTableOffset
    try image.write(UInt16(count + 1), at: ObjectImage.Header.shnum)
    return fails(.sectionHeaderTableOutOfBounds(offset: UInt64(offset), count: count + 1,
                                                fileSize: image.bytes.count))
  },
  Corruption("xdp_pass", "e_shstrndx out of range") { image in
    let count = try image.sectionCount
    try image.write(UInt16(count), at: ObjectImage.Header.shstrndx)
    return fails(.invalidSectionNameTable(index: count, sectionCount: count))
  },
  Corruption("xdp_pass", "e_shstrndx 0") { image in
    let count = try image.sectionCount
    try image.write(UInt16(0), at: ObjectImage.Header.shstrndx)
    return fails(.invalidSectionNameTable(index: 0, sectionCount: count))
  },
  Corruption("xdp_pass", "e_shstrndx names a code section") { image in
    let count = try image.sectionCount
    let xdp = try image.section(named: "xdp").index
    try image.write(UInt16(xdp), at: ObjectImage.Header.shstrndx)
    return fails(.invalidSectionNameTable(index: xdp, sectionCount: count))
  },

  // MARK: Sections and strings
  Corruption("xdp_pass", "section offset past end of file") { image in
    let xdp = try image.section(named: "xdp")
    try image.setSection(xdp.index, .offset, to: UInt64(image.bytes.count))
    return fails(.sectionOutOfBounds(index: xdp.index, offset: UInt64(image.bytes.count),
                                     size: xdp.size, fileSize: image.bytes.count))
  },
  Corruption("xdp_pass", "section size past end of file") { image in
    let btf = try image.section(named: ".BTF")
    let size = UInt64(image.bytes.count) - btf.offset + 1
    try image.setSection(btf.index, .size, to: size)
    return fails(.sectionOutOfBounds(index: btf.index, offset: btf.offset, size: size,
                                     fileSize: image.bytes.count))
  },
  Corruption("xdp_pass", "section offset + size overflows") { image in
    let xdp = try image.section(named: "xdp")
    try image.setSection(xdp.index, .offset, to: UInt64.max - 7)
    return fails(.sectionOutOfBounds(index: xdp.index, offset: UInt64.max - 7, size: xdp.size,
                                     fileSize: image.bytes.count))
  },
  Corruption("xdp_pass", "section name offset past the name table") { image in
    let names = try image.section(try image.sectionNameTableIndex)
    let xdp = try image.section(named: "xdp")
    try image.setSection(xdp.index, .name, to: names.size)
    return fails(.badStringOffset(table: names.index, offset: UInt32(names.size), tableSize: Int(names.size)))
  },
  Corruption("xdp_pass", "symbol name offset past the string table") { image in
    let symtab = try #require(try image.sections.first { $0.type == ELFConstants.shtSymTab })
    let strtab = try image.section(Int(symtab.link))
    let symbol = try image.symbol(named: "xdp_pass")
    try image.write(UInt32(strtab.size + 100), at: symbol.entryOffset)
    return fails(.badStringOffset(table: strtab.index, offset: UInt32(strtab.size + 100),
                                  tableSize: Int(strtab.size)))
  },
  Corruption("xdp_pass", "symbol table entry size 16") { image in
    let symtab = try #require(try image.sections.first { $0.type == ELFConstants.shtSymTab })
    try image.setSection(symtab.index, .entrySize, to: 16)
    return fails(.invalidEntrySize(section: symtab.index, entrySize: 16, expected: 24))
  },
  Corruption("xdp_pass", "symbol table size not a whole number of entries") { image in
    let symtab = try #require(try image.sections.first { $0.type == ELFConstants.shtSymTab })
    try image.setSection(symtab.index, .size, to: symtab.size - 5)
    return fails(.sizeNotMultipleOfEntry(section: symtab.index, size: symtab.size - 5, entrySize: 24))
  },
  Corruption("xdp_pass", "compressed section name table") { image in
    let names = try image.section(named: ".strtab")
    try image.setSection(names.index, .flags, to: names.flags | 0x800)
    return fails(.compressedSection(index: names.index))
  },
  Corruption("xdp_pass", "symbol table linked to a code section") { image in
    let symtab = try #require(try image.sections.first { $0.type == ELFConstants.shtSymTab })
    let xdp = try image.section(named: "xdp").index
    try image.setSection(symtab.index, .link, to: UInt64(xdp))
    return fails(.invalidSectionLink(section: symtab.index, link: UInt32(xdp)))
  },
  Corruption("xdp_pass", "second symbol table") { image in
    let symtab = try #require(try image.sections.first { $0.type == ELFConstants.shtSymTab })
    let addrsig = try image.section(named: ".llvm_addrsig")
    try image.setSection(addrsig.index, .type, to: UInt64(ELFConstants.shtSymTab))
    return fails(.multipleSymbolTables(first: addrsig.index, second: symtab.index))
  },

  // MARK: Symbols
  Corruption("xdp_pass", "symbol section index past the section count") { image in
    let count = try image.sectionCount
    let symbol = try image.symbol(named: "xdp_pass")
    try image.setSymbol("xdp_pass", sectionIndex: UInt16(count))
    return fails(.symbolSectionOutOfRange(symbol: symbol.index, name: "xdp_pass",
                                          sectionIndex: UInt16(count), sectionCount: count))
  },
  Corruption("xdp_pass", "symbol size past its section") { image in
    let symbol = try image.symbol(named: "xdp_pass")
    let xdp = try image.section(named: "xdp")
    try image.setSymbol("xdp_pass", size: xdp.size + 8)
    return fails(.symbolOutsideSection(symbol: symbol.index, name: "xdp_pass", section: xdp.index,
                                       value: 0, size: xdp.size + 8, sectionSize: xdp.size))
  },
  Corruption("xdp_pass", "symbol value + size overflows") { image in
    let symbol = try image.symbol(named: "xdp_pass")
    let xdp = try image.section(named: "xdp")
    try image.setSymbol("xdp_pass", value: UInt64.max - 7)
    return fails(.symbolOutsideSection(symbol: symbol.index, name: "xdp_pass", section: xdp.index,
                                       value: UInt64.max - 7, size: symbol.size, sectionSize: xdp.size))
  },
  Corruption("xdp_pass", "LICENSE symbol past its section") { image in
    let symbol = try image.symbol(named: "LICENSE")
    let license = try image.section(named: "license")
    try image.setSymbol("LICENSE", value: 1)
    return fails(.symbolOutsideSection(symbol: symbol.index, name: "LICENSE", section: license.index,
                                       value: 1, size: 4, sectionSize: license.size))
  },

  // MARK: Code
  Corruption("xdp_pass", "function size 12") { image in
    let xdp = try image.section(named: "xdp")
    try image.setSymbol("xdp_pass", size: 12)
    return fails(.instructionsNotMultipleOf8(section: xdp.index, name: "xdp_pass", offset: 0, size: 12))
  },
  Corruption("xdp_pass", "function size 0") { image in
    let xdp = try image.section(named: "xdp")
    try image.setSymbol("xdp_pass", size: 0)
    return fails(.instructionsNotMultipleOf8(section: xdp.index, name: "xdp_pass", offset: 0, size: 0))
  },
  Corruption("xdp_pass", "function at offset 4") { image in
    let xdp = try image.section(named: "xdp")
    try image.setSymbol("xdp_pass", value: 4, size: 8)
    return fails(.instructionsNotMultipleOf8(section: xdp.index, name: "xdp_pass", offset: 4, size: 8))
  },
  Corruption("xdp_pass", "code section size 12") { image in
    let xdp = try image.section(named: "xdp")
    try image.setSymbol("xdp_pass", size: 8)
    try image.setSection(xdp.index, .size, to: 12)
    return fails(.instructionsNotMultipleOf8(section: xdp.index, name: "xdp", offset: 0, size: 12))
  },
  Corruption("map_in_map", "overlapping functions") { image in
    let xdp = try image.section(named: "xdp")
    try image.setSymbol("xdp_tail_target", size: 24)
    return fails(.overlappingFunctions(section: xdp.index, first: "xdp_tail_target", second: "xdp_maps"))
  },

  // MARK: Relocations
  Corruption("blocklist_btf", "relocation symbol index past the table") { image in
    let relxdp = try image.section(named: ".relxdp")
    let count = try image.symbols.count
    try image.setRelocation(in: ".relxdp", entry: 0, symbolIndex: UInt32(count))
    return fails(.relocationSymbolOutOfRange(relocationSection: relxdp.index, entry: 0,
                                             symbol: UInt32(count), symbolCount: count))
  },
  Corruption("blocklist_btf", "relocation offset at the end of its section") { image in
    let relxdp = try image.section(named: ".relxdp")
    let xdp = try image.section(named: "xdp")
    try image.setRelocation(in: ".relxdp", entry: 1, offset: xdp.size)
    return fails(.relocationOffsetOutOfBounds(relocationSection: relxdp.index, entry: 1,
                                              offset: xdp.size, sectionSize: xdp.size))
  },
  Corruption("blocklist_btf", "unknown relocation type 99") { image in
    let relxdp = try image.section(named: ".relxdp")
    try image.setRelocation(in: ".relxdp", entry: 0, type: 99)
    return fails(.unknownRelocationType(relocationSection: relxdp.index, entry: 0, type: 99))
  },
  Corruption("blocklist_btf", "relocation on a load instruction") { image in
    let xdp = try image.section(named: "xdp")
    try image.setRelocation(in: ".relxdp", entry: 0, offset: 0)
    // Instruction 0 is `r2 = *(u32 *)(r1 + 4)` (0x61).
    return fails(.relocationOnWrongInstruction(section: xdp.index, offset: 0, opcode: 0x61, type: 1))
  },
  Corruption("blocklist_btf", "relocation on the second half of an lddw") { image in
    let xdp = try image.section(named: "xdp")
    let first = try image.relocations(in: ".relxdp")[0].offset
    try image.setRelocation(in: ".relxdp", entry: 0, offset: first + 8)
    return fails(.relocationOnWrongInstruction(section: xdp.index, offset: first + 8, opcode: 0, type: 1))
  },
  Corruption("blocklist_btf", "relocation offset not instruction-aligned") { image in
    let xdp = try image.section(named: "xdp")
    let first = try image.relocations(in: ".relxdp")[0].offset
    try image.setRelocation(in: ".relxdp", entry: 0, offset: first + 4)
    return fails(.relocationOnWrongInstruction(section: xdp.index, offset: first + 4, opcode: 0, type: 1))
  },
  Corruption("blocklist_btf", "relocation against the null symbol") { image in
    let xdp = try image.section(named: "xdp")
    let first = try image.relocations(in: ".relxdp")[0].offset
    try image.setRelocation(in: ".relxdp", entry: 0, symbolIndex: 0)
    return fails(.relocationAgainstUnusableSymbol(section: xdp.index, offset: first, symbol: 0, name: ""))
  },
  Corruption("blocklist_btf", "relocation against the FILE symbol") { image in
    let xdp = try image.section(named: "xdp")
    let first = try image.relocations(in: ".relxdp")[0].offset
    try image.setRelocation(in: ".relxdp", entry: 0, symbolIndex: 1)
    return fails(.relocationAgainstUnusableSymbol(section: xdp.index, offset: first, symbol: 1,
                                                  name: "blocklist_btf.c"))
  },
  Corruption("blocklist_btf", "relocation section targets no section") { image in
    let relxdp = try image.section(named: ".relxdp")
    let count = try image.sectionCount
    try image.setSection(relxdp.index, .info, to: UInt64(count))
    return fails(.invalidRelocationTarget(relocationSection: relxdp.index, target: UInt32(count)))
  },
  Corruption("blocklist_btf", "relocation section size not a whole number of entries") { image in
    let relxdp = try image.section(named: ".relxdp")
    try image.setSection(relxdp.index, .size, to: relxdp.size - 3)
    return fails(.sizeNotMultipleOfEntry(section: relxdp.index, size: relxdp.size - 3, entrySize: 16))
  },
  Corruption("blocklist_btf", "relocation section entry size 24") { image in
    let relxdp = try image.section(named: ".relxdp")
    try image.setSection(relxdp.index, .entrySize, to: 24)
    return fails(.invalidEntrySize(section: relxdp.index, entrySize: 24, expected: 16))
  },

  // MARK: Map sections
  Corruption("blocklist_legacy", "legacy maps section without contents (SHT_NOBITS)") { image in
    let maps = try image.section(named: "maps")
    try image.setSection(maps.index, .type, to: 8)
    return fails(.mapSectionWithoutContents(section: maps.index, type: 8))
  },
  Corruption("blocklist_btf", ".maps section without contents (SHT_NOBITS)") { image in
    let maps = try image.section(named: ".maps")
    try image.setSection(maps.index, .type, to: 8)
    return fails(.mapSectionWithoutContents(section: maps.index, type: 8))
  },

  // MARK: Legacy maps
  Corruption("blocklist_legacy", "legacy map of unknown type 200") { image in
    try image.write(UInt32(200), at: image.fileOffset(inSection: "maps", 0))  // BLOCKLIST.type
    return fails(.unknownMapType(map: "BLOCKLIST", type: 200))
  },
  Corruption("blocklist_legacy", "legacy map record of 12 bytes") { image in
    let maps = try image.section(named: "maps")
    try image.setSymbol("BLOCKLIST", size: 12)
    return fails(.invalidLegacyMapDefinition(map: "BLOCKLIST", offset: 0, size: 12, sectionSize: maps.size))
  },
  Corruption("blocklist_legacy", "legacy map record runs past the section") { image in
    // With st_size 0 the record size is the section size over the map count (20 bytes).
    let maps = try image.section(named: "maps")
    try image.setSymbol("STATS", value: 0x18, size: 0)
    return fails(.invalidLegacyMapDefinition(map: "STATS", offset: 0x18, size: 20, sectionSize: maps.size))
  },
  Corruption("legacy_long", "legacy record with non-zero unknown fields") { image in
    // A 40-byte COUNTERS record takes in PINNED's value_size (4) at byte 36.
    try image.setSymbol("COUNTERS", size: 40)
    return fails(.legacyMapDefinitionHasUnknownFields(map: "COUNTERS", size: 40, offset: 36))
  },
  Corruption("legacy_long", "legacy record of 22 bytes with a non-zero byte past map_flags") { image in
    // COUNTERS' bytes 20-21 are its id (field 5); cut at 22 bytes they are unknown bytes.
    try image.setSymbol("COUNTERS", size: 22)
    let maps = try image.section(named: "maps")
    try image.write(UInt8(9), at: Int(maps.offset) + 21)
    return fails(.legacyMapDefinitionHasUnknownFields(map: "COUNTERS", size: 22, offset: 21))
  },
  Corruption("legacy_long", "legacy record with iproute2 inner_id and inner_idx") { image in
    // A 36-byte COUNTERS record reads PINNED's type (1) and key_size (4) as inner_id/inner_idx.
    try image.setSymbol("COUNTERS", size: 36)
    return fails(.legacyMapInMapNotSupported(map: "COUNTERS", innerID: 1, innerIndex: 4))
  },
  Corruption("legacy_long", "legacy pinning 7") { image in
    let pinned = try image.symbol(named: "PINNED")
    try image.write(UInt32(7), at: image.fileOffset(inSection: "maps", pinned.value + 24))
    return fails(.unknownPinning(map: "PINNED", value: 7))
  },

  // MARK: BTF maps
  Corruption("blocklist_btf", "BTF map of unknown type 200") { image in
    let array = try btfMapAttributeArray(image, map: "BLOCKLIST", member: "type")
    // ARRAY record: 12-byte header, then type, index_type, nelems.
    try image.write(UInt32(200), at: image.btfTypeRecordOffsets()[Int(array)] + 12 + 8)
    return fails(.unknownMapType(map: "BLOCKLIST", type: 200))
  },
  Corruption("blocklist_btf", "BTF map attribute the reader does not know") { image in
    // Rename BLOCKLIST's `key` member to the string "STATS".
    let object = try BPFObject(bytes: image.bytes)
    let stats = try #require(object.btf?.firstType(named: "STATS", kind: .variable))
    try image.write(stats.type.nameOffset, at: btfMapMemberNameOffset(image, map: "BLOCKLIST", member: "key"))
    return fails(.unknownBTFMapAttribute(map: "BLOCKLIST", attribute: "STATS"))
  },
  Corruption("blocklist_btf", "BTF map symbol without a DATASEC entry") { image in
    // Give the BLOCKLIST symbol the name "LICENSE", which `.maps` does not list.
    let license = try image.symbol(named: "LICENSE")
    let blocklist = try image.symbol(named: "BLOCKLIST")
    try image.write(try image.u32(license.entryOffset), at: blocklist.entryOffset)
    return .invalidBTFMapDefinition(map: "LICENSE")
  },
  Corruption("blocklist_btf", ".maps without .BTF") { image in
    // Rename `.BTF` to `BTF` by pointing its name one byte further.
    let btf = try image.section(named: ".BTF")
    try image.setSection(btf.index, .name, to: UInt64(btf.nameOffset) + 1)
    return fails(.btfMapsWithoutBTF)
  },
  Corruption("map_in_map", "map-in-map slot holding a program") { image in
    let program = try image.symbol(named: "xdp_maps")
    try image.setRelocation(in: ".rel.maps", entry: 0, symbolIndex: UInt32(program.index))
    return fails(.invalidMapInitialValue(map: "OUTER", slot: 1, symbol: "xdp_maps"))
  },
  Corruption("map_in_map", "program array slot holding a map") { image in
    let inner = try image.symbol(named: "INNER")
    try image.setRelocation(in: ".rel.maps", entry: 1, symbolIndex: UInt32(inner.index))
    return fails(.invalidMapInitialValue(map: "JUMP_TABLE", slot: 2, symbol: "INNER"))
  },
  Corruption("map_in_map", "map-in-map slot not 8-byte aligned") { image in
    let first = try image.relocations(in: ".rel.maps")[0].offset
    try image.setRelocation(in: ".rel.maps", entry: 0, offset: first + 4)
    return fails(.invalidMapInitialValue(map: "OUTER", slot: -1, symbol: "INNER"))
  },

  // MARK: Other sections
  Corruption("xdp_pass", "license not NUL-terminated") { image in
    try image.write(UInt8(ascii: "X"), at: image.fileOffset(inSection: "license", 3))
    return fails(.invalidLicense(size: 4))
  },
  Corruption("extern", "version section of 3 bytes") { image in
    let version = try image.section(named: "version")
    try image.setSymbol("_version", size: 0)
    try image.setSection(version.index, .size, to: 3)
    return fails(.invalidVersionSection(size: 3))
  },
  Corruption("xdp_pass", ".BTF with bad magic") { image in
    try image.write(UInt16(0x1234), at: image.fileOffset(inSection: ".BTF"))
    return fails(.btf(.badMagic(.btf, found: 0x1234)))
  },
  Corruption("xdp_pass", ".BTF byte-swapped magic") { image in
    try image.write(UInt16(0x9feb), at: image.fileOffset(inSection: ".BTF"))
    return fails(.btf(.bigEndian(.btf)))
  },
  Corruption("xdp_pass", ".BTF.ext with bad magic") { image in
    try image.write(UInt16(0), at: image.fileOffset(inSection: ".BTF.ext"))
    return fails(.btf(.badMagic(.btfExt, found: 0)))
  },
]

@Suite("Reader: malformed objects")
struct MalformedObjectTests {
  @Test(arguments: corruptions)
  func corruptedObjectThrowsItsError(_ corruption: Corruption) throws {
    var image = try ObjectImage(fixture: corruption.fixture)
    let expected = try corruption.corrupt(&image)
    do {
      let object = try BPFObject(bytes: image.bytes)
      Issue.record("parsed, with \(object.programs.count) programs and \(object.maps.count) maps; expected \(expected)")
    } catch {
      #expect(expected.matches(error), "threw \(error)")
    }
  }

  /// Each corruption changes only what it means to: the untouched fixture parses.
  @Test(arguments: Set(corruptions.map(\.fixture)).sorted())
  func uncorruptedFixtureParses(_ fixture: String) throws {
    _ = try BPFObject(bytes: try ObjectImage(fixture: fixture).bytes)
  }

  // MARK: Accepted variants

  @Test func machineNoneIsAccepted() throws {
    var image = try ObjectImage(fixture: "xdp_pass")
    try image.write(UInt16(0), at: ObjectImage.Header.machine)
    let object = try BPFObject(bytes: image.bytes)
    #expect(object.elf.machine == 0)
    #expect(object.programs.map(\.name) == ["xdp_pass"])
  }

  @Test func extendedSectionNumberingGivesTheSameObject() throws {
    let original = try BPFObject(bytes: fixtureBytes("blocklist_btf"))
    var image = try ObjectImage(fixture: "blocklist_btf")
    let count = try image.sectionCount
    let names = try image.sectionNameTableIndex
    // e_shnum 0: the count is in section 0's sh_size; e_shstrndx SHN_XINDEX: in its sh_link.
    try image.setSection(0, .size, to: UInt64(count))
    try image.setSection(0, .link, to: UInt64(names))
    try image.write(UInt16(0), at: ObjectImage.Header.shnum)
    try image.write(UInt16(0xffff), at: ObjectImage.Header.shstrndx)
    let object = try BPFObject(bytes: image.bytes)
    #expect(object.elf.sections.count == count)
    #expect(object.programs == original.programs)
    #expect(object.maps == original.maps)
    #expect(Array(object.elf.sections.dropFirst()) == Array(original.elf.sections.dropFirst()))
  }

  @Test func extendedSectionCountPastTheFileIsRejected() throws {
    var image = try ObjectImage(fixture: "xdp_pass")
    let offset = try image.sectionHeaderTableOffset
    try image.setSection(0, .size, to: UInt64(image.bytes.count))
    try image.write(UInt16(0), at: ObjectImage.Header.shnum)
    #expect(throws: ObjectError.sectionHeaderTableOutOfBounds(
      offset: UInt64(offset), count: image.bytes.count, fileSize: image.bytes.count)) {
      try BPFObject(bytes: image.bytes)
    }
  }

  // MARK: Regressions: inputs that used to trap

  /// Found by the header flip sweep: an executable section whose type is SHT_NULL (inactive, its
  /// range never checked, no contents) used to be sliced for its functions and trapped.
  @Test func inactiveCodeSectionHoldsNoFunctions() throws {
    var image = try ObjectImage(fixture: "xdp_pass")
    let xdp = try image.section(named: "xdp")
    try image.setSection(xdp.index, .type, to: UInt64(ELFConstants.shtNull))
    let object = try BPFObject(bytes: image.bytes)
    #expect(object.functions.isEmpty)
    #expect(object.programs.isEmpty)
    #expect(object.license == "GPL")

    // With relocations against it, the relocated instructions are missing.
    var blocklist = try ObjectImage(fixture: "blocklist_btf")
    let code = try blocklist.section(named: "xdp")
    let first = try blocklist.relocations(in: ".relxdp")[0].offset
    try blocklist.setSection(code.index, .type, to: UInt64(ELFConstants.shtNull))
    #expect(throws: ObjectError.relocationOnWrongInstruction(section: code.index, offset: first, opcode: 0, type: 1)) {
      try BPFObject(bytes: blocklist.bytes)
    }
  }

  @Test func sectionSymbolWithHugeValueThrows() throws {
    // The `.bss` section symbol (which the `drops` relocation uses) with a value past Int64.
    var image = try ObjectImage(fixture: "globals")
    let bssIndex = UInt16(try image.section(named: ".bss").index)
    let bss = try #require(try image.symbols.first { $0.info & 0xf == 3 && $0.sectionIndex == bssIndex })
    try image.write(UInt64.max - 3, at: bss.entryOffset + 8)
    let rel = try #require(try image.relocations(in: ".relxdp").first { $0.symbolIndex == bss.index })
    let xdp = try image.section(named: "xdp")
    #expect(throws: ObjectError.relocationTargetOutOfRange(
      section: xdp.index, offset: rel.offset, symbol: bss.index, value: UInt64.max - 3, displacement: 8)) {
      try BPFObject(bytes: image.bytes)
    }
  }

  @Test func sectionSymbolCallWithHugeValueThrows() throws {
    var image = try ObjectImage(fixture: "calls")
    let text = try #require(try image.symbols.first { $0.info & 0xf == 3 && $0.sectionIndex == 2 })
    try image.write(UInt64(Int64.max), at: text.entryOffset + 8)
    let rel = try #require(try image.relocations(in: ".relxdp").first { $0.symbolIndex == text.index })
    let xdp = try image.section(named: "xdp")
    // The first `.text` section-symbol call is `clamp_action`'s, imm 2: displacement (2 + 1) * 8.
    #expect(throws: ObjectError.relocationTargetOutOfRange(
      section: xdp.index, offset: rel.offset, symbol: text.index, value: UInt64(Int64.max), displacement: 24)) {
      try BPFObject(bytes: image.bytes)
    }
  }

  @Test func sectionSymbolMapReferenceWithNegativeImmediate() throws {
    // Make BLOCKLIST's symbol a section symbol and give its lddw a negative immediate: the
    // reader compares the immediate with map offsets, and must not trap converting it.
    var image = try ObjectImage(fixture: "blocklist_btf")
    let rel = try image.relocations(in: ".relxdp")[0]
    try image.setSymbol("BLOCKLIST", info: ELFConstants.sttSection)
    try image.write(UInt32(bitPattern: -8), at: image.fileOffset(inSection: "xdp", rel.offset + 4))
    let xdp = try image.section(named: "xdp")
    #expect(throws: ObjectError.relocationAgainstUnusableSymbol(
      section: xdp.index, offset: rel.offset, symbol: Int(rel.symbolIndex), name: ".maps")) {
      try BPFObject(bytes: image.bytes)
    }
  }

  // MARK: Sweeps

  @Test func everyTruncationOfXDPPassThrows() throws {
    let bytes = try fixtureBytes("xdp_pass")
    let image = ObjectImage(bytes)
    let tableOffset = try image.sectionHeaderTableOffset
    let tableEnd = tableOffset + (try image.sectionCount) * 64
    #expect(tableEnd == bytes.count, "the section header table ends the file")
    for length in 0..<bytes.count {
      let expected: ObjectError = length < 64
        ? .truncatedHeader(size: length, need: 64)
        : .sectionHeaderTableOutOfBounds(offset: UInt64(tableOffset), count: try image.sectionCount,
                                         fileSize: length)
      do {
        _ = try BPFObject(bytes: Array(bytes[0..<length]))
        Issue.record("a \(length)-byte prefix parsed")
      } catch {
        #expect(error == expected, "length \(length)")
      }
    }
    let whole = try BPFObject(bytes: bytes)
    #expect(whole.programs.map(\.name) == ["xdp_pass"])
  }

  /// Flips each byte of the ELF header and of the section header table, one at a time and in
  /// three ways; each variant must parse or throw an ObjectError. A trap ends the test process.
  @Test(arguments: ["map_in_map", "multi_prog"])
  func flippedHeaderBytesNeverTrap(_ fixture: String) throws {
    let bytes = try fixtureBytes(fixture)
    let image = ObjectImage(bytes)
    let positions = Array(0..<ObjectImage.Header.size) + Array(try image.sectionHeaderTableRange)
    var parsed = 0
    var thrown = 0
    for position in positions {
      for flip: UInt8 in [0xff, 0x01, 0x80] {
        var variant = bytes
        variant[position] ^= flip
        do {
          _ = try BPFObject(bytes: variant)
          parsed += 1
        } catch {
          thrown += 1
        }
      }
    }
    #expect(parsed + thrown == positions.count * 3)
    #expect(thrown > 0)
    #expect(parsed > 0)  // e.g. flipped sh_addralign or e_flags bits are not checked
  }
}
