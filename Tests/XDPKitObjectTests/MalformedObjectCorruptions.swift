// Corruptions of an object's ELF structure (header, sections, strings, symbols, code,
// relocations), each with the error the reader must throw. Run by MalformedObjectTests.

import Testing
@testable import XDPKitObject

/// Corruptions of the ELF header, sections, strings, symbols, code and relocations.
let fileCorruptions: [Corruption] = [
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
]
