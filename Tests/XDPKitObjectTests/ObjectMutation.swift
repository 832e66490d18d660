// Test-only helpers that build corrupted variants of the fixture objects.
//
// `ObjectImage` walks the real ELF64 header, section header table, symbol table, relocation
// tables and raw `.BTF` type records of a fixture with its own little-endian reads (it does not
// use the reader under test), so a test can say "set the size of the `xdp_pass` symbol to 12"
// instead of hard-coding a file offset. Every read is bounds-checked and throws
// `MutationError`, so a fixture that changes shape fails the test instead of trapping.

/// A fixture whose layout is not what a mutation expected.
struct MutationError: Error, CustomStringConvertible {
  var description: String
}

/// The mutable bytes of an ELF64 little-endian object, with accessors located by walking the
/// file's own tables.
struct ObjectImage {
  var bytes: [UInt8]

  init(_ bytes: [UInt8]) {
    self.bytes = bytes
  }

  /// Loads `Fixtures/<name>.o`.
  init(fixture name: String) throws {
    self.bytes = try fixtureBytes(name)
  }

  // MARK: Little-endian access

  private func check(_ offset: Int, _ count: Int) throws {
    guard offset >= 0, count >= 0, offset <= bytes.count, bytes.count - offset >= count else {
      throw MutationError(description: "\(count) bytes at \(offset) are outside the \(bytes.count)-byte image")
    }
  }

