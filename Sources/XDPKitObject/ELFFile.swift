/// An ELF section header, with its name resolved.
public struct ELFSection: Sendable, Equatable {
  /// Index in the section header table.
  public var index: Int
  /// Name from the section name string table.
  public var name: String
  /// `sh_type` (SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_NOBITS = 8, SHT_REL = 9, …).
  public var type: UInt32
  /// `sh_flags` (SHF_WRITE = 1, SHF_ALLOC = 2, SHF_EXECINSTR = 4, …).
  public var flags: UInt64
  /// `sh_offset`: where the contents start in the file.
  public var offset: UInt64
  /// `sh_size`: size in bytes (for SHT_NOBITS, the size in memory; no file bytes).
  public var size: UInt64
  /// `sh_link`.
  public var link: UInt32
  /// `sh_info`.
  public var info: UInt32
  /// `sh_addralign`.
  public var alignment: UInt64
  /// `sh_entsize`.
  public var entrySize: UInt64

  /// Whether the section holds instructions (SHF_EXECINSTR).
  public var isExecutable: Bool { flags & ELFConstants.shfExecInstr != 0 }
  /// Whether the section is writable (SHF_WRITE).
  public var isWritable: Bool { flags & ELFConstants.shfWrite != 0 }
  /// Whether the section takes no file space (SHT_NOBITS), like `.bss`.
  public var isNoBits: Bool { type == ELFConstants.shtNoBits }
}

/// An ELF64 symbol table entry.
///
/// The name stays in the file's symbol string table until ``name`` is asked for: most symbols
/// of an object (branch labels, section symbols) are never looked at by name.
public struct ELFSymbol: Sendable, Equatable {
  /// Index in the symbol table.
  public var index: Int
  /// `st_name`: offset of the name in the symbol string table (0 for unnamed symbols).
  public var nameOffset: UInt32
  /// The bytes of the file and where the name lies in them (checked when the table was read).
  let file: [UInt8]
  let nameStart: Int
  let nameLength: Int
  /// `st_value`: for relocatable objects, the offset inside the symbol's section.
  public var value: UInt64
  /// `st_size`.
  public var size: UInt64
  /// `ST_TYPE(st_info)`: STT_NOTYPE 0, STT_OBJECT 1, STT_FUNC 2, STT_SECTION 3, STT_FILE 4.
  public var type: UInt8
  /// `ST_BIND(st_info)`: STB_LOCAL 0, STB_GLOBAL 1, STB_WEAK 2.
  public var binding: UInt8
  /// `ST_VISIBILITY(st_other)`.
  public var visibility: UInt8
  /// `st_shndx`: the section index, or SHN_UNDEF (0) / SHN_ABS / SHN_COMMON.
  public var sectionIndex: UInt16

  /// Name from the symbol string table (empty for unnamed symbols).
  public var name: String {
    file.withUnsafeBufferPointer { bytes in
      String(decoding: UnsafeBufferPointer(rebasing: bytes[nameStart..<(nameStart + nameLength)]), as: UTF8.self)
    }
  }

  /// Calls `body` with the bytes of the name (no NUL), without building a string.
  func withNameBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    file.withUnsafeBufferPointer { bytes in
      body(UnsafeBufferPointer(rebasing: bytes[nameStart..<(nameStart + nameLength)]))
    }
  }

  /// Whether the name is empty, without building it.
  public var hasName: Bool { nameLength > 0 }

  /// Whether the name is `other`, without building it.
  public func isNamed(_ other: String) -> Bool {
    var other = other
    return other.withUTF8 { wanted in
      wanted.count == nameLength
        && file.withUnsafeBufferPointer { bytes in
          wanted.elementsEqual(UnsafeBufferPointer(rebasing: bytes[nameStart..<(nameStart + nameLength)]))
        }
    }
  }

  /// Same fields and the same name.
  public static func == (lhs: ELFSymbol, rhs: ELFSymbol) -> Bool {
    lhs.index == rhs.index && lhs.nameOffset == rhs.nameOffset && lhs.value == rhs.value
      && lhs.size == rhs.size && lhs.type == rhs.type && lhs.binding == rhs.binding
      && lhs.visibility == rhs.visibility && lhs.sectionIndex == rhs.sectionIndex
      && lhs.isNamed(rhs.name)
  }

  /// Whether the symbol is defined elsewhere (SHN_UNDEF), as an `extern` is.
  public var isUndefined: Bool { sectionIndex == 0 }
  /// Whether the symbol is global or weak.
  public var isGlobal: Bool { binding == ELFConstants.stbGlobal || binding == ELFConstants.stbWeak }
}

