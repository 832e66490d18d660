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
  /// Function records (`struct bpf_func_info`) by ELF section name, in file order.
  public let funcInfo: [String: [FuncInfo]]
  /// Line records (`struct bpf_line_info`) by ELF section name, in file order.
  public let lineInfo: [String: [LineInfo]]
  /// CO-RE relocations (`struct bpf_core_relo`) by ELF section name, in file order.
  public let coreRelocations: [String: [CORERelocation]]

  /// Parses the bytes of a `.BTF.ext` section, resolving names in the string table of `btf`
  /// (the object's `.BTF`) and checking type ids against its types.
  ///
  /// The bytes are copied into an array first, so any collection may be passed.
  public init(bytes: some Collection<UInt8>, btf: BTF) throws(BTFError) {
    let data = ByteReader(Array(bytes))
    let strings = BTFStringCache(btf)
    let names = BTFRecordScanner.NameCheck(btf.strings)
    let header = try Self.readHeader(data)
    self.header = header
    let body = Int(header.headerLength)

    func block(
      _ part: BTFError.Part, offset: UInt32, length: UInt32
    ) throws(BTFError) -> ByteReader {
      guard let range = data.range(at: UInt64(body) + UInt64(offset), count: UInt64(length))
      else {
        throw .sectionOutOfBounds(
          part, offset: offset, length: length, size: data.count - body)
      }
      return ByteReader(Array(data.bytes[range]))
    }

    let funcBlock = try block(
      .funcInfo, offset: header.funcInfoOffset, length: header.funcInfoLength)
    (funcInfoRecordSize, funcInfo) = try Self.parseBlock(
      funcBlock, part: .funcInfo, minimum: FuncInfo.minimumSize, btf: btf
    ) { (r, at, section, index) throws(BTFError) -> FuncInfo in
      let typeID = r.read(UInt32.self, at: at + 4) ?? 0
      try Self.checkType(typeID, btf: btf, part: .funcInfo, section: section, index: index)
      return FuncInfo(insnOffset: r.read(UInt32.self, at: at) ?? 0, typeID: typeID)
    }

    let lineBlock = try block(
      .lineInfo, offset: header.lineInfoOffset, length: header.lineInfoLength)
    (lineInfoRecordSize, lineInfo) = try Self.parseBlock(
      lineBlock, part: .lineInfo, minimum: LineInfo.minimumSize, btf: btf
    ) { (r, at, _, _) throws(BTFError) -> LineInfo in
      let fileNameOffset = r.read(UInt32.self, at: at + 4) ?? 0
      let lineOffset = r.read(UInt32.self, at: at + 8) ?? 0
      // Checked here, read when asked for (LineInfo.fileName, .lineText).
      try names.checkString(fileNameOffset)
      try names.checkString(lineOffset)
      return LineInfo(
        insnOffset: r.read(UInt32.self, at: at) ?? 0,
        fileNameOffset: fileNameOffset, lineOffset: lineOffset,
        lineCol: r.read(UInt32.self, at: at + 12) ?? 0, strings: btf.strings)
    }

    if let offset = header.coreRelocationOffset, let length = header.coreRelocationLength {
      let coreBlock = try block(.coreRelocations, offset: offset, length: length)
      (coreRelocationRecordSize, coreRelocations) = try Self.parseBlock(
        coreBlock, part: .coreRelocations, minimum: CORERelocation.minimumSize, btf: btf
      ) { (r, at, section, index) throws(BTFError) -> CORERelocation in
        let typeID = r.read(UInt32.self, at: at + 4) ?? 0
        try Self.checkType(
          typeID, btf: btf, part: .coreRelocations, section: section, index: index)
        let accessOffset = r.read(UInt32.self, at: at + 8) ?? 0
        return CORERelocation(
          insnOffset: r.read(UInt32.self, at: at) ?? 0, typeID: typeID,
          accessStringOffset: accessOffset, accessString: try strings.string(accessOffset),
          kind: .init(rawValue: r.read(UInt32.self, at: at + 12) ?? 0))
      }
    } else {
      (coreRelocationRecordSize, coreRelocations) = (nil, [:])
    }
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

  private static func checkType(
    _ typeID: BTFTypeID, btf: BTF, part: BTFError.Part, section: String, index: Int
  ) throws(BTFError) {
    guard Int(typeID) < btf.types.count else {
      throw .recordTypeIDOutOfRange(
        part, section: section, index: index, target: typeID, count: btf.types.count)
    }
  }

  /// Parses one info block: the record size, then groups of records per section.
  ///
  /// `decode` is called with the block reader, the offset of a record whose stated size (at
  /// least `minimum`) lies inside the block, the section name and the record's index among
  /// that section's records.
  private static func parseBlock<Record>(
    _ block: ByteReader, part: BTFError.Part, minimum: UInt32, btf: BTF,
    decode: (ByteReader, Int, String, Int) throws(BTFError) -> Record
  ) throws(BTFError) -> (UInt32?, [String: [Record]]) {
    guard block.count > 0 else { return (nil, [:]) }
    guard let recordSize = block.read(UInt32.self, at: 0) else {
      throw .recordOutOfBounds(part, offset: 0, need: 4, length: block.count)
    }
    guard recordSize >= minimum else {
      throw .recordSizeTooSmall(part, size: recordSize, minimum: minimum)
    }
    var result: [String: [Record]] = [:]
    var cursor = 4
    while cursor < block.count {
      guard let nameOffset = block.read(UInt32.self, at: cursor),
        let count = block.read(UInt32.self, at: cursor + 4)
      else {
        throw .recordOutOfBounds(part, offset: cursor, need: 8, length: block.count)
      }
      let section = try btf.string(at: nameOffset)
      cursor += 8
      let need = UInt64(count) * UInt64(recordSize)  // both < 2^32: no overflow
      guard block.range(at: UInt64(cursor), count: need) != nil else {
        throw .recordOutOfBounds(part, offset: cursor, need: need, length: block.count)
      }
      var records = result[section] ?? []
      records.reserveCapacity(records.count + Int(count))
      for _ in 0..<Int(count) {
        records.append(try decode(block, cursor, section, records.count))
        cursor += Int(recordSize)
      }
      result[section] = records
    }
    return (recordSize, result)
  }
}

/// Strings of a BTF string table read once each, by offset: line and CO-RE records repeat the
/// same file names, source lines and access strings many times.
final class BTFStringCache {
  let btf: BTF
  private var known: [UInt32: String] = [:]

  init(_ btf: BTF) { self.btf = btf }

  func string(_ offset: UInt32) throws(BTFError) -> String {
    if let s = known[offset] { return s }
    let s = try btf.string(at: offset)
    known[offset] = s
    return s
  }
}