  func read<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, at offset: Int) throws -> T {
    let size = MemoryLayout<T>.size
    try check(offset, size)
    var value: T = 0
    for i in 0..<size { value |= T(bytes[offset + i]) << (8 * i) }
    return value
  }

  mutating func write<T: FixedWidthInteger & UnsignedInteger>(_ value: T, at offset: Int) throws {
    let size = MemoryLayout<T>.size
    try check(offset, size)
    for i in 0..<size { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
  }

  func u16(_ offset: Int) throws -> UInt16 { try read(UInt16.self, at: offset) }
  func u32(_ offset: Int) throws -> UInt32 { try read(UInt32.self, at: offset) }
  func u64(_ offset: Int) throws -> UInt64 { try read(UInt64.self, at: offset) }

  /// Converts a 64-bit file value to an `Int` offset, or throws.
  private func int(_ value: UInt64) throws -> Int {
    guard let v = Int(exactly: value) else { throw MutationError(description: "value \(value) is too large") }
    return v
  }

  // MARK: ELF header (Elf64_Ehdr)

  /// Offsets of the `Elf64_Ehdr` fields the mutations patch.
  enum Header {
    static let ident = 0, eiClass = 4, eiData = 5, eiVersion = 6
    static let type = 16, machine = 18, version = 20, shoff = 40, shentsize = 58, shnum = 60
    static let shstrndx = 62
    static let size = 64
  }

  var sectionHeaderTableOffset: Int { get throws { try int(u64(Header.shoff)) } }
  var sectionCount: Int { get throws { Int(try u16(Header.shnum)) } }
  var sectionNameTableIndex: Int { get throws { Int(try u16(Header.shstrndx)) } }
  /// The byte range of the section header table.
  var sectionHeaderTableRange: Range<Int> {
    get throws {
      let start = try sectionHeaderTableOffset
      return start..<(start + (try sectionCount) * 64)
    }
  }

  // MARK: Sections (Elf64_Shdr)

  /// Offsets of the `Elf64_Shdr` fields, relative to the start of a header.
  enum SectionField: Int {
    case name = 0, type = 4, flags = 8, offset = 24, size = 32, link = 40, info = 44
    case alignment = 48, entrySize = 56
  }

  /// A section header as the file holds it, with where it lives.
  struct Section {
    var index: Int
    var name: String
    /// File offset of the header itself.
    var headerOffset: Int
    var nameOffset: UInt32
    var type: UInt32
    var flags: UInt64
    var offset: UInt64
    var size: UInt64
    var link: UInt32
    var info: UInt32
    var entrySize: UInt64
  }

  func sectionHeaderOffset(_ index: Int) throws -> Int {
    try sectionHeaderTableOffset + index * 64
  }

  /// The NUL-terminated string at `offset` of the string table in `tableIndex`.
  func string(inSection tableIndex: Int, at offset: UInt32) throws -> String {
    let header = try sectionHeaderOffset(tableIndex)
    let start = try int(u64(header + SectionField.offset.rawValue))
    let size = try int(u64(header + SectionField.size.rawValue))
    var i = start + Int(offset)
    var utf8: [UInt8] = []
    while true {
      guard i < start + size else { throw MutationError(description: "unterminated string at \(offset)") }
      try check(i, 1)
      if bytes[i] == 0 { break }
      utf8.append(bytes[i])
      i += 1
    }
    return String(decoding: utf8, as: UTF8.self)
  }

  func section(_ index: Int) throws -> Section {
    let h = try sectionHeaderOffset(index)
    let nameOffset = try u32(h)
    return Section(
      index: index, name: try string(inSection: try sectionNameTableIndex, at: nameOffset),
      headerOffset: h, nameOffset: nameOffset, type: try u32(h + 4), flags: try u64(h + 8),
      offset: try u64(h + 24), size: try u64(h + 32), link: try u32(h + 40),
      info: try u32(h + 44), entrySize: try u64(h + 56))
  }

  var sections: [Section] {
    get throws { try (0..<(try sectionCount)).map { i throws in try section(i) } }
  }

  func section(named name: String) throws -> Section {
    guard let s = try sections.first(where: { $0.name == name }) else {
      throw MutationError(description: "no section named \(name)")
    }
    return s
  }

  /// Overwrites one field of section `index`'s header (32- or 64-bit as the field is).
  mutating func setSection(_ index: Int, _ field: SectionField, to value: UInt64) throws {
    let at = try sectionHeaderOffset(index) + field.rawValue
    switch field {
    case .name, .type, .link, .info: try write(UInt32(truncatingIfNeeded: value), at: at)
    default: try write(value, at: at)
    }
  }

  /// The file offset of byte `offset` inside section `name`.
  func fileOffset(inSection name: String, _ offset: UInt64 = 0) throws -> Int {
    let s = try section(named: name)
    guard offset < s.size else { throw MutationError(description: "offset \(offset) is past \(name)") }
    return try int(s.offset + offset)
  }

  // MARK: Symbols (Elf64_Sym)

  struct Symbol {
    var index: Int
    var name: String
    /// File offset of the symbol table entry.
    var entryOffset: Int
    var info: UInt8
    var sectionIndex: UInt16
    var value: UInt64
    var size: UInt64
  }

  var symbols: [Symbol] {
    get throws {
      guard let table = try sections.first(where: { $0.type == 2 }) else {
        throw MutationError(description: "no symbol table")
      }
      let base = try int(table.offset)
      return try (0..<Int(table.size / 24)).map { i throws in
        let at = base + i * 24
        return Symbol(
          index: i, name: try string(inSection: Int(table.link), at: try u32(at)), entryOffset: at,
          info: try read(UInt8.self, at: at + 4), sectionIndex: try u16(at + 6), value: try u64(at + 8),
          size: try u64(at + 16))
      }
    }
  }

  func symbol(named name: String) throws -> Symbol {
    guard let s = try symbols.first(where: { $0.name == name }) else {
      throw MutationError(description: "no symbol named \(name)")
    }
    return s
  }

  mutating func setSymbol(_ name: String, value: UInt64? = nil, size: UInt64? = nil,
                          sectionIndex: UInt16? = nil, info: UInt8? = nil) throws {
    let s = try symbol(named: name)
    if let value { try write(value, at: s.entryOffset + 8) }
    if let size { try write(size, at: s.entryOffset + 16) }
    if let sectionIndex { try write(sectionIndex, at: s.entryOffset + 6) }
    if let info { bytes[s.entryOffset + 4] = info }
  }

  // MARK: Relocations (Elf64_Rel)

  struct Relocation {
    /// Index of the entry in its relocation section.
    var entry: Int
    /// File offset of the entry.
    var entryOffset: Int
    var offset: UInt64
    var symbolIndex: UInt32
    var type: UInt32
  }

  /// The entries of relocation section `name` (e.g. `.relxdp`).
  func relocations(in name: String) throws -> [Relocation] {
    let s = try section(named: name)
    let base = try int(s.offset)
    return try (0..<Int(s.size / 16)).map { i throws in
      let at = base + i * 16
      let info = try u64(at + 8)
      return Relocation(entry: i, entryOffset: at, offset: try u64(at),
                        symbolIndex: UInt32(truncatingIfNeeded: info >> 32),
                        type: UInt32(truncatingIfNeeded: info))
    }
  }

  mutating func setRelocation(in name: String, entry: Int, offset: UInt64? = nil,
                              symbolIndex: UInt32? = nil, type: UInt32? = nil) throws {
    let rels = try relocations(in: name)
    guard entry < rels.count else { throw MutationError(description: "\(name) has no entry \(entry)") }
    let r = rels[entry]
    if let offset { try write(offset, at: r.entryOffset) }
    let info = UInt64(symbolIndex ?? r.symbolIndex) << 32 | UInt64(type ?? r.type)
    try write(info, at: r.entryOffset + 8)
  }

  // MARK: Raw .BTF type records

  /// File offsets of every type record of `.BTF`, indexed by type id (index 0, `void`, has no
  /// record and is given the offset of the type section). Walked with the record sizes of
  /// linux/btf.h, independently of the reader's BTF parser.
  func btfTypeRecordOffsets() throws -> [Int] {
    let base = try fileOffset(inSection: ".BTF")
    let headerLength = Int(try u32(base + 4))
    let typeStart = base + headerLength + Int(try u32(base + 8))
    let typeEnd = typeStart + Int(try u32(base + 12))
    var offsets = [typeStart]
    var at = typeStart
    while at < typeEnd {
      offsets.append(at)
      let info = try u32(at + 4)
      let vlen = Int(info & 0xffff)
      let kind = (info >> 24) & 0x1f
      let extra: Int
      switch kind {
      case 1, 14, 17: extra = 4             // INT, VAR, DECL_TAG
      case 3: extra = 12                    // ARRAY
      case 4, 5, 15, 19: extra = 12 * vlen  // STRUCT, UNION, DATASEC, ENUM64
      case 6, 13: extra = 8 * vlen          // ENUM, FUNC_PROTO
      case 2, 7, 8, 9, 10, 11, 12, 16, 18: extra = 0
      default: throw MutationError(description: "unknown BTF kind \(kind) at \(at)")
      }
      at += 12 + extra
    }
    return offsets
  }
}