/// A raw ELF64 `Elf64_Rel` entry.
public struct ELFRelocation: Sendable, Equatable {
  /// `r_offset`: byte offset in the target section.
  public var offset: UInt64
  /// `ELF64_R_SYM(r_info)`.
  public var symbolIndex: UInt32
  /// `ELF64_R_TYPE(r_info)`.
  public var type: UInt32
}

/// Numeric constants of the ELF format used by the reader.
public enum ELFConstants {
  public static let shtNull: UInt32 = 0
  public static let shtProgBits: UInt32 = 1
  public static let shtSymTab: UInt32 = 2
  public static let shtStrTab: UInt32 = 3
  public static let shtRela: UInt32 = 4
  public static let shtNoBits: UInt32 = 8
  public static let shtRel: UInt32 = 9
  public static let shtLLVMAddrsig: UInt32 = 0x6fff_4c03
  public static let shfWrite: UInt64 = 0x1
  public static let shfAlloc: UInt64 = 0x2
  public static let shfExecInstr: UInt64 = 0x4
  public static let shfCompressed: UInt64 = 0x800
  public static let sttNoType: UInt8 = 0
  public static let sttObject: UInt8 = 1
  public static let sttFunc: UInt8 = 2
  public static let sttSection: UInt8 = 3
  public static let sttFile: UInt8 = 4
  public static let stbLocal: UInt8 = 0
  public static let stbGlobal: UInt8 = 1
  public static let stbWeak: UInt8 = 2
  public static let shnUndef: UInt16 = 0
  public static let shnLoReserve: UInt16 = 0xff00
  public static let shnAbs: UInt16 = 0xfff1
  public static let shnCommon: UInt16 = 0xfff2
  public static let emNone: UInt16 = 0
  public static let emBPF: UInt16 = 247
  public static let etRel: UInt16 = 1
}

/// The ELF layer of a BPF object: header, sections, symbols and raw relocation tables.
///
/// Every offset is checked against the file before it is read.
public struct ELFFile: Sendable {
  /// The whole file.
  public let reader: ByteReader
  /// `e_machine` (EM_BPF = 247, or EM_NONE = 0 from older clang).
  public let machine: UInt16
  /// `e_flags`.
  public let flags: UInt32
  /// All section headers, index 0 being the null section.
  public let sections: [ELFSection]
  /// All symbols of the symbol table, index 0 being the null symbol. Empty if none.
  public let symbols: [ELFSymbol]
  /// Index of the symbol table section, if any.
  public let symbolTableIndex: Int?

  static let headerSize = 64
  static let sectionHeaderSize = 64
  static let symbolSize: UInt64 = 24
  static let relSize: UInt64 = 16

