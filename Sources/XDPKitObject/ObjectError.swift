/// Everything that can be wrong with a BPF object file, each case carrying the numbers that
/// locate the problem (section index, offset, sizes).
///
/// The reader throws one of these for any malformed input; it never traps.
public enum ObjectError: Error, Equatable, Sendable, CustomStringConvertible {
  // MARK: ELF header
  /// The file is shorter than the structure being read (`need` bytes at least).
  case truncatedHeader(size: Int, need: Int)
  /// The first four bytes are not `\x7fELF`.
  case notELF(magic: [UInt8])
  /// `EI_CLASS` is not ELFCLASS64 (2).
  case unsupportedClass(UInt8)
  /// The object is big-endian (`EI_DATA` = ELFDATA2MSB); only little-endian BPF objects load here.
  case bigEndian
  /// `EI_DATA` is neither little- nor big-endian.
  case invalidDataEncoding(UInt8)
  /// `EI_VERSION` / `e_version` is not EV_CURRENT (1).
  case unsupportedELFVersion(UInt32)
  /// `e_type` is not ET_REL (1): BPF objects are relocatable files.
  case notRelocatable(type: UInt16)
  /// `e_machine` is neither EM_BPF (247) nor EM_NONE (0).
  case unsupportedMachine(UInt16)
  /// `e_shentsize` is not the 64-byte size of an ELF64 section header.
  case invalidSectionHeaderSize(UInt16)
  /// The section header table does not fit in the file.
  case sectionHeaderTableOutOfBounds(offset: UInt64, count: Int, fileSize: Int)
  /// `e_shstrndx` names a section that does not exist or is not a string table.
  case invalidSectionNameTable(index: Int, sectionCount: Int)

  // MARK: Sections and strings
  /// A section's file range lies outside the file.
  case sectionOutOfBounds(index: Int, offset: UInt64, size: UInt64, fileSize: Int)
  /// A string offset lies outside its string table (or the string is not NUL-terminated).
  case badStringOffset(table: Int, offset: UInt32, tableSize: Int)
  /// A section's `sh_link` names a section that does not exist or has the wrong type.
  case invalidSectionLink(section: Int, link: UInt32)
  /// A table section's `sh_entsize` does not match the structure it holds.
  case invalidEntrySize(section: Int, entrySize: UInt64, expected: UInt64)
  /// A table section's size is not a whole number of entries.
  case sizeNotMultipleOfEntry(section: Int, size: UInt64, entrySize: UInt64)
  /// A section the reader must interpret is compressed (SHF_COMPRESSED).
  case compressedSection(index: Int)
  /// More than one symbol table; BPF objects have exactly one.
  case multipleSymbolTables(first: Int, second: Int)

  // MARK: Symbols
  /// A symbol's `st_shndx` is not a section of this file.
  case symbolSectionOutOfRange(symbol: Int, name: String, sectionIndex: UInt16, sectionCount: Int)
  /// A symbol's value/size range lies outside the section it belongs to.
  case symbolOutsideSection(symbol: Int, name: String, section: Int, value: UInt64, size: UInt64,
                            sectionSize: UInt64)

  // MARK: Code
  /// An executable section's size, or a function's offset or size, is not a multiple of 8.
  case instructionsNotMultipleOf8(section: Int, name: String, offset: UInt64, size: UInt64)
  /// Two functions of one section overlap.
  case overlappingFunctions(section: Int, first: String, second: String)

  // MARK: Relocations
  /// A relocation section's `sh_info` does not name a section of this file.
  case invalidRelocationTarget(relocationSection: Int, target: UInt32)
  /// A relocation entry names a symbol index past the end of the symbol table.
  case relocationSymbolOutOfRange(relocationSection: Int, entry: Int, symbol: UInt32,
                                  symbolCount: Int)
  /// A relocation entry's offset lies outside its target section.
  case relocationOffsetOutOfBounds(relocationSection: Int, entry: Int, offset: UInt64,
                                   sectionSize: UInt64)
  /// A relocation type that BPF objects do not use.
  case unknownRelocationType(relocationSection: Int, entry: Int, type: UInt32)
  /// A relocation in code points at an instruction that cannot take it (e.g. R_BPF_64_64 on
  /// anything but a 16-byte `ld_imm64`).
  case relocationOnWrongInstruction(section: Int, offset: UInt64, opcode: UInt8, type: UInt32)
  /// A relocation in code is against a symbol index 0 or a symbol of a kind the loader cannot
  /// resolve (e.g. a file symbol).
  case relocationAgainstUnusableSymbol(section: Int, offset: UInt64, symbol: Int, name: String)

