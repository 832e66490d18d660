/// Decodes the records of a BTF type section, one after another, into ``BTFType`` values.
///
/// Offsets are relative to the start of the type section. Every read is bounds-checked against
/// the section; a record that runs past its end throws, it never traps.
struct BTFTypeParser {
  /// The type section, indices from 0.
  let section: ByteReader
  /// The string table, for resolving names.
  let strings: [UInt8]
  /// Offset of the next record.
  private(set) var cursor = 0
  /// Names already read: many records may share one (possibly long) string, and each is read
  /// once, so crafted input cannot make parsing quadratic in time or memory. `nameSlots[offset]`
  /// is 1 + the index in `names` of the name at `offset`, or 0 when not read yet: an array
  /// index per lookup instead of hashing, which matters for kernel BTF (hundreds of thousands
  /// of names).
  /// Small string tables (object files) use a dictionary instead, not to allocate and clear
  /// four bytes per string byte for a handful of names.
  private var nameSlots: [UInt32] = []
  private var names: [String?] = []
  private var smallCache: [UInt32: String?] = [:]
  /// From this string table size on, the slot array is used.
  static let slotCacheThreshold = 1 << 16

  private mutating func cachedName(_ offset: UInt32) throws(BTFError) -> String? {
    guard Int(offset) < strings.count else { return try BTF.name(in: strings, at: offset) }
    if strings.count < Self.slotCacheThreshold {
      if let known = smallCache[offset] { return known }
      let name = try BTF.name(in: strings, at: offset)
      smallCache[offset] = name
      return name
    }
    if nameSlots.isEmpty { nameSlots = [UInt32](repeating: 0, count: strings.count) }
    let slot = nameSlots[Int(offset)]
    if slot != 0 { return names[Int(slot) - 1] }
    let name = try BTF.name(in: strings, at: offset)
    names.append(name)
    nameSlots[Int(offset)] = UInt32(names.count)
    return name
  }

  /// Bits of the `info` word that no kind uses: 16–23 and 29–30.
  static let reservedInfoBits: UInt32 = 0x60FF_0000
  /// Bits of the INT data word that carry encoding, offset and bits.
  static let intDataBits: UInt32 = 0x0FFF_00FF

  /// The id of the first record: 1, or for split BTF the number of types of the base.
  let firstID: Int

  init(section: ByteReader, strings: [UInt8], firstID: Int = 1) {
    self.section = section
    self.strings = strings
    self.firstID = firstID
  }

  /// Parses every record. The result starts with void at index 0.
  mutating func parseAll() throws(BTFError) -> [BTFType] {
    var types = [BTFType.void]
    while cursor < section.count {
      types.append(try parseRecord(id: UInt32(truncatingIfNeeded: types.count - 1 + firstID)))
    }
    return types
  }

  /// Reads a `u32` at `offset` of the record that started at `recordStart`.
  private func word(_ offset: Int, id: BTFTypeID, recordStart: Int) throws(BTFError) -> UInt32 {
    guard let value = section.read(UInt32.self, at: offset) else {
      throw .typeRecordTruncated(typeID: id, offset: recordStart)
    }
    return value
  }