  /// Parses the header, the section table and the symbol table of `bytes`.
  public init(bytes: [UInt8]) throws(ObjectError) {
    let reader = ByteReader(bytes)
    self.reader = reader
    guard bytes.count >= 16 else { throw .truncatedHeader(size: bytes.count, need: Self.headerSize) }
    guard bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46 else {
      throw .notELF(magic: Array(bytes[0..<4]))
    }
    guard bytes[4] == 2 else { throw .unsupportedClass(bytes[4]) }
    switch bytes[5] {
    case 1: break
    case 2: throw .bigEndian
    default: throw .invalidDataEncoding(bytes[5])
    }
    guard bytes.count >= Self.headerSize else {
      throw .truncatedHeader(size: bytes.count, need: Self.headerSize)
    }
    guard bytes[6] == 1 else { throw .unsupportedELFVersion(UInt32(bytes[6])) }
    // The header is wholly inside the file from here on; the force-unwraps cannot fail.
    let type = reader.read(UInt16.self, at: 16)!
    let machine = reader.read(UInt16.self, at: 18)!
    let version = reader.read(UInt32.self, at: 20)!
    let shoff = reader.read(UInt64.self, at: 40)!
    let eflags = reader.read(UInt32.self, at: 48)!
    let shentsize = reader.read(UInt16.self, at: 58)!
    var shnum = Int(reader.read(UInt16.self, at: 60)!)
    var shstrndx = Int(reader.read(UInt16.self, at: 62)!)
    guard version == 1 else { throw .unsupportedELFVersion(version) }
    guard type == ELFConstants.etRel else { throw .notRelocatable(type: type) }
    guard machine == ELFConstants.emBPF || machine == ELFConstants.emNone else {
      throw .unsupportedMachine(machine)
    }
    self.machine = machine
    self.flags = eflags
    guard shentsize == Self.sectionHeaderSize else { throw .invalidSectionHeaderSize(shentsize) }

    // Extended numbering: with e_shnum == 0 the count lives in section 0's sh_size, and with
    // e_shstrndx == SHN_XINDEX the index lives in section 0's sh_link.
    if shoff != 0, shnum == 0 || shstrndx == 0xffff {
      guard let first = reader.range(at: shoff, count: UInt64(Self.sectionHeaderSize)) else {
        throw .sectionHeaderTableOutOfBounds(offset: shoff, count: 1, fileSize: bytes.count)
      }
      if shnum == 0 {
        let n = reader.read(UInt64.self, at: first.lowerBound + 32)!
        guard n <= UInt64(bytes.count / Self.sectionHeaderSize) else {
          throw .sectionHeaderTableOutOfBounds(offset: shoff, count: Int(clamping: n), fileSize: bytes.count)
        }
        shnum = Int(n)
      }
      if shstrndx == 0xffff { shstrndx = Int(reader.read(UInt32.self, at: first.lowerBound + 40)!) }
    }

    guard let table = reader.range(at: shoff, count: UInt64(shnum) * UInt64(Self.sectionHeaderSize)) else {
      throw .sectionHeaderTableOutOfBounds(offset: shoff, count: shnum, fileSize: bytes.count)
    }
    var raw: [ELFSection] = []
    raw.reserveCapacity(shnum)
    for i in 0..<shnum {
      let base = table.lowerBound + i * Self.sectionHeaderSize
      let section = ELFSection(
        index: i, name: "",
        type: reader.read(UInt32.self, at: base + 4)!,
        flags: reader.read(UInt64.self, at: base + 8)!,
        offset: reader.read(UInt64.self, at: base + 24)!,
        size: reader.read(UInt64.self, at: base + 32)!,
        link: reader.read(UInt32.self, at: base + 40)!,
        info: reader.read(UInt32.self, at: base + 44)!,
        alignment: reader.read(UInt64.self, at: base + 48)!,
        entrySize: reader.read(UInt64.self, at: base + 56)!)
      if section.type != ELFConstants.shtNoBits && section.type != ELFConstants.shtNull {
        guard reader.range(at: section.offset, count: section.size) != nil else {
          throw .sectionOutOfBounds(index: i, offset: section.offset, size: section.size,
                                    fileSize: bytes.count)
        }
      }
      raw.append(section)
    }
    guard shnum == 0 || (shstrndx > 0 && shstrndx < shnum && raw[shstrndx].type == ELFConstants.shtStrTab) else {
      throw .invalidSectionNameTable(index: shstrndx, sectionCount: shnum)
    }
    if shnum > 0 {
      let nameNameTable = raw[shstrndx]
      guard nameNameTable.flags & ELFConstants.shfCompressed == 0 else { throw .compressedSection(index: shstrndx) }
      var longNames: [UInt32: Int] = [:]
      for i in 0..<shnum {
        let nameOffset = reader.read(UInt32.self, at: table.lowerBound + i * Self.sectionHeaderSize)!
        let length = try Self.nameLength(bytes, table: nameNameTable, offset: nameOffset, cache: &longNames)
        let start = Int(nameNameTable.offset) + Int(nameOffset)
        // In place: `raw` is the only reference to its buffer, so nothing is copied.
        raw[i].name = bytes.withUnsafeBufferPointer {
          String(decoding: UnsafeBufferPointer(rebasing: $0[start..<(start + length)]), as: UTF8.self)
        }
      }
    }
    let sections = raw
    self.sections = sections

    // Symbol table.
    var symtab: Int? = nil
    for s in sections where s.type == ELFConstants.shtSymTab {
      if let first = symtab { throw .multipleSymbolTables(first: first, second: s.index) }
      symtab = s.index
    }
    self.symbolTableIndex = symtab
    guard let symtab else {
      self.symbols = []
      return
    }
    let tab = sections[symtab]
    guard tab.entrySize == Self.symbolSize else {
      throw .invalidEntrySize(section: symtab, entrySize: tab.entrySize, expected: Self.symbolSize)
    }
    guard Int(tab.link) < sections.count, tab.link != 0, sections[Int(tab.link)].type == ELFConstants.shtStrTab else {
      throw .invalidSectionLink(section: symtab, link: tab.link)
    }
    let strtab = sections[Int(tab.link)]
    guard tab.size % Self.symbolSize == 0 else {
      throw .sizeNotMultipleOfEntry(section: symtab, size: tab.size, entrySize: Self.symbolSize)
    }
    for table in [tab, strtab] where table.flags & ELFConstants.shfCompressed != 0 {
      throw .compressedSection(index: table.index)
    }
    let count = Int(tab.size / Self.symbolSize)
    var symbols: [ELFSymbol] = []
    symbols.reserveCapacity(count)
    // Names are found, not built. Many symbols may name one (possibly long) string: a name
    // longer than `shortName` has its length looked up once per offset, so a crafted table
    // cannot make parsing quadratic in time.
    var longNames: [UInt32: Int] = [:]
    let base = Int(tab.offset)  // checked above: the section lies inside the file
    for i in 0..<count {
      let at = base + i * Int(Self.symbolSize)
      let nameOffset = reader.read(UInt32.self, at: at)!
      let info = bytes[at + 4]
      let other = bytes[at + 5]
      let shndx = reader.read(UInt16.self, at: at + 6)!
      let length = try Self.nameLength(bytes, table: strtab, offset: nameOffset, cache: &longNames)
      let symbol = ELFSymbol(
        index: i, nameOffset: nameOffset, file: bytes, nameStart: Int(strtab.offset) + Int(nameOffset),
        nameLength: length,
        value: reader.read(UInt64.self, at: at + 8)!,
        size: reader.read(UInt64.self, at: at + 16)!,
        type: info & 0xf, binding: info >> 4, visibility: other & 0x3, sectionIndex: shndx)
      if shndx != ELFConstants.shnUndef && shndx < ELFConstants.shnLoReserve {
        guard Int(shndx) < sections.count else {
          throw .symbolSectionOutOfRange(symbol: i, name: symbol.name, sectionIndex: shndx,
                                         sectionCount: sections.count)
        }
        let section = sections[Int(shndx)]
        let (end, overflow) = symbol.value.addingReportingOverflow(symbol.size)
        if symbol.type != ELFConstants.sttSection && (overflow || end > section.size) {
          throw .symbolOutsideSection(symbol: i, name: symbol.name, section: Int(shndx),
                                      value: symbol.value, size: symbol.size, sectionSize: section.size)
        }
      }
      symbols.append(symbol)
    }
    self.symbols = symbols
  }