  /// A relocation in code resolves to symbol value plus instruction displacement, and that sum
  /// does not fit a signed 64-bit offset (a crafted symbol value).
  case relocationTargetOutOfRange(section: Int, offset: UInt64, symbol: Int, value: UInt64,
                                  displacement: Int64)

  // MARK: Maps
  /// A map's type is not a known `enum bpf_map_type` value.
  case unknownMapType(map: String, type: UInt32)
  /// A legacy `maps` record is smaller than the four mandatory fields, or runs past the section.
  case invalidLegacyMapDefinition(map: String, offset: UInt64, size: UInt64, sectionSize: UInt64)
  /// A legacy map record has non-zero bytes past the fields this reader knows; `offset` is
  /// the first such byte's offset in the record.
  case legacyMapDefinitionHasUnknownFields(map: String, size: UInt64, offset: UInt64)
  /// A legacy (iproute2) map record sets `inner_id` or `inner_idx`, map-in-map wiring this
  /// loader does not apply.
  case legacyMapInMapNotSupported(map: String, innerID: UInt32, innerIndex: UInt32)
  /// The pinning value is not one the reader understands.
  case unknownPinning(map: String, value: UInt32)
  /// An extern (`__kconfig`, `__ksym` or kfunc) has no BTF description to tell what it is.
  case externWithoutBTF(name: String)
  /// A `__kconfig` extern has a C type its value cannot be stored in.
  case unsupportedExternType(name: String, reason: String)
  /// An extern is declared neither `__ksym` nor `__kconfig`: something the object expects
  /// another compilation unit to define, which only linking (`bpftool gen object`) provides.
  /// It is not looked up in the kernel, where a symbol of the same name may be something else.
  case externNotKernelSymbol(name: String)
  /// A map section (`maps` or `.maps`) holds no file bytes (it must be SHT_PROGBITS).
  case mapSectionWithoutContents(section: Int, type: UInt32)
  /// The object has a `.maps` section but no `.BTF` to describe it.
  case btfMapsWithoutBTF
  /// A `.maps` variable has no DATASEC entry / no symbol, or a malformed definition.
  case invalidBTFMapDefinition(map: String, reason: String)
  /// A `.maps` definition has an attribute this reader does not know.
  case unknownBTFMapAttribute(map: String, attribute: String)
  /// A map-in-map or prog-array initial value points at something that is not a map/program.
  case invalidMapInitialValue(map: String, slot: Int, symbol: String)
  /// Two maps have the same name (`static` maps of two linked units, say): maps are known by
  /// name, so each needs its own.
  case duplicateMapName(map: String)

  // MARK: Other sections
  /// The `license` section is not a NUL-terminated string.
  case invalidLicense(size: UInt64)
  /// The `version` section is not exactly 4 bytes.
  case invalidVersionSection(size: UInt64)

  // MARK: BTF
  /// The `.BTF` or `.BTF.ext` section is malformed.
  case btf(BTFError)

