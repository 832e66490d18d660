extension BTF {
  // MARK: Writing

  /// The BTF as the bytes of a `.BTF` section: header, type section, string section.
  ///
  /// The layout is canonical: the type section directly follows the header (`type_off` 0) and
  /// the string section directly follows the types. Magic, version, flags, `hdr_len` and any
  /// header bytes beyond the known fields are those read. Clang writes this layout, so for its
  /// output `BTF(bytes: x).encoded() == x`. Types still held as parsed records (also after
  /// ``setDataSectionSize(id:size:)`` and ``setDataSectionEntries(id:entries:)``, which patch
  /// them in place) are copied as they are, without decoding: their encoding is the same.
  public func encoded() -> [UInt8] {
    var typeSection: [UInt8] = []
    if let records = types.records {
      typeSection.reserveCapacity(records.typeSectionsLength)
      records.appendTypeSections(to: &typeSection)
    } else {
      var writer = BTFByteWriter()
      for type in types.dropFirst() { writer.append(type) }
      typeSection = writer.bytes
    }
    // The invariants kept by the mutating methods ensure these lengths fit in 32 bits.
    let typeLength = UInt32(truncatingIfNeeded: typeSection.count)
    var output = BTFByteWriter()
    output.bytes.reserveCapacity(
      Int(header.headerLength) + typeSection.count + strings.count)
    output.u16(header.magic)
    output.bytes.append(header.version)
    output.bytes.append(header.flags)
    output.u32(header.headerLength)
    output.u32(0)
    output.u32(typeLength)
    output.u32(typeLength)
    output.u32(UInt32(truncatingIfNeeded: strings.count))
    output.bytes += headerTail
    output.bytes += typeSection
    output.bytes += strings
    return output.bytes
  }

  /// Number of bytes ``encoded()`` writes for the type and string sections, which must each
  /// stay below 2^32.
  private func sectionLengths() -> (types: Int, strings: Int) {
    (types.reduce(0) { $0 + $1.encodedLength }, strings.count)
  }

  // MARK: Mutation

  /// Replaces type `id` (not void) with `type`, resolving its names from their offsets.
  ///
  /// The new type is checked as a parsed one would be: referenced ids must exist, name offsets
  /// must lie in the string table, and every value must fit its encoding.
  /// - Throws: ``BTFError/noSuchType(id:count:)`` for id 0 or an id past the end, or the error
  ///   that describes what is wrong with `type`.
  public mutating func replaceType(id: BTFTypeID, with type: BTFType) throws(BTFError) {
    guard id != 0, Int(id) < types.count else { throw .noSuchType(id: id, count: types.count) }
    let checked = try checked(type, id: id, typeCount: types.count)
    let length = sectionLengths().types - types[Int(id)].encodedLength + checked.encodedLength
    guard length <= Int(UInt32.max) else {
      throw .valueTooLarge(typeID: id, value: UInt64(length), maximum: UInt64(UInt32.max))
    }
    types.replace(at: Int(id), with: checked)
  }

  /// Appends `type` with the next free id and returns that id. The type may refer to itself.
  /// - Throws: the error that describes what is wrong with `type`, or
  ///   ``BTFError/valueTooLarge(typeID:value:maximum:)`` when the type section would outgrow
  ///   32 bits or the type count would exceed `BTF_MAX_TYPE` (0xFFFFF).
  @discardableResult
  public mutating func appendType(_ type: BTFType) throws(BTFError) -> BTFTypeID {
    let id = UInt32(truncatingIfNeeded: types.count)
    guard types.count <= 0xFFFFF else {
      throw .valueTooLarge(typeID: id, value: UInt64(types.count), maximum: 0xFFFFF)
    }
    let checked = try checked(type, id: id, typeCount: types.count + 1)
    let length = sectionLengths().types + checked.encodedLength
    guard length <= Int(UInt32.max) else {
      throw .valueTooLarge(typeID: id, value: UInt64(length), maximum: UInt64(UInt32.max))
    }
    types.append(checked)
    return id
  }

  /// Adds `string` to the string table and returns its offset. A string already in the table
  /// (as a whole NUL-terminated entry) is reused. Bytes after an embedded NUL are dropped.
  /// - Throws: ``BTFError/valueTooLarge(typeID:value:maximum:)`` (with type id 0) when the
  ///   table would outgrow 32 bits.
  public mutating func appendString(_ string: String) throws(BTFError) -> UInt32 {
    let utf8 = Array(string.utf8.prefix { $0 != 0 })
    if utf8.isEmpty, strings.first == 0 { return 0 }
    if let offset = offset(of: utf8) { return offset }
    var added = strings.isEmpty && !utf8.isEmpty ? [UInt8(0)] : []
    added += utf8
    added.append(0)
    let length = strings.count + added.count
    guard length <= Int(UInt32.max) else {
      throw .valueTooLarge(typeID: 0, value: UInt64(length), maximum: UInt64(UInt32.max))
    }
    let offset = UInt32(strings.count + added.count - utf8.count - 1)
    strings += added
    return offset
  }

  /// The offset of an existing table entry equal to `utf8`, if there is one.
  private func offset(of utf8: [UInt8]) -> UInt32? {
    var start = 0
    while start < strings.count {
      guard let end = strings[start...].firstIndex(of: 0) else { return nil }
      if strings[start..<end].elementsEqual(utf8) { return UInt32(start) }
      start = end + 1
    }
    return nil
  }

  /// Sets the size of DATASEC `id`. Clang writes 0; the kernel wants the ELF section size.
  /// - Throws: ``BTFError/wrongKind(typeID:expected:found:)`` when `id` is not a DATASEC,
  ///   ``BTFError/noSuchType(id:count:)``.
  public mutating func setDataSectionSize(id: BTFTypeID, size: UInt32) throws(BTFError) {
    if types.records != nil {
      // Patched in place: the record keeps its length.
      let kind = try kind(of: id)
      guard kind == .dataSection else {
        throw .wrongKind(typeID: id, expected: .dataSection, found: kind)
      }
      types.patch(at: Int(id), from: 2, [size])
      return
    }
    var type = try type(id: id)
    guard case .dataSection(_, let entries) = type.body else {
      throw .wrongKind(typeID: id, expected: .dataSection, found: type.kind)
    }
    type.body = .dataSection(size: size, entries: entries)
    types.replace(at: Int(id), with: type)
  }

  /// Replaces the entries (variables with their offsets and sizes) of DATASEC `id`.
  /// - Throws: ``BTFError/wrongKind(typeID:expected:found:)`` when `id` is not a DATASEC,
  ///   ``BTFError/typeIDOutOfRange(typeID:target:count:)`` for an entry naming no type,
  ///   ``BTFError/noSuchType(id:count:)``.
  public mutating func setDataSectionEntries(
    id: BTFTypeID, entries: [BTFType.DataSectionEntry]
  ) throws(BTFError) {
    if types.records != nil, try kind(of: id) == .dataSection, types.vlen(at: Int(id)) == entries.count {
      // As many entries as the record has: patched in place, after the checks that
      // replaceType(id:with:) would make (DATASEC entries have no names).
      var words: [UInt32] = []
      words.reserveCapacity(3 * entries.count)
      for entry in entries {
        guard Int(entry.type) < types.count else {
          throw .typeIDOutOfRange(typeID: id, target: entry.type, count: types.count)
        }
        words += [entry.type, entry.offset, entry.size]
      }
      types.patch(at: Int(id), from: 3, words)
      return
    }
    var type = try type(id: id)
    guard case .dataSection(let size, _) = type.body else {
      throw .wrongKind(typeID: id, expected: .dataSection, found: type.kind)
    }
    type.body = .dataSection(size: size, entries: entries)
    try replaceType(id: id, with: type)
  }

  /// Returns `type` with its names resolved, after checking that it can be stored as type `id`
  /// of a BTF with `typeCount` types.
  private func checked(
    _ type: BTFType, id: BTFTypeID, typeCount: Int
  ) throws(BTFError) -> BTFType {
    guard type.kind != .void else { throw .unknownKind(kind: 0, typeID: id) }
    for target in type.referencedTypeIDs where Int(target) >= typeCount {
      throw .typeIDOutOfRange(typeID: id, target: target, count: typeCount)
    }
    let vlen = type.vlen
    guard vlen <= 0xFFFF else {
      throw .valueTooLarge(typeID: id, value: UInt64(vlen), maximum: 0xFFFF)
    }
    var type = type
    type.name = try Self.name(in: strings, at: type.nameOffset)
    switch type.body {
    case .struct(let size, var members), .union(let size, var members):
      for i in members.indices {
        if type.kindFlag {
          guard members[i].bitOffset <= 0xFF_FFFF else {
            throw .valueTooLarge(
              typeID: id, value: UInt64(members[i].bitOffset), maximum: 0xFF_FFFF)
          }
        } else {
          guard members[i].bitfieldSize == 0 else {
            throw .valueTooLarge(typeID: id, value: UInt64(members[i].bitfieldSize), maximum: 0)
          }
        }
        members[i].name = try Self.name(in: strings, at: members[i].nameOffset)
      }
      type.body =
        type.kind == .struct
        ? .struct(size: size, members: members) : .union(size: size, members: members)
    case .enum(let size, var values):
      for i in values.indices {
        values[i].name = try Self.name(in: strings, at: values[i].nameOffset)
      }
      type.body = .enum(size: size, values: values)
    case .enum64(let size, var values):
      for i in values.indices {
        values[i].name = try Self.name(in: strings, at: values[i].nameOffset)
      }
      type.body = .enum64(size: size, values: values)
    case .functionPrototype(let returnType, var parameters):
      for i in parameters.indices {
        parameters[i].name = try Self.name(in: strings, at: parameters[i].nameOffset)
      }
      type.body = .functionPrototype(returnType: returnType, parameters: parameters)
    case .int(let info):
      guard info.encoding.rawValue <= 0x0F else {
        throw .reservedBitsSet(typeID: id, word: .intData, value: UInt32(info.encoding.rawValue))
      }
    default:
      break
    }
    return type
  }
}

