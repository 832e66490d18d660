/// An ELF section header, with its name resolved.
///
/// The name stays in the file's section name string table until ``name`` is asked for: the
/// reader finds the sections it wants by comparing bytes, and most names (DWARF's, the
/// relocation sections') are never looked at.
public struct ELFSection: Sendable {
  /// Index in the section header table.
  public var index: Int
  /// Name from the section name string table (or the name set on this value).
  public var name: String {
    get { withNameBytes { String(decoding: $0, as: UTF8.self) } }
    set {
      file = Array(newValue.utf8)
      nameStart = 0
      nameLength = file.count
    }
  }
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
  /// The bytes of the file and where the name lies in them (measured, and its NUL found,
  /// when the table was read), or the bytes of a name set through ``name``. One reference,
  /// so that a copy of a section costs one retain.
  private(set) var file: [UInt8]
  var nameStart = 0
  var nameLength = 0

  init(index: Int, file: [UInt8], type: UInt32, flags: UInt64, offset: UInt64, size: UInt64,
       link: UInt32, info: UInt32, alignment: UInt64, entrySize: UInt64) {
    self.index = index
    self.file = file
    self.type = type
    self.flags = flags
    self.offset = offset
    self.size = size
    self.link = link
    self.info = info
    self.alignment = alignment
    self.entrySize = entrySize
  }

  /// Whether the section holds instructions (SHF_EXECINSTR).
  public var isExecutable: Bool { flags & ELFConstants.shfExecInstr != 0 }
  /// Whether the section is writable (SHF_WRITE).
  public var isWritable: Bool { flags & ELFConstants.shfWrite != 0 }
  /// Whether the section takes no file space (SHT_NOBITS), like `.bss`.
  public var isNoBits: Bool { type == ELFConstants.shtNoBits }

  /// Calls `body` with the bytes of the name (no NUL), without building a string.
  func withNameBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    file.withUnsafeBufferPointer { bytes in
      body(UnsafeBufferPointer(rebasing: bytes[nameStart..<(nameStart + nameLength)]))
    }
  }

  /// Whether the name is `other`, compared as bytes without building the name.
  public func isNamed(_ other: String) -> Bool {
    var other = other
    return other.withUTF8 { wanted in withNameBytes { NameBytes.equal($0, wanted) } }
  }

  /// Whether the name is `wanted`.
  func nameIs(_ wanted: StaticString) -> Bool {
    withNameBytes { NameBytes.equal($0, NameBytes.of(wanted)) }
  }

  /// Whether the name is `wanted` or starts with `wanted` followed by `separator` (`.data` or
  /// `.data.…` for `.data` and `.`).
  func nameIs(_ wanted: StaticString, orPrefixedBy separator: UInt8) -> Bool {
    withNameBytes { name in
      let prefix = NameBytes.of(wanted)
      guard name.count >= prefix.count, NameBytes.equal(UnsafeBufferPointer(rebasing: name[..<prefix.count]), prefix) else {
        return false
      }
      return name.count == prefix.count || name[prefix.count] == separator
    }
  }
}

extension ELFSection: Equatable {
  /// Same fields and the same name.
  public static func == (lhs: ELFSection, rhs: ELFSection) -> Bool {
    lhs.index == rhs.index && lhs.type == rhs.type && lhs.flags == rhs.flags
      && lhs.offset == rhs.offset && lhs.size == rhs.size && lhs.link == rhs.link
      && lhs.info == rhs.info && lhs.alignment == rhs.alignment && lhs.entrySize == rhs.entrySize
      && lhs.withNameBytes { l in rhs.withNameBytes { r in NameBytes.equal(l, r) } }
  }
}

/// Names compared as bytes, where the reader looks for a section or symbol by name.
enum NameBytes {
  /// The bytes of `string` (a literal: ASCII, stored as bytes).
  @inline(__always)
  static func of(_ string: StaticString) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: string.utf8Start, count: string.utf8CodeUnitCount)
  }

  /// Whether `a` and `b` hold the same bytes.
  static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    var i = 0
    while i < a.count {
      if a[i] != b[i] { return false }
      i += 1
    }
    return true
  }
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
  /// The bytes of the file, where the name starts in them, and a bound before which a NUL is
  /// known to end it (both checked when the table was read).
  let file: [UInt8]
  let nameStart: Int
  let nameLimit: Int
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
    withNameBytes { String(decoding: $0, as: UTF8.self) }
  }

  /// Calls `body` with the bytes of the name (no NUL), without building a string.
  func withNameBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    file.withUnsafeBufferPointer { bytes in
      let length = NULScan.length(of: UnsafeRawBufferPointer(bytes), from: nameStart, limit: nameLimit) ?? (nameLimit - nameStart)
      return body(UnsafeBufferPointer(rebasing: bytes[nameStart..<(nameStart + length)]))
    }
  }

  /// Whether the name is empty, without building it.
  public var hasName: Bool { file[nameStart] != 0 }

  /// Whether the name is `other`, without building it.
  public func isNamed(_ other: String) -> Bool {
    var other = other
    return other.withUTF8 { wanted in
      file.withUnsafeBufferPointer { bytes in
        // The name is `wanted` followed by its NUL.
        nameLimit - nameStart > wanted.count && bytes[nameStart + wanted.count] == 0
          && wanted.elementsEqual(UnsafeBufferPointer(rebasing: bytes[nameStart..<(nameStart + wanted.count)]))
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
  public static let stvInternal: UInt8 = 1
  public static let stvHidden: UInt8 = 2
  public static let shnUndef: UInt16 = 0
  public static let shnLoReserve: UInt16 = 0xff00
  public static let shnAbs: UInt16 = 0xfff1
  public static let shnCommon: UInt16 = 0xfff2
  public static let emNone: UInt16 = 0
  public static let emBPF: UInt16 = 247
  public static let etRel: UInt16 = 1
}