  public var description: String {
    switch self {
    case .truncatedHeader(let size, let need):
      return "file is \(size) bytes, too short for an ELF64 header (\(need) bytes)"
    case .notELF(let magic):
      return "not an ELF file: magic is \(magic.map { hexString($0) }.joined(separator: " "))"
    case .unsupportedClass(let c):
      return "ELF class \(c) is not ELFCLASS64 (2)"
    case .bigEndian:
      return "big-endian BPF object (ELFDATA2MSB): compile with -target bpfel or -target bpf on a little-endian host"
    case .invalidDataEncoding(let e):
      return "invalid ELF data encoding \(e)"
    case .unsupportedELFVersion(let v):
      return "unsupported ELF version \(v)"
    case .notRelocatable(let t):
      return "ELF type \(t) is not ET_REL (1): expected a relocatable object from clang -c"
    case .unsupportedMachine(let m):
      return "ELF machine \(m) is not EM_BPF (247)"
    case .invalidSectionHeaderSize(let s):
      return "section header size \(s) is not 64"
    case .sectionHeaderTableOutOfBounds(let off, let count, let size):
      return "section header table (\(count) entries at offset \(off)) exceeds file size \(size)"
    case .invalidSectionNameTable(let i, let n):
      return "section name table index \(i) is invalid (\(n) sections)"
    case .sectionOutOfBounds(let i, let off, let size, let file):
      return "section \(i) (offset \(off), size \(size)) exceeds file size \(file)"
    case .badStringOffset(let t, let off, let size):
      return "string offset \(off) is outside string table section \(t) (\(size) bytes) or unterminated"
    case .invalidSectionLink(let s, let l):
      return "section \(s) links to invalid section \(l)"
    case .invalidEntrySize(let s, let e, let x):
      return "section \(s) has entry size \(e), expected \(x)"
    case .sizeNotMultipleOfEntry(let sec, let size, let entry):
      return "section \(sec) is \(size) bytes, not a whole number of \(entry)-byte entries"
    case .compressedSection(let index):
      return "section \(index) is compressed (SHF_COMPRESSED), which BPF objects do not use for it"
    case .multipleSymbolTables(let a, let b):
      return "more than one symbol table (sections \(a) and \(b))"
    case .symbolSectionOutOfRange(let s, let n, let i, let c):
      return "symbol \(s) '\(n)' refers to section \(i), but there are \(c) sections"
    case .symbolOutsideSection(let s, let n, let sec, let v, let sz, let secSize):
      return "symbol \(s) '\(n)' (value \(v), size \(sz)) lies outside section \(sec) (\(secSize) bytes)"
    case .instructionsNotMultipleOf8(let s, let n, let off, let size):
      return "code '\(n)' in section \(s) at offset \(off) has size \(size), not a multiple of 8"
    case .overlappingFunctions(let s, let a, let b):
      return "functions '\(a)' and '\(b)' overlap in section \(s)"
    case .invalidRelocationTarget(let r, let t):
      return "relocation section \(r) targets invalid section \(t)"
    case .relocationSymbolOutOfRange(let r, let e, let s, let c):
      return "relocation \(e) of section \(r) names symbol \(s), but there are \(c) symbols"
    case .relocationOffsetOutOfBounds(let r, let e, let off, let size):
      return "relocation \(e) of section \(r) at offset \(off) lies outside its target (\(size) bytes)"
    case .unknownRelocationType(let r, let e, let t):
      return "relocation \(e) of section \(r) has unknown type \(t)"
    case .relocationOnWrongInstruction(let s, let off, let op, let t):
      return "relocation type \(t) at offset \(off) of section \(s) is on opcode \(hexString(op)), which cannot take it"
    case .relocationAgainstUnusableSymbol(let s, let off, let sym, let n):
      return "relocation at offset \(off) of section \(s) is against unusable symbol \(sym) '\(n)'"
    case .relocationTargetOutOfRange(let s, let off, let sym, let v, let d):
      return "relocation at offset \(off) of section \(s) targets symbol \(sym) value \(v) plus \(d), which is not a valid offset"
    case .unknownMapType(let m, let t):
      return "map '\(m)' has unknown type \(t)"
    case .invalidLegacyMapDefinition(let m, let off, let size, let secSize):
      return "legacy map '\(m)' at offset \(off) has record size \(size) (section is \(secSize) bytes); at least 16 bytes inside the section are needed"
    case .legacyMapDefinitionHasUnknownFields(let m, let size, let offset):
      return "legacy map '\(m)' has a \(size)-byte record with a non-zero byte at offset \(offset), past the fields this loader knows (type, key_size, value_size, max_entries, map_flags, id, pinning, inner_id, inner_idx); refusing rather than ignoring it"
    case .externWithoutBTF(let name):
      return "extern '\(name)' has no BTF VAR or FUNC in the object (compile with -g so that clang describes it)"
    case .unsupportedExternType(let name, let reason):
      return "extern '\(name)': \(reason)"
    case .externNotKernelSymbol(let name):
      return "extern '\(name)' is declared neither __ksym nor __kconfig, and nothing in the object defines it: link the object that does (bpftool gen object), or declare it __ksym if the kernel provides it"
    case .legacyMapInMapNotSupported(let m, let id, let index):
      return "legacy map '\(m)' sets inner_id \(id) / inner_idx \(index) (iproute2 map-in-map), which this loader does not apply; declare the map in a BTF .maps section with __array(values, …) instead"
    case .unknownPinning(let m, let v):
      return "map '\(m)' has unknown pinning value \(v)"
    case .mapSectionWithoutContents(let sec, let type):
      return "map section \(sec) has type \(type); map definitions need SHT_PROGBITS contents"
    case .btfMapsWithoutBTF:
      return "object has a .maps section but no .BTF section describing it"
    case .invalidBTFMapDefinition(let m, let r):
      return "map '\(m)': \(r)"
    case .unknownBTFMapAttribute(let m, let a):
      return "map '\(m)' has unknown attribute '\(a)'"
    case .invalidMapInitialValue(let m, let slot, let s):
      return "map '\(m)' slot \(slot) is initialised with '\(s)', which is not a map or program of this object"
    case .duplicateMapName(let m):
      return "two maps are named '\(m)' (static maps of two linked units?): maps are known by name, so rename one"
    case .invalidLicense(let size):
      return "license section (\(size) bytes) is not a NUL-terminated string"
    case .invalidVersionSection(let size):
      return "version section is \(size) bytes, expected 4"
    case .btf(let e):
      return "BTF: \(e)"
    }
  }
}

func hexString<T: BinaryInteger>(_ v: T) -> String {
  "0x" + String(v, radix: 16)
}
