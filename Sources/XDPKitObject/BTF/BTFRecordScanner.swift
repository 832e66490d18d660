/// Checks the records of a BTF type section without decoding them, and records where each one
/// starts.
///
/// Offsets in errors are relative to the start of the type section. Every read is checked
/// against the section's bounds first; a record that runs past its end throws, it never traps.
/// After ``scan(_:section:strings:firstID:)`` and ``checkReferences(_:count:)`` have passed,
/// every record lies inside the section, has a known kind and no reserved bits, every name
/// offset resolves to a NUL-terminated string and every referenced id names a type, which is
/// what lets ``BTFRecords`` decode without checks.
enum BTFRecordScanner {
  /// Bits of the `info` word that no kind uses: 16–23 and 29–30.
  static let reservedInfoBits: UInt32 = 0x60FF_0000
  /// Bits of the INT data word that carry encoding, offset and bits.
  static let intDataBits: UInt32 = 0x0FFF_00FF

  /// Number of bytes after the 12-byte `struct btf_type` of a record of `kind` with `vlen`.
  static func trailingLength(_ kind: BTFKind, vlen: Int) -> Int {
    switch kind {
    case .int, .variable, .declarationTag: 4
    case .array: 12
    case .struct, .union, .dataSection, .enum64: 12 * vlen
    case .enum, .functionPrototype: 8 * vlen
    default: 0
    }
  }

  /// Checks every record of the type section at `section` of `bytes`, whose names are in
  /// `strings` and whose first record is type `firstID`, and returns them as a segment.
  static func scan(
    _ bytes: [UInt8], section: Range<Int>, strings: [UInt8], firstID: Int
  ) throws(BTFError) -> BTFRecords.Segment {
    let names = NameCheck(strings)
    var offsets: [UInt32] = []
    offsets.reserveCapacity(section.count / 16)
    var dataSections: [Int] = []
    // An object has a few (.maps, .rodata, .bss, license…): one allocation instead of growing.
    dataSections.reserveCapacity(8)
    var failure: BTFError? = nil
    bytes.withUnsafeBytes { whole in
      do throws(BTFError) {
        try scanRecords(
          UnsafeRawBufferPointer(rebasing: whole[section]), names: names, firstID: firstID,
          into: &offsets, dataSections: &dataSections)
      } catch {
        failure = error
      }
    }
    if let failure { throw failure }
    return BTFRecords.Segment(
      bytes: bytes, sectionStart: section.lowerBound, sectionLength: section.count,
      offsets: offsets, firstID: firstID, dataSectionIDs: dataSections)
  }

