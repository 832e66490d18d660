/// The header of a `.BTF.ext` section (`struct btf_ext_header`).
public struct BTFExtHeader: Sendable, Equatable {
  /// Smallest `hdr_len`: through `line_info_len`.
  public static let minimumLength: UInt32 = 24
  /// `hdr_len` from which the header has `core_relo_off` and `core_relo_len`.
  public static let coreRelocationLength: UInt32 = 32

  /// `BTF_MAGIC`, 0xEB9F.
  public var magic: UInt16
  /// Version, 1.
  public var version: UInt8
  /// Flags (none defined).
  public var flags: UInt8
  /// `hdr_len`: size of the header; offsets below are relative to its end.
  public var headerLength: UInt32
  /// `func_info_off`.
  public var funcInfoOffset: UInt32
  /// `func_info_len`.
  public var funcInfoLength: UInt32
  /// `line_info_off`.
  public var lineInfoOffset: UInt32
  /// `line_info_len`.
  public var lineInfoLength: UInt32
  /// `core_relo_off`, or `nil` when the header is too short to have it.
  public var coreRelocationOffset: UInt32?
  /// `core_relo_len`, or `nil` when the header is too short to have it.
  public var coreRelocationLength: UInt32?
}

/// The parsed `.BTF.ext` section: per ELF section, the BTF function records, line records and
/// CO-RE relocations that clang emits for the programs in it.
///
/// Each of the three info blocks starts with a record size, followed by one group per ELF
/// section: `{ u32 sec_name_off; u32 num_info; records[num_info] }`. Section names are offsets
/// into the string table of the matching ``BTF``. Records are read at the stated record size,
/// which may exceed the size of the fields known here; the extra bytes are skipped, and the
/// stated sizes are kept in ``funcInfoRecordSize`` and its siblings. A stated size below the
/// known minimum is an error.
///
/// Parsing checks every record (bounds, type ids, string offsets) but keeps the records
/// encoded: they are decoded when asked for, per section with ``funcInfo(inSection:)`` and its
/// siblings, or all at once with ``funcInfo`` and its siblings. The loader reads the words it
/// needs in place.
///
/// Instruction offsets are in **bytes** from the start of the ELF section, as clang writes
/// them in object files. The kernel (`BPF_PROG_LOAD`'s `func_info`, `line_info`) wants
/// instruction indexes relative to the start of the program, so the loader divides by 8 and
/// rebases when it assembles a program.
public struct BTFExt: Sendable, Equatable {
  /// The header as read.
  public let header: BTFExtHeader
  /// The stated `func_info` record size, or `nil` when the block is empty.
  public let funcInfoRecordSize: UInt32?
  /// The stated `line_info` record size, or `nil` when the block is empty.
  public let lineInfoRecordSize: UInt32?
  /// The stated `core_relo` record size, or `nil` when the block is empty or absent.
  public let coreRelocationRecordSize: UInt32?
  /// The section's bytes.
  let bytes: [UInt8]
  /// The string table of the ``BTF`` the names and strings were checked against.
  let strings: [UInt8]
  /// Every group of records, block by block, in file order.
  let groups: [RecordGroup]

  /// One `{ sec_name_off; num_info; records }` group, checked.
  struct RecordGroup: Sendable, Equatable {
    /// The block the group belongs to.
    var part: BTFError.Part
    /// The section name's offset in the BTF string table.
    var nameOffset: UInt32
    /// Where the first record starts in ``BTFExt/bytes``.
    var start: Int
    /// The number of records.
    var count: Int
    /// The stated record size of the block.
    var recordSize: Int
  }

  /// Parses the bytes of a `.BTF.ext` section, checking names and strings against the string
  /// table of `btf` (the object's `.BTF`) and type ids against its types.
  ///
  /// The bytes are copied into an array first, so any collection may be passed.
  public init(bytes: some Collection<UInt8>, btf: BTF) throws(BTFError) {
    let data = ByteReader(Array(bytes))
    let names = BTFRecordScanner.NameCheck(btf.strings)
    let header = try Self.readHeader(data)
    self.header = header
    self.bytes = data.bytes
    self.strings = btf.strings
    let body = Int(header.headerLength)
    let typeCount = btf.types.count
    var groups: [RecordGroup] = []

    func block(
      _ part: BTFError.Part, offset: UInt32, length: UInt32, minimum: UInt32
    ) throws(BTFError) -> UInt32? {
      guard let range = data.range(at: UInt64(body) + UInt64(offset), count: UInt64(length))
      else {
        throw .sectionOutOfBounds(
          part, offset: offset, length: length, size: data.count - body)
      }
      return try Self.scanBlock(
        data.bytes, range, part: part, minimum: minimum, names: names, typeCount: typeCount,
        btf: btf, into: &groups)
    }

    funcInfoRecordSize = try block(
      .funcInfo, offset: header.funcInfoOffset, length: header.funcInfoLength,
      minimum: FuncInfo.minimumSize)
    lineInfoRecordSize = try block(
      .lineInfo, offset: header.lineInfoOffset, length: header.lineInfoLength,
      minimum: LineInfo.minimumSize)
    if let offset = header.coreRelocationOffset, let length = header.coreRelocationLength {
      coreRelocationRecordSize = try block(
        .coreRelocations, offset: offset, length: length, minimum: CORERelocation.minimumSize)
    } else {
      coreRelocationRecordSize = nil
    }
    self.groups = groups
  }

