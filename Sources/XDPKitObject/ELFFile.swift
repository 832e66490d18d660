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
        index: i, file: bytes,
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
        // Measured (its NUL found) now, read when asked for (ELFSection.name).
        raw[i].nameLength = try Self.nameLength(bytes, table: nameNameTable, offset: nameOffset, cache: &longNames)
        raw[i].nameStart = Int(nameNameTable.offset) + Int(nameOffset)
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
    // Names are checked, not measured or built: an offset names a string when a NUL follows
    // it inside the table, which holds for every offset below the table's last NUL. The name
    // is measured when it is asked for (ELFSymbol.name).
    let strtabStart = Int(strtab.offset)
    let strtabEnd = strtabStart + Int(strtab.size)  // the table lies inside the file
    let nameLimit = bytes[strtabStart..<strtabEnd].lastIndex(of: 0).map { $0 + 1 } ?? strtabStart
    let base = Int(tab.offset)  // checked above: the section lies inside the file
    try bytes.withUnsafeBytes { file in
      Result { () throws(ObjectError) in
        for i in 0..<count {
          let at = base + i * Int(Self.symbolSize)
          let nameOffset = UInt32(littleEndian: file.loadUnaligned(fromByteOffset: at, as: UInt32.self))
          let info = file[at + 4]
          let other = file[at + 5]
          let shndx = UInt16(littleEndian: file.loadUnaligned(fromByteOffset: at + 6, as: UInt16.self))
          guard Int(nameOffset) < nameLimit - strtabStart else {
            throw .badStringOffset(table: strtab.index, offset: nameOffset, tableSize: Int(strtab.size))
          }
          let symbol = ELFSymbol(
            index: i, nameOffset: nameOffset, file: bytes, nameStart: strtabStart + Int(nameOffset),
            nameLimit: nameLimit,
            value: UInt64(littleEndian: file.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self)),
            size: UInt64(littleEndian: file.loadUnaligned(fromByteOffset: at + 16, as: UInt64.self)),
            type: info & 0xf, binding: info >> 4, visibility: other & 0x3, sectionIndex: shndx)
          if shndx != ELFConstants.shnUndef && shndx < ELFConstants.shnLoReserve {
            guard Int(shndx) < sections.count else {
              throw .symbolSectionOutOfRange(symbol: i, name: symbol.name, sectionIndex: shndx,
                                             sectionCount: sections.count)
            }
            let sectionSize = sections[Int(shndx)].size
            let (end, overflow) = symbol.value.addingReportingOverflow(symbol.size)
            if symbol.type != ELFConstants.sttSection && (overflow || end > sectionSize) {
              throw .symbolOutsideSection(symbol: i, name: symbol.name, section: Int(shndx),
                                          value: symbol.value, size: symbol.size, sectionSize: sectionSize)
            }
          }
          symbols.append(symbol)
        }
      }
    }.get()
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
    let found: Int? = bytes.withUnsafeBytes { NULScan.length(of: $0, from: first, limit: min(limit, first + shortName)) }
    if let found { return found }
    if let known = cache[offset] { return known }
    let length: Int? = bytes.withUnsafeBytes { NULScan.length(of: $0, from: first, limit: limit) }
    guard let length else {
      throw .badStringOffset(table: table.index, offset: offset, tableSize: Int(table.size))
    }
    cache[offset] = length
    return length
  }

  /// The indices of the symbols `include` accepts, in order of value, then of index: how the
  /// reader walks a section's functions, maps and variables. Symbols are passed in place, not
  /// copied, and only the indices are sorted.
  package func symbolIndices(where include: (ELFSymbol) -> Bool) -> [Int] {
    symbols.withUnsafeBufferPointer { all in
      // Counted first, so that the array is allocated once at its size rather than grown.
      var count = 0
      for i in all.indices where include(all[i]) { count += 1 }
      var found: [Int] = []
      found.reserveCapacity(count)
      for i in all.indices where include(all[i]) { found.append(i) }
      // clang writes a section's symbols mostly in order: sort only when they are not.
      if !found.indices.dropFirst().allSatisfy({ all[found[$0 - 1]].value <= all[found[$0]].value }) {
        found.sort { (all[$0].value, $0) < (all[$1].value, $1) }
      }
      return found
    }
  }

  /// The file bytes of `section` (empty for SHT_NOBITS). The range was validated at parse time.
  public func contents(of section: ELFSection) -> ArraySlice<UInt8> {
    if section.isNoBits || section.type == ELFConstants.shtNull { return [] }
    return reader.slice(at: section.offset, count: section.size) ?? []
  }

  /// The first section named `name`, if any.
  public func section(named name: String) -> ELFSection? {
    var name = name
    return name.withUTF8 { wanted in firstSection { $0.withNameBytes { NameBytes.equal($0, wanted) } } }
  }

  /// The first section `include` accepts, if any. The sections are passed in place, not
  /// copied.
  func firstSection(where include: (ELFSection) -> Bool) -> ELFSection? {
    sections.withUnsafeBufferPointer { all in
      for i in all.indices where include(all[i]) { return all[i] }
      return nil
    }
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