  /// Names up to this long are measured where they are; longer ones once per offset.
  static let shortName = 256

  /// The length of the NUL-terminated name at `offset` of string table `table`.
  static func nameLength(_ bytes: [UInt8], table: ELFSection, offset: UInt32,
                         cache: inout [UInt32: Int]) throws(ObjectError) -> Int {
    let start = Int(table.offset)
    let limit = start + Int(table.size)  // the table lies inside the file
    guard UInt64(offset) < table.size else {
      throw .badStringOffset(table: table.index, offset: offset, tableSize: Int(table.size))
    }
    let first = start + Int(offset)
    let found: Int? = bytes.withUnsafeBufferPointer { file in
      let end = min(limit, first + shortName)
      var i = first
      while i < end {
        if file[i] == 0 { return i - first }
        i += 1
      }
      return nil
    }
    if let found { return found }
    if let known = cache[offset] { return known }
    let length: Int? = bytes.withUnsafeBufferPointer { file in
      var i = first
      while i < limit {
        if file[i] == 0 { return i - first }
        i += 1
      }
      return nil
    }
    guard let length else {
      throw .badStringOffset(table: table.index, offset: offset, tableSize: Int(table.size))
    }
    cache[offset] = length
    return length
  }

  /// The file bytes of `section` (empty for SHT_NOBITS). The range was validated at parse time.
  public func contents(of section: ELFSection) -> ArraySlice<UInt8> {
    if section.isNoBits || section.type == ELFConstants.shtNull { return [] }
    return reader.slice(at: section.offset, count: section.size) ?? []
  }