  /// Reads and checks the header.
  private static func readHeader(_ data: ByteReader) throws(BTFError) -> BTFExtHeader {
    let minimum = Int(BTFExtHeader.minimumLength)
    guard data.count >= minimum else {
      throw .truncatedHeader(.btfExt, have: data.count, need: minimum)
    }
    let word = { (offset: Int) -> UInt32 in data.read(UInt32.self, at: offset) ?? 0 }
    let magic = data.read(UInt16.self, at: 0) ?? 0
    guard magic == btfMagic else {
      if magic == btfMagic.byteSwapped { throw .bigEndian(.btfExt) }
      throw .badMagic(.btfExt, found: magic)
    }
    let version = data.bytes[2]
    guard version == 1 else { throw .unsupportedVersion(.btfExt, version: version) }
    let headerLength = word(4)
    guard headerLength >= BTFExtHeader.minimumLength else {
      throw .headerLengthTooSmall(
        .btfExt, headerLength: headerLength, minimum: BTFExtHeader.minimumLength)
    }
    guard UInt64(headerLength) <= UInt64(data.count) else {
      throw .headerLengthTooLarge(.btfExt, headerLength: headerLength, size: data.count)
    }
    let hasCORE = headerLength >= BTFExtHeader.coreRelocationLength
    return BTFExtHeader(
      magic: magic, version: version, flags: data.bytes[3], headerLength: headerLength,
      funcInfoOffset: word(8), funcInfoLength: word(12),
      lineInfoOffset: word(16), lineInfoLength: word(20),
      coreRelocationOffset: hasCORE ? word(24) : nil,
      coreRelocationLength: hasCORE ? word(28) : nil)
  }

  /// Checks one info block (`range` of `bytes`): the record size, then each group and each
  /// record, which is appended to `groups`. Returns the stated record size, or `nil` for an
  /// empty block.
  ///
  /// Offsets in errors are relative to the block, and a record's index counts the records of
  /// its section before it in the block.
  private static func scanBlock(
    _ bytes: [UInt8], _ range: Range<Int>, part: BTFError.Part, minimum: UInt32,
    names: BTFRecordScanner.NameCheck, typeCount: Int, btf: BTF, into groups: inout [RecordGroup]
  ) throws(BTFError) -> UInt32? {
    let length = range.count
    guard length > 0 else { return nil }
    let firstGroup = groups.count
    // withUnsafeBytes rethrows untyped errors: the body's typed error travels in a Result.
    return try bytes.withUnsafeBytes { raw in
      Result { () throws(BTFError) -> UInt32 in try scan(raw) }
    }.get()

    func scan(_ raw: UnsafeRawBufferPointer) throws(BTFError) -> UInt32 {
      let base = range.lowerBound
      func word(_ at: Int) -> UInt32 {
        UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + at, as: UInt32.self))
      }
      guard length >= 4 else { throw .recordOutOfBounds(part, offset: 0, need: 4, length: length) }
      let recordSize = word(0)
      guard recordSize >= minimum else {
        throw .recordSizeTooSmall(part, size: recordSize, minimum: minimum)
      }
      let size = Int(recordSize)
      var cursor = 4
      while cursor < length {
        guard length - cursor >= 8 else {
          throw .recordOutOfBounds(part, offset: cursor, need: 8, length: length)
        }
        let nameOffset = word(cursor), count = word(cursor + 4)
        try names.checkString(nameOffset)
        cursor += 8
        let need = UInt64(count) * UInt64(recordSize)  // both < 2^32: no overflow
        guard need <= UInt64(length - cursor) else {
          throw .recordOutOfBounds(part, offset: cursor, need: need, length: length)
        }
        for k in 0..<Int(count) {
          let at = cursor + k * size
          if part == .lineInfo {
            // Checked here, read when asked for (LineInfo.fileName, .lineText).
            try names.checkString(word(at + 4))
            try names.checkString(word(at + 8))
            continue
          }
          let typeID = word(at + 4)
          guard Int(typeID) < typeCount else {
            let section = (try? btf.string(at: nameOffset)) ?? ""
            let earlier = groups[firstGroup...].reduce(0) {
              $0 + ($1.nameOffset == nameOffset ? $1.count : 0)
            }
            throw .recordTypeIDOutOfRange(
              part, section: section, index: earlier + k, target: typeID, count: typeCount)
          }
          if part == .coreRelocations { try names.checkString(word(at + 8)) }
        }
        groups.append(RecordGroup(
          part: part, nameOffset: nameOffset, start: base + cursor, count: Int(count),
          recordSize: size))
        cursor += Int(need)
      }
      return recordSize
    }
  }
}
