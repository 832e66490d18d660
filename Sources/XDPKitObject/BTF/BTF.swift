/// The header of a `.BTF` section (`struct btf_header`).
public struct BTFHeader: Sendable, Equatable {
  /// Size of the fixed part of the header that this reader understands.
  public static let minimumLength: UInt32 = 24

  /// `BTF_MAGIC`, 0xEB9F.
  public var magic: UInt16
  /// `BTF_VERSION`, 1.
  public var version: UInt8
  /// Header flags (none are defined; the kernel wants 0).
  public var flags: UInt8
  /// `hdr_len`: size of the header in bytes; offsets below are relative to its end.
  public var headerLength: UInt32
  /// `type_off`: offset of the type section.
  public var typeOffset: UInt32
  /// `type_len`: length of the type section.
  public var typeLength: UInt32
  /// `str_off`: offset of the string section.
  public var stringOffset: UInt32
  /// `str_len`: length of the string section.
  public var stringLength: UInt32
}

/// The BTF type information of a BPF object: the parsed `.BTF` section.
///
/// Type id `n` is `types[n]`; id 0 is ``BTFType/void``. Parsing checks every record against
/// the bounds of the type section, every referenced type id against the number of types, and
/// every name offset against the string table: every id found inside a parsed type names an
/// existing type, and every name is resolved.
///
/// Parsing validates and keeps the records encoded; a type is decoded when it is asked for
/// (see ``BTFTypes``), so parsing an object builds no type values and no name strings.
///
/// The loader patches a few values before it hands BTF to the kernel (DATASEC sizes, variable
/// offsets) with ``setDataSectionSize(id:size:)``, ``setDataSectionEntries(id:entries:)`` or
/// ``replaceType(id:with:)``, then writes the result with ``encoded()``. The first two change
/// the encoded records in place; only other changes decode the types.
public struct BTF: Sendable, Equatable {
  /// The header as read from the section. After mutation, ``encoded()`` writes a fresh header
  /// whose offsets and lengths describe the new contents.
  public let header: BTFHeader
  /// The string table: NUL-terminated strings addressed by byte offset.
  public internal(set) var strings: [UInt8]
  /// All types, indexed by type id; `types[0]` is void. Parsed types are decoded on access
  /// (see ``BTFTypes``).
  ///
  /// (Settable inside the module only so that the mutating methods in other files can keep
  /// their invariants: ids in range, names resolved, values encodable. Use them.)
  public internal(set) var types: BTFTypes
  /// Header bytes beyond the fields this reader knows (`hdr_len` greater than 24), kept so that
  /// ``encoded()`` reproduces them.
  var headerTail: [UInt8]

  /// Creates an empty BTF: version 1, a 24-byte header, only void, and a string table holding
  /// the empty string. Add to it with ``appendString(_:)`` and ``appendType(_:)``, e.g. to
  /// build the small BTF blobs that probe which kinds a kernel accepts.
  public init() {
    self.header = BTFHeader(
      magic: btfMagic, version: 1, flags: 0, headerLength: BTFHeader.minimumLength,
      typeOffset: 0, typeLength: 0, stringOffset: 0, stringLength: 1)
    self.strings = [0]
    self.types = [.void]
    self.headerTail = []
  }

  /// Parses the bytes of a `.BTF` section.
  ///
  /// The bytes are copied into an array first, so any collection (an `Array`, an `ArraySlice`
  /// of a whole object file) may be passed; offsets in errors are relative to the first byte.
  /// Only little-endian BTF is accepted; big-endian data is recognised by its byte-swapped
  /// magic and rejected with ``BTFError/bigEndian(_:)``.
  public init(bytes: some Collection<UInt8>) throws(BTFError) {
    try self.init(parsing: bytes, base: nil)
  }