  private static func scanRecords(
    _ raw: UnsafeRawBufferPointer, names: NameCheck, firstID: Int, into offsets: inout [UInt32],
    dataSections: inout [Int]
  ) throws(BTFError) {
    @inline(__always) func word(_ at: Int) -> UInt32 {
      UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self))
    }
    let end = raw.count
    var cursor = 0
    var id = firstID
    while cursor < end {
      let start = cursor
      let typeID = UInt32(truncatingIfNeeded: id)
      guard end - start >= 12 else { throw .typeRecordTruncated(typeID: typeID, offset: start) }
      let nameOffset = word(start)
      let info = word(start + 4)
      let sizeOrType = word(start + 8)

      let rawKind = UInt8(truncatingIfNeeded: (info >> 24) & 0x1F)
      guard let kind = BTFKind(rawValue: rawKind), kind != .void else {
        throw .unknownKind(kind: rawKind, typeID: typeID)
      }
      let vlen = Int(info & 0xFFFF)
      guard info & reservedInfoBits == 0, kind.usesVlen || vlen == 0 else {
        throw .reservedBitsSet(typeID: typeID, word: .info, value: info)
      }
      let data = start + 12
      let remaining = end - data
      let needed = trailingLength(kind, vlen: vlen)  // at most 12 * 0xFFFF: no overflow
      guard needed <= remaining else {
        if kind.usesVlen { throw .vlenTooLarge(typeID: typeID, vlen: vlen, remaining: remaining) }
        throw .typeRecordTruncated(typeID: typeID, offset: start)
      }
      try names.check(nameOffset)
      switch kind {
      case .int:
        let bits = word(data)
        guard bits & ~intDataBits == 0 else {
          throw .reservedBitsSet(typeID: typeID, word: .intData, value: bits)
        }
      case .array, .forward:
        guard sizeOrType == 0 else {
          throw .reservedBitsSet(typeID: typeID, word: .sizeOrType, value: sizeOrType)
        }
      case .struct, .union, .enum64:
        for i in 0..<vlen { try names.check(word(data + 12 * i)) }
      case .enum, .functionPrototype:
        for i in 0..<vlen { try names.check(word(data + 8 * i)) }
      case .dataSection:
        dataSections.append(id)
      default:
        break
      }
      offsets.append(UInt32(truncatingIfNeeded: start))
      cursor = data + needed
      id += 1
    }
  }

  /// Checks that every type id the records of `segment` refer to is below `count`, in id
  /// order and, within a record, in the order of ``BTFType/referencedTypeIDs``.
  static func checkReferences(_ segment: BTFRecords.Segment, count: Int) throws(BTFError) {
    var failure: BTFError? = nil
    segment.bytes.withUnsafeBytes { raw in
      do throws(BTFError) {
        try checkReferences(
          UnsafeRawBufferPointer(rebasing: raw[segment.sectionStart...]), segment.offsets,
          firstID: segment.firstID, count: count)
      } catch {
        failure = error
      }
    }
    if let failure { throw failure }
  }

  private static func checkReferences(
    _ raw: UnsafeRawBufferPointer, _ offsets: [UInt32], firstID: Int, count: Int
  ) throws(BTFError) {
    @inline(__always) func word(_ at: Int) -> UInt32 {
      UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self))
    }
    for (index, offset) in offsets.enumerated() {
      let start = Int(offset)
      let info = word(start + 4)
      let sizeOrType = word(start + 8)
      let vlen = Int(info & 0xFFFF)
      let data = start + 12
      @inline(__always) func check(_ target: UInt32) throws(BTFError) {
        guard Int(target) < count else {
          throw .typeIDOutOfRange(
            typeID: UInt32(truncatingIfNeeded: firstID + index), target: target, count: count)
        }
      }
      switch BTFKind(rawValue: UInt8(truncatingIfNeeded: info >> 24) & 0x1F) ?? .void {
      case .void, .int, .enum, .enum64, .forward, .float:
        continue
      case .pointer, .typedef, .volatile, .const, .restrict, .typeTag, .function, .variable,
        .declarationTag:
        try check(sizeOrType)
      case .array:
        try check(word(data))
        try check(word(data + 4))
      case .struct, .union:
        for i in 0..<vlen { try check(word(data + 12 * i + 4)) }
      case .functionPrototype:
        try check(sizeOrType)
        for i in 0..<vlen { try check(word(data + 8 * i + 4)) }
      case .dataSection:
        for i in 0..<vlen { try check(word(data + 12 * i)) }
      }
    }
  }

  /// Checks name offsets against a string table in constant time: an offset names a
  /// NUL-terminated string when it is inside the table and not past its last NUL.
  struct NameCheck {
    let tableSize: Int
    /// One past the index of the last NUL byte (0 when there is none).
    let terminatedBelow: Int

    init(_ table: [UInt8]) {
      tableSize = table.count
      terminatedBelow = (table.lastIndex(of: 0) ?? -1) + 1
    }

    /// Throws unless ``BTF/string(at:)`` would read a string at `offset`: as ``check(_:)``,
    /// except that offset 0 of a non-empty table needs a NUL in the table too.
    func checkString(_ offset: UInt32) throws(BTFError) {
      if offset == 0 && tableSize > 0 && terminatedBelow == 0 {
        throw .stringNotTerminated(offset: 0, tableSize: tableSize)
      }
      try check(offset)
    }

    /// Throws unless `offset` is 0 (anonymous) or names a NUL-terminated string.
    @inline(__always)
    func check(_ offset: UInt32) throws(BTFError) {
      guard offset != 0 else { return }
      guard Int(offset) < tableSize else {
        throw .stringOffsetOutOfRange(offset: offset, tableSize: tableSize)
      }
      guard Int(offset) < terminatedBelow else {
        throw .stringNotTerminated(offset: offset, tableSize: tableSize)
      }
    }
  }
}