  /// Parses the record at `cursor` and advances past it.
  private mutating func parseRecord(id: BTFTypeID) throws(BTFError) -> BTFType {
    let start = cursor
    let nameOffset = try word(start, id: id, recordStart: start)
    let info = try word(start + 4, id: id, recordStart: start)
    let sizeOrType = try word(start + 8, id: id, recordStart: start)
    cursor = start + 12

    let rawKind = UInt8(truncatingIfNeeded: (info >> 24) & 0x1F)
    guard let kind = BTFKind(rawValue: rawKind), kind != .void else {
      throw .unknownKind(kind: rawKind, typeID: id)
    }
    let vlen = Int(info & 0xFFFF)
    let kindFlag = info >> 31 == 1
    guard info & Self.reservedInfoBits == 0, kind.usesVlen || vlen == 0 else {
      throw .reservedBitsSet(typeID: id, word: .info, value: info)
    }

    // Trailing data: a fixed part, or vlen items of a fixed size.
    let itemSize: Int
    switch kind {
    case .int, .variable, .declarationTag: itemSize = 4
    case .array: itemSize = 12
    case .struct, .union, .dataSection, .enum64: itemSize = 12
    case .enum, .functionPrototype: itemSize = 8
    default: itemSize = 0
    }
    let itemCount =
      switch kind {
      case .int, .variable, .declarationTag, .array: 1
      case .struct, .union, .dataSection, .enum64, .enum, .functionPrototype: vlen
      default: 0
      }
    let remaining = section.count - cursor
    let needed = itemSize * itemCount  // at most 12 * 0xFFFF: no overflow
    guard needed <= remaining else {
      if kind.usesVlen { throw .vlenTooLarge(typeID: id, vlen: vlen, remaining: remaining) }
      throw .typeRecordTruncated(typeID: id, offset: start)
    }
    let data = cursor
    cursor += needed

    let name = try cachedName(nameOffset)
    let body: BTFType.Body
    switch kind {
    case .void:
      throw .unknownKind(kind: rawKind, typeID: id)  // excluded above
    case .int:
      let bits = try word(data, id: id, recordStart: start)
      guard bits & ~Self.intDataBits == 0 else {
        throw .reservedBitsSet(typeID: id, word: .intData, value: bits)
      }
      body = .int(
        .init(
          size: sizeOrType,
          encoding: .init(rawValue: UInt8(truncatingIfNeeded: bits >> 24) & 0x0F),
          offset: UInt8(truncatingIfNeeded: bits >> 16), bits: UInt8(truncatingIfNeeded: bits)))
    case .pointer: body = .pointer(to: sizeOrType)
    case .array:
      guard sizeOrType == 0 else {
        throw .reservedBitsSet(typeID: id, word: .sizeOrType, value: sizeOrType)
      }
      body = .array(
        .init(
          elementType: try word(data, id: id, recordStart: start),
          indexType: try word(data + 4, id: id, recordStart: start),
          count: try word(data + 8, id: id, recordStart: start)))
    case .struct, .union:
      var members: [BTFType.Member] = []
      members.reserveCapacity(vlen)
      for i in 0..<vlen {
        let at = data + 12 * i
        var member = BTFType.Member(
          nameOffset: try word(at, id: id, recordStart: start),
          type: try word(at + 4, id: id, recordStart: start), bitOffset: 0)
        let offset = try word(at + 8, id: id, recordStart: start)
        if kindFlag {
          member.bitOffset = offset & 0x00FF_FFFF
          member.bitfieldSize = UInt8(truncatingIfNeeded: offset >> 24)
        } else {
          member.bitOffset = offset
        }
        member.name = try cachedName(member.nameOffset)
        members.append(member)
      }
      body =
        kind == .struct
        ? .struct(size: sizeOrType, members: members) : .union(size: sizeOrType, members: members)
    case .enum:
      var values: [BTFType.EnumValue] = []
      values.reserveCapacity(vlen)
      for i in 0..<vlen {
        let at = data + 8 * i
        var value = BTFType.EnumValue(
          nameOffset: try word(at, id: id, recordStart: start),
          value: Int32(bitPattern: try word(at + 4, id: id, recordStart: start)))
        value.name = try cachedName(value.nameOffset)
        values.append(value)
      }
      body = .enum(size: sizeOrType, values: values)
    case .enum64:
      var values: [BTFType.Enum64Value] = []
      values.reserveCapacity(vlen)
      for i in 0..<vlen {
        let at = data + 12 * i
        let low = try word(at + 4, id: id, recordStart: start)
        let high = try word(at + 8, id: id, recordStart: start)
        var value = BTFType.Enum64Value(
          nameOffset: try word(at, id: id, recordStart: start),
          value: UInt64(high) << 32 | UInt64(low))
        value.name = try cachedName(value.nameOffset)
        values.append(value)
      }
      body = .enum64(size: sizeOrType, values: values)
    case .forward:
      guard sizeOrType == 0 else {
        throw .reservedBitsSet(typeID: id, word: .sizeOrType, value: sizeOrType)
      }
      body = .forward
    case .typedef: body = .typedef(sizeOrType)
    case .volatile: body = .volatile(sizeOrType)
    case .const: body = .const(sizeOrType)
    case .restrict: body = .restrict(sizeOrType)
    case .typeTag: body = .typeTag(sizeOrType)
    case .function:
      body = .function(prototype: sizeOrType, linkage: .init(rawValue: UInt32(vlen)))
    case .functionPrototype:
      var parameters: [BTFType.Parameter] = []
      parameters.reserveCapacity(vlen)
      for i in 0..<vlen {
        let at = data + 8 * i
        var parameter = BTFType.Parameter(
          nameOffset: try word(at, id: id, recordStart: start),
          type: try word(at + 4, id: id, recordStart: start))
        parameter.name = try cachedName(parameter.nameOffset)
        parameters.append(parameter)
      }
      body = .functionPrototype(returnType: sizeOrType, parameters: parameters)
    case .variable:
      body = .variable(
        type: sizeOrType, linkage: .init(rawValue: try word(data, id: id, recordStart: start)))
    case .dataSection:
      var entries: [BTFType.DataSectionEntry] = []
      entries.reserveCapacity(vlen)
      for i in 0..<vlen {
        let at = data + 12 * i
        entries.append(
          .init(
            type: try word(at, id: id, recordStart: start),
            offset: try word(at + 4, id: id, recordStart: start),
            size: try word(at + 8, id: id, recordStart: start)))
      }
      body = .dataSection(size: sizeOrType, entries: entries)
    case .float: body = .float(size: sizeOrType)
    case .declarationTag:
      body = .declarationTag(
        type: sizeOrType,
        componentIndex: Int32(bitPattern: try word(data, id: id, recordStart: start)))
    }

    var type = BTFType(nameOffset: nameOffset, kindFlag: kindFlag, body: body)
    type.name = name
    return type
  }
}