  /// The first section named `name`, if any.
  public func section(named name: String) -> ELFSection? {
    // Names of another length are passed over without comparing strings.
    let length = name.utf8.count
    return sections.first { $0.name.utf8.count == length && $0.name == name }
  }

  /// Reads the `Elf64_Rel` entries of relocation section `section`, checking each symbol index
  /// and each offset against the target section.
  public func relocations(in section: ELFSection) throws(ObjectError) -> [ELFRelocation] {
    guard section.type == ELFConstants.shtRel else { return [] }
    guard section.entrySize == Self.relSize || section.entrySize == 0 else {
      throw .invalidEntrySize(section: section.index, entrySize: section.entrySize, expected: Self.relSize)
    }
    guard section.info != 0, Int(section.info) < sections.count else {
      throw .invalidRelocationTarget(relocationSection: section.index, target: section.info)
    }
    let target = sections[Int(section.info)]
    guard section.size % Self.relSize == 0 else {
      throw .sizeNotMultipleOfEntry(section: section.index, size: section.size, entrySize: Self.relSize)
    }
    guard section.flags & ELFConstants.shfCompressed == 0 else { throw .compressedSection(index: section.index) }
    let count = Int(section.size / Self.relSize)
    let base = Int(section.offset)
    var result: [ELFRelocation] = []
    result.reserveCapacity(count)
    for i in 0..<count {
      let at = base + i * Int(Self.relSize)
      let offset = reader.read(UInt64.self, at: at)!
      let info = reader.read(UInt64.self, at: at + 8)!
      let rel = ELFRelocation(offset: offset, symbolIndex: UInt32(truncatingIfNeeded: info >> 32),
                              type: UInt32(truncatingIfNeeded: info))
      guard Int(rel.symbolIndex) < symbols.count else {
        throw .relocationSymbolOutOfRange(relocationSection: section.index, entry: i,
                                          symbol: rel.symbolIndex, symbolCount: symbols.count)
      }
      guard offset < target.size else {
        throw .relocationOffsetOutOfBounds(relocationSection: section.index, entry: i,
                                           offset: offset, sectionSize: target.size)
      }
      result.append(rel)
    }
    return result
  }
}