extension BTFType {
  /// Number of bytes of the encoded record: 12 for `struct btf_type` plus the trailing data.
  var encodedLength: Int {
    switch body {
    case .void: 0
    case .int, .variable, .declarationTag: 16
    case .array: 24
    case .struct(_, let members), .union(_, let members): 12 + 12 * members.count
    case .enum(_, let values): 12 + 8 * values.count
    case .enum64(_, let values): 12 + 12 * values.count
    case .functionPrototype(_, let parameters): 12 + 8 * parameters.count
    case .dataSection(_, let entries): 12 + 12 * entries.count
    case .pointer, .forward, .typedef, .volatile, .const, .restrict, .function, .float, .typeTag:
      12
    }
  }
}

/// Appends little-endian words to a byte array.
struct BTFByteWriter {
  var bytes: [UInt8] = []

  mutating func u16(_ value: UInt16) {
    bytes.append(UInt8(truncatingIfNeeded: value))
    bytes.append(UInt8(truncatingIfNeeded: value >> 8))
  }

  mutating func u32(_ value: UInt32) {
    for shift in stride(from: 0, to: 32, by: 8) {
      bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
    }
  }

  /// Appends the record of `type` (nothing for void).
  mutating func append(_ type: BTFType) {
    if case .void = type.body { return }
    u32(type.nameOffset)
    u32(type.info)
    u32(type.sizeOrType)
    switch type.body {
    case .void, .pointer, .forward, .typedef, .volatile, .const, .restrict, .function, .float,
      .typeTag:
      break
    case .int(let info): u32(info.dataWord)
    case .array(let info):
      u32(info.elementType)
      u32(info.indexType)
      u32(info.count)
    case .struct(_, let members), .union(_, let members):
      for member in members {
        u32(member.nameOffset)
        u32(member.type)
        u32(
          type.kindFlag
            ? UInt32(member.bitfieldSize) << 24 | (member.bitOffset & 0xFF_FFFF)
            : member.bitOffset)
      }
    case .enum(_, let values):
      for value in values {
        u32(value.nameOffset)
        u32(UInt32(bitPattern: value.value))
      }
    case .enum64(_, let values):
      for value in values {
        u32(value.nameOffset)
        u32(value.low)
        u32(value.high)
      }
    case .functionPrototype(_, let parameters):
      for parameter in parameters {
        u32(parameter.nameOffset)
        u32(parameter.type)
      }
    case .variable(_, let linkage): u32(linkage.rawValue)
    case .dataSection(_, let entries):
      for entry in entries {
        u32(entry.type)
        u32(entry.offset)
        u32(entry.size)
      }
    case .declarationTag(_, let componentIndex): u32(UInt32(bitPattern: componentIndex))
    }
  }
}