  /// Parses `bytes` as BTF on its own (`base == nil`) or as split BTF on top of `base`: type
  /// ids continue after the base's, and string offsets from the base's string table length
  /// address the split part's table.
  init(parsing bytes: some Collection<UInt8>, base: BTF?) throws(BTFError) {
    let data = ByteReader(Array(bytes))
    let minimum = Int(BTFHeader.minimumLength)
    guard data.count >= minimum else {
      throw .truncatedHeader(.btf, have: data.count, need: minimum)
    }
    let header = try Self.readHeader(data)
    self.header = header
    let headerEnd = Int(header.headerLength)
    self.headerTail = Array(data.bytes[minimum..<headerEnd])

    let available = data.count - headerEnd
    guard
      let typeRange = data.range(
        at: UInt64(headerEnd) + UInt64(header.typeOffset), count: UInt64(header.typeLength))
    else {
      throw .sectionOutOfBounds(
        .types, offset: header.typeOffset, length: header.typeLength, size: available)
    }
    guard
      let stringRange = data.range(
        at: UInt64(headerEnd) + UInt64(header.stringOffset), count: UInt64(header.stringLength))
    else {
      throw .sectionOutOfBounds(
        .strings, offset: header.stringOffset, length: header.stringLength, size: available)
    }
    self.strings = (base?.strings ?? []) + data.bytes[stringRange]
    let segment = try BTFRecordScanner.scan(
      data.bytes, section: typeRange, strings: strings, firstID: base?.types.count ?? 1)
    try BTFRecordScanner.checkReferences(segment, count: segment.endID)
    if let base {
      self.types = base.types.extended(by: segment, strings: strings)
    } else {
      self.types = BTFTypes(records: BTFRecords(segments: [segment], strings: strings))
    }
  }

  /// Reads and checks the fixed header. `data` holds at least `minimumLength` bytes.
  private static func readHeader(_ data: ByteReader) throws(BTFError) -> BTFHeader {
    let word = { (offset: Int) -> UInt32 in data.read(UInt32.self, at: offset) ?? 0 }
    let magic = data.read(UInt16.self, at: 0) ?? 0
    guard magic == btfMagic else {
      if magic == btfMagic.byteSwapped { throw .bigEndian(.btf) }
      throw .badMagic(.btf, found: magic)
    }
    let version = data.bytes[2]
    guard version == 1 else { throw .unsupportedVersion(.btf, version: version) }
    let headerLength = word(4)
    guard headerLength >= BTFHeader.minimumLength else {
      throw .headerLengthTooSmall(
        .btf, headerLength: headerLength, minimum: BTFHeader.minimumLength)
    }
    guard UInt64(headerLength) <= UInt64(data.count) else {
      throw .headerLengthTooLarge(.btf, headerLength: headerLength, size: data.count)
    }
    return BTFHeader(
      magic: magic, version: version, flags: data.bytes[3], headerLength: headerLength,
      typeOffset: word(8), typeLength: word(12), stringOffset: word(16), stringLength: word(20))
  }

  // MARK: Lookups

  /// The type with id `id`.
  /// - Throws: ``BTFError/noSuchType(id:count:)`` when `id` is not below `types.count`.
  public func type(id: BTFTypeID) throws(BTFError) -> BTFType {
    guard Int(id) < types.count else { throw .noSuchType(id: id, count: types.count) }
    return types[Int(id)]
  }

  /// The name of type `id`, or `nil` when it is anonymous.
  /// - Throws: ``BTFError/noSuchType(id:count:)`` when `id` is not below `types.count`.
  public func name(of id: BTFTypeID) throws(BTFError) -> String? {
    guard Int(id) < types.count else { throw .noSuchType(id: id, count: types.count) }
    return types.name(at: Int(id))
  }

  /// The NUL-terminated string at `offset` in the string table.
  ///
  /// Offset 0 is the empty string by convention, even when the table is empty.
  /// - Throws: ``BTFError/stringOffsetOutOfRange(offset:tableSize:)`` or
  ///   ``BTFError/stringNotTerminated(offset:tableSize:)``.
  public func string(at offset: UInt32) throws(BTFError) -> String {
    try Self.string(in: strings, at: offset)
  }

  /// Reads the string at `offset` of `table`; see ``string(at:)``.
  static func string(in table: [UInt8], at offset: UInt32) throws(BTFError) -> String {
    if offset == 0 && table.isEmpty { return "" }
    guard let start = Int(exactly: offset), start < table.count else {
      throw .stringOffsetOutOfRange(offset: offset, tableSize: table.count)
    }
    guard let end = table[start...].firstIndex(of: 0) else {
      throw .stringNotTerminated(offset: offset, tableSize: table.count)
    }
    return String(decoding: table[start..<end], as: UTF8.self)
  }

  /// The name at `offset`, or `nil` for offset 0 (anonymous).
  static func name(in table: [UInt8], at offset: UInt32) throws(BTFError) -> String? {
    offset == 0 ? nil : try string(in: table, at: offset)
  }
}

/// `BTF_MAGIC` as read little-endian.
let btfMagic: UInt16 = 0xEB9F
