/// Everything that can be wrong with a `.BTF` or `.BTF.ext` section, or with a request made of a
/// parsed ``BTF``.
///
/// Each case carries the numbers that locate the problem. Byte offsets of subsections are
/// relative to the end of the section header, as in the header itself; offsets of records are
/// relative to the start of the subsection that holds them.
public enum BTFError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The two ELF sections this error can come from.
  public enum ObjectSection: Sendable, Equatable, CustomStringConvertible {
    /// The `.BTF` section: types and strings.
    case btf
    /// The `.BTF.ext` section: function, line and CO-RE relocation records.
    case btfExt

    /// The ELF section name, `.BTF` or `.BTF.ext`.
    public var description: String {
      switch self {
      case .btf: ".BTF"
      case .btfExt: ".BTF.ext"
      }
    }
  }

  /// A subsection located by a header: the type and string tables of `.BTF`, and the three info
  /// blocks of `.BTF.ext`.
  public enum Part: Sendable, Equatable, CustomStringConvertible {
    /// The type section of `.BTF`.
    case types
    /// The string section of `.BTF`.
    case strings
    /// The `func_info` block of `.BTF.ext`.
    case funcInfo
    /// The `line_info` block of `.BTF.ext`.
    case lineInfo
    /// The `core_relo` block of `.BTF.ext`.
    case coreRelocations

    /// The kernel's name for the subsection, e.g. `func_info`.
    public var description: String {
      switch self {
      case .types: "type section"
      case .strings: "string section"
      case .funcInfo: "func_info"
      case .lineInfo: "line_info"
      case .coreRelocations: "core_relo"
      }
    }
  }

  /// Which raw word of a type record holds bits that must be zero.
  public enum Word: Sendable, Equatable, CustomStringConvertible {
    /// The `info` word (unused bits 16–23 and 29–30, or a `vlen` on a kind that has none).
    case info
    /// The `size`/`type` word of a kind that uses neither (ARRAY, FWD).
    case sizeOrType
    /// The `u32` that follows an INT record (bits outside encoding, offset and bits).
    case intData

    /// The name of the word.
    public var description: String {
      switch self {
      case .info: "info"
      case .sizeOrType: "size/type"
      case .intData: "int data"
      }
    }
  }

  // MARK: Headers

  /// The section is shorter than its fixed header.
  case truncatedHeader(ObjectSection, have: Int, need: Int)
  /// The magic number is not 0xEB9F.
  case badMagic(ObjectSection, found: UInt16)
  /// The magic number is 0xEB9F byte-swapped: the data is big-endian, which is not supported.
  case bigEndian(ObjectSection)
  /// The version byte is not 1.
  case unsupportedVersion(ObjectSection, version: UInt8)
  /// `hdr_len` is smaller than the fields every header must have.
  case headerLengthTooSmall(ObjectSection, headerLength: UInt32, minimum: UInt32)
  /// `hdr_len` is larger than the whole section.
  case headerLengthTooLarge(ObjectSection, headerLength: UInt32, size: Int)
  /// A subsection named by the header does not lie inside the bytes that follow the header.
  /// `size` is the number of bytes after the header.
  case sectionOutOfBounds(Part, offset: UInt32, length: UInt32, size: Int)

  // MARK: Strings

  /// A string offset is not inside the string table.
  case stringOffsetOutOfRange(offset: UInt32, tableSize: Int)
  /// The string at `offset` runs to the end of the string table without a NUL byte.
  case stringNotTerminated(offset: UInt32, tableSize: Int)

  // MARK: Type records

  /// The record of type `typeID`, starting at byte `offset` of the type section, ends past the
  /// end of the type section.
  case typeRecordTruncated(typeID: UInt32, offset: Int)
  /// The kind number of type `typeID` is not a kind this reader knows (or is 0, which no record
  /// may use).
  case unknownKind(kind: UInt8, typeID: UInt32)
  /// A word of the record of type `typeID` sets bits that the format reserves.
  case reservedBitsSet(typeID: UInt32, word: Word, value: UInt32)
  /// The `vlen` items of type `typeID` would need more bytes than remain in the type section.
  case vlenTooLarge(typeID: UInt32, vlen: Int, remaining: Int)
  /// Type `typeID` refers to type `target`, but there are only `count` types (including void).
  case typeIDOutOfRange(typeID: UInt32, target: UInt32, count: Int)
  /// A value cannot be represented in the field that encodes it, e.g. more than 65535 members,
  /// a bit offset of 2^24 or more in a struct whose kind flag is set, or a section that would
  /// outgrow the 32-bit lengths of the header.
  case valueTooLarge(typeID: UInt32, value: UInt64, maximum: UInt64)

  // MARK: Queries

  /// There is no type with this id; there are `count` types (including void, id 0).
  case noSuchType(id: UInt32, count: Int)
  /// Type `typeID` has kind `found` where the operation needs `expected`.
  case wrongKind(typeID: UInt32, expected: BTFKind, found: BTFKind)
  /// Following typedefs, qualifiers, variables or array elements from `typeID` did not reach a
  /// sized or unqualified type within the depth limit: a cycle, or a chain too long to be real.
  case resolutionTooDeep(typeID: UInt32)
  /// Type `typeID` has no size: void, a function, a function prototype, a forward declaration
  /// or a declaration tag.
  case typeHasNoSize(typeID: UInt32, kind: BTFKind)
  /// The size of type `typeID` does not fit in an `Int`.
  case sizeOverflow(typeID: UInt32)

  // MARK: .BTF.ext records

  /// The record size stated by an info block is smaller than the record the format defines.
  case recordSizeTooSmall(Part, size: UInt32, minimum: UInt32)
  /// An info block needs `need` bytes at byte `offset` of its subsection, which is only
  /// `length` bytes long.
  case recordOutOfBounds(Part, offset: Int, need: UInt64, length: Int)
  /// Record `index` of section `section` in an info block refers to type `target`, but there
  /// are only `count` types.
  case recordTypeIDOutOfRange(Part, section: String, index: Int, target: UInt32, count: Int)

  /// A one-line message that names the numbers.
  public var description: String {
    switch self {
    case .truncatedHeader(let s, let have, let need):
      "\(s) is \(have) bytes, shorter than its \(need)-byte header"
    case .badMagic(let s, let found):
      "\(s) has bad magic 0x\(btfHex(found)), expected 0xEB9F"
    case .bigEndian(let s):
      "\(s) is big-endian (magic 0xEB9F byte-swapped); only little-endian is supported"
    case .unsupportedVersion(let s, let version):
      "\(s) has unsupported version \(version), expected 1"
    case .headerLengthTooSmall(let s, let headerLength, let minimum):
      "\(s) header length \(headerLength) is smaller than the minimum \(minimum)"
    case .headerLengthTooLarge(let s, let headerLength, let size):
      "\(s) header length \(headerLength) exceeds the section size \(size)"
    case .sectionOutOfBounds(let part, let offset, let length, let size):
      "\(part) at offset \(offset) length \(length) exceeds the \(size) bytes after the header"
    case .stringOffsetOutOfRange(let offset, let tableSize):
      "string offset \(offset) is outside the \(tableSize)-byte string table"
    case .stringNotTerminated(let offset, let tableSize):
      "string at offset \(offset) is not NUL-terminated within the \(tableSize)-byte string table"
    case .typeRecordTruncated(let typeID, let offset):
      "type \(typeID) at offset \(offset) of the type section is truncated"
    case .unknownKind(let kind, let typeID):
      "type \(typeID) has unknown kind \(kind)"
    case .reservedBitsSet(let typeID, let word, let value):
      "type \(typeID) sets reserved bits in its \(word) word 0x\(btfHex(value))"
    case .vlenTooLarge(let typeID, let vlen, let remaining):
      "type \(typeID) has vlen \(vlen), more items than the \(remaining) bytes remaining hold"
    case .typeIDOutOfRange(let typeID, let target, let count):
      "type \(typeID) refers to type \(target), but there are only \(count) types"
    case .valueTooLarge(let typeID, let value, let maximum):
      "type \(typeID): value \(value) exceeds the encodable maximum \(maximum)"
    case .noSuchType(let id, let count):
      "no type with id \(id); there are \(count) types"
    case .wrongKind(let typeID, let expected, let found):
      "type \(typeID) is \(found), expected \(expected)"
    case .resolutionTooDeep(let typeID):
      "resolving type \(typeID) exceeds the depth limit (a cycle or an overlong chain)"
    case .typeHasNoSize(let typeID, let kind):
      "type \(typeID) of kind \(kind) has no size"
    case .sizeOverflow(let typeID):
      "the size of type \(typeID) overflows"
    case .recordSizeTooSmall(let part, let size, let minimum):
      "\(part) record size \(size) is smaller than the minimum \(minimum)"
    case .recordOutOfBounds(let part, let offset, let need, let length):
      "\(part) needs \(need) bytes at offset \(offset), past its length \(length)"
    case .recordTypeIDOutOfRange(let part, let section, let index, let target, let count):
      "\(part) record \(index) of section \(section) refers to type \(target), "
        + "but there are only \(count) types"
    }
  }
}

/// Upper-case hexadecimal without a prefix.
private func btfHex(_ value: some BinaryInteger) -> String {
  String(value, radix: 16, uppercase: true)
}
