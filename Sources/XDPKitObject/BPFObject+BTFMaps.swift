extension BPFObject {
  /// Reads the BTF-defined maps of the `.maps` section.
  ///
  /// Each map is a variable whose struct type encodes the attributes the way the libbpf macros
  /// do: `__uint(name, n)` is a member `int (*name)[n]` (the number is the array length),
  /// `__type(name, T)` a member `T *name`, and `__array(values, T)` a member `T *values[]`.
  static func findBTFMaps(_ elf: ELFFile, btf: BTF?,
                          names: inout SymbolNames) throws(ObjectError) -> [BPFMapDefinition] {
    guard let section = elf.section(named: ".maps") else { return [] }
    guard section.type == ELFConstants.shtProgBits else {
      throw .mapSectionWithoutContents(section: section.index, type: section.type)
    }
    let order = elf.symbolIndices {
      Int($0.sectionIndex) == section.index && $0.type != ELFConstants.sttSection
        && $0.type != ELFConstants.sttFile && $0.hasName
    }
    if order.isEmpty { return [] }
    guard let btf else { throw .btfMapsWithoutBTF }
    // An object's BTF is one parsed section: its records are read in place.
    if let records = btf.types.records, let maps = try records.withView({ (view) throws(ObjectError) in
      try readBTFMaps(elf, section: section.index, symbols: order, btf: btf, fields: view, names: &names)
    }) {
      return maps
    }
    return try readBTFMaps(elf, section: section.index, symbols: order, btf: btf, fields: btf.types,
                           names: &names)
  }

  /// The maps of `.maps` (section `section`), one per symbol of `symbols`, with their types
  /// read through `fields`.
  private static func readBTFMaps(
    _ elf: ELFFile, section: Int, symbols order: [Int], btf: BTF, fields: some BTFFieldReader,
    names: inout SymbolNames
  ) throws(ObjectError) -> [BPFMapDefinition] {
    // The DATASEC `.maps` lists one VAR per map.
    var variables: [Int] = []
    btf.forEachDataSectionID(named: NameBytes.of(".maps")) { id in
      Self.appendNamedVariables(of: id, fields: fields, to: &variables)
      return true
    }
    var result: [BPFMapDefinition] = []
    result.reserveCapacity(order.count)
    for (position, index) in order.enumerated() {
      let symbol = elf.symbols[index]
      let variable = symbol.withNameBytes { name in
        Self.variable(named: name, among: variables, expectedAt: position, btf: btf, fields: fields)
      }
      guard let variable else {
        throw .invalidBTFMapDefinition(map: symbol.name, reason: "no VAR for it in the .maps DATASEC")
      }
      let name = names.symbol(index, in: elf)
      let parsed = try parseMapStruct(
        btf: btf, fields: fields, map: name, typeID: fields.sizeOrType(at: variable), isInner: false)
      result.append(BPFMapDefinition(
        name: name, style: .btf, type: parsed.type, keySize: parsed.keySize,
        valueSize: parsed.valueSize, maxEntries: parsed.maxEntries, flags: parsed.flags,
        numaNode: parsed.numaNode, pinning: parsed.pinning, mapExtra: parsed.mapExtra,
        keyTypeID: parsed.keyTypeID, valueTypeID: parsed.valueTypeID, innerMap: parsed.inner,
        initialValues: [:], sectionIndex: section, offset: symbol.value,
        symbolIndex: symbol.index, legacyExtra: []))
    }
    return result
  }

  /// Appends the ids of the named VARs that DATASEC `id` lists to `variables`, in entry order.
  static func appendNamedVariables(of id: Int, fields: some BTFFieldReader, to variables: inout [Int]) {
    let count = fields.vlen(at: id)
    variables.reserveCapacity(variables.count + count)
    for index in 0..<count {
      let entry = Int(fields.dataSectionEntry(at: id, index).type)
      guard entry < fields.typeCount, fields.kind(at: entry) == .variable, fields.nameOffset(at: entry) != 0
      else { continue }
      variables.append(entry)
    }
  }

  /// The VAR among `variables` (type ids) named `name`: the one at `position` when its name
  /// matches (clang lists a section's variables in the order of their offsets, which is the
  /// order of their symbols), otherwise the last one with that name.
  static func variable(
    named name: UnsafeBufferPointer<UInt8>, among variables: [Int], expectedAt position: Int, btf: BTF,
    fields: some BTFFieldReader
  ) -> Int? {
    if position < variables.count, btf.nameEquals(fields.nameOffset(at: variables[position]), name) {
      return variables[position]
    }
    return variables.last { btf.nameEquals(fields.nameOffset(at: $0), name) }
  }

  struct ParsedBTFMap {
    var type = BPFMapType.unspecified
    var keySize: UInt32 = 0
    var valueSize: UInt32 = 0
    var maxEntries: UInt32 = 0
    var flags: UInt32 = 0
    var numaNode: UInt32 = 0
    var pinning = MapPinning.none
    var mapExtra: UInt64 = 0
    var keyTypeID: UInt32? = nil
    var valueTypeID: UInt32? = nil
    var inner: InnerMapDefinition? = nil
    /// Byte offset of the `values` member inside the definition, when present.
    var valuesOffset: UInt32? = nil
  }

  /// The members a BTF map definition may have, named as in the libbpf macros.
  enum MapAttribute: String {
    case type, maxEntries = "max_entries", mapFlags = "map_flags", numaNode = "numa_node"
    case keySize = "key_size", valueSize = "value_size", mapExtra = "map_extra", pinning
    case key, value, values

    /// The name, as static bytes.
    var utf8: StaticString {
      switch self {
      case .type: "type"
      case .maxEntries: "max_entries"
      case .mapFlags: "map_flags"
      case .numaNode: "numa_node"
      case .keySize: "key_size"
      case .valueSize: "value_size"
      case .mapExtra: "map_extra"
      case .pinning: "pinning"
      case .key: "key"
      case .value: "value"
      case .values: "values"
      }
    }

    /// The attribute whose name is `utf8`, if any. Length, first and last byte tell the names
    /// apart; the candidate they pick is then compared whole.
    init?(utf8: UnsafeBufferPointer<UInt8>) {
      guard let first = utf8.first, let last = utf8.last else { return nil }
      let candidate: MapAttribute
      switch (utf8.count, first, last) {
      case (4, UInt8(ascii: "t"), _): candidate = .type
      case (11, _, _): candidate = .maxEntries
      case (9, UInt8(ascii: "m"), UInt8(ascii: "s")): candidate = .mapFlags
      case (9, UInt8(ascii: "m"), _): candidate = .mapExtra
      case (9, _, _): candidate = .numaNode
      case (8, _, _): candidate = .keySize
      case (10, _, _): candidate = .valueSize
      case (7, _, _): candidate = .pinning
      case (3, _, _): candidate = .key
      case (5, _, _): candidate = .value
      case (6, _, _): candidate = .values
      default: return nil
      }
      let name = candidate.utf8
      guard name.utf8CodeUnitCount == utf8.count else { return nil }
      for i in 0..<utf8.count where name.utf8Start[i] != utf8[i] { return nil }
      self = candidate
    }
  }

  /// Reads the map definition struct `typeID` (or what it names through typedefs and
  /// qualifiers) of `map`, straight from the BTF records: member names are compared as bytes
  /// and no type is decoded.
  static func parseMapStruct(btf: BTF, fields types: some BTFFieldReader, map: String,
                             typeID: BTFTypeID, isInner: Bool) throws(ObjectError) -> ParsedBTFMap {
    func fail(_ reason: String) -> ObjectError { .invalidBTFMapDefinition(map: map, reason: reason) }
    /// The id and kind under typedefs and qualifiers.
    func resolve(_ id: BTFTypeID) throws(ObjectError) -> (id: Int, kind: BTFKind) {
      do {
        let resolved = Int(try types.skip(from: id, typedefs: true))
        return (resolved, types.kind(at: resolved))
      } catch { throw .btf(error) }
    }
    let definition = try resolve(typeID)
    guard definition.kind == .struct else {
      throw fail("definition is a \(definition.kind), not a struct")
    }
    var out = ParsedBTFMap()
    var keySizeFromType: UInt32? = nil
    var valueSizeFromType: UInt32? = nil
    for index in 0..<types.vlen(at: definition.id) {
      let member = types.member(at: definition.id, index)
      let attribute = btf.withName(at: member.nameOffset) { MapAttribute(utf8: $0) }
      if attribute == nil, btf.withName(at: member.nameOffset, \.isEmpty) { throw fail("unnamed member") }
      let memberType = try resolve(member.type)
      guard let attribute else {
        throw .unknownBTFMapAttribute(map: map, attribute: (try? btf.string(at: member.nameOffset)) ?? "")
      }
      let name = attribute.rawValue
      /// `__uint(name, n)`: pointer to an array of n elements.
      func number() throws(ObjectError) -> UInt32 {
        guard memberType.kind == .pointer else { throw fail("attribute '\(name)' is not declared with __uint") }
        let array = try resolve(types.sizeOrType(at: memberType.id))
        guard array.kind == .array else { throw fail("attribute '\(name)' is not declared with __uint") }
        return types.array(at: array.id).count
      }
      /// `__type(name, T)`: pointer to T.
      func pointee() throws(ObjectError) -> BTFTypeID {
        guard memberType.kind == .pointer else {
          throw fail("attribute '\(name)' is not declared with __type")
        }
        return types.sizeOrType(at: memberType.id)
      }
      func size(of id: BTFTypeID) throws(ObjectError) -> UInt32 {
        let s = try typeSize(types, id)
        guard let v = UInt32(exactly: s) else { throw fail("'\(name)' type is too large") }
        return v
      }
      switch attribute {
      case .type:
        let raw = try number()
        let t = BPFMapType(rawValue: raw)
        guard t.isKnown, t != .unspecified else { throw .unknownMapType(map: map, type: raw) }
        out.type = t
      case .maxEntries: out.maxEntries = try number()
      case .mapFlags: out.flags = try number()
      case .numaNode: out.numaNode = try number()
      case .keySize: out.keySize = try number()
      case .valueSize: out.valueSize = try number()
      case .mapExtra: out.mapExtra = UInt64(try number())
      case .pinning:
        switch try number() {
        case 0: out.pinning = .none
        case 1: out.pinning = .byName
        case let v: throw .unknownPinning(map: map, value: v)
        }
      case .key:
        let t = try pointee()
        out.keyTypeID = t
        keySizeFromType = try size(of: t)
      case .value:
        let t = try pointee()
        out.valueTypeID = t
        valueSizeFromType = try size(of: t)
      case .values:
        guard !isInner else { throw fail("an inner map cannot have 'values'") }
        // `T *values[]`: a zero-length array of pointers to the inner definition (map-in-map)
        // or to a function prototype (program array).
        guard memberType.kind == .array else { throw fail("'values' is not an array") }
        let element = try resolve(types.array(at: memberType.id).elementType)
        guard element.kind == .pointer else { throw fail("'values' elements are not pointers") }
        let to = types.sizeOrType(at: element.id)
        let target = try resolve(to)
        if target.kind == .struct {
          let inner = try parseMapStruct(btf: btf, fields: types, map: map + ".inner", typeID: to,
                                         isInner: true)
          out.inner = InnerMapDefinition(type: inner.type, keySize: inner.keySize,
                                         valueSize: inner.valueSize, maxEntries: inner.maxEntries,
                                         flags: inner.flags, keyTypeID: inner.keyTypeID,
                                         valueTypeID: inner.valueTypeID)
          // The outer map holds map ids: 4-byte values.
          valueSizeFromType = 4
        } else if target.kind == .functionPrototype {
          valueSizeFromType = 4
        } else {
          throw fail("'values' points at a \(target.kind), expected a map definition or a function")
        }
        guard member.bitOffset % 8 == 0 else { throw fail("'values' is not byte-aligned") }
        out.valuesOffset = member.bitOffset / 8
      }
    }
    if let k = keySizeFromType {
      if out.keySize != 0 && out.keySize != k {
        throw fail("key_size \(out.keySize) disagrees with the key type's size \(k)")
      }
      out.keySize = k
    }
    if let v = valueSizeFromType {
      if out.valueSize != 0 && out.valueSize != v {
        throw fail("value_size \(out.valueSize) disagrees with the value type's size \(v)")
      }
      out.valueSize = v
    }
    guard out.type != .unspecified else { throw fail("no 'type' attribute") }
    return out
  }

  static func typeSize(_ fields: some BTFFieldReader, _ id: BTFTypeID) throws(ObjectError) -> Int {
    do { return try fields.resolvedSize(of: id) } catch { throw .btf(error) }
  }

  /// Applies `.rel.maps` entries: each relocation at `map offset + values offset + 8 * slot`
  /// names the map or program stored in that slot.
  static func applyInitialValues(maps: [BPFMapDefinition], relocations: [BPFRelocation],
                                 elf: ELFFile, functions: [BPFFunction],
                                 btf: BTF?) throws(ObjectError) -> [BPFMapDefinition] {
    guard let btf else { return maps }
    var maps = maps
    for rel in relocations {
      // Find the map whose definition covers this offset.
      guard let i = maps.lastIndex(where: { $0.style == .btf && $0.offset <= rel.offset }) else { continue }
      let map = maps[i]
      guard let variable = btf.types.firstID(named: Array(map.name.utf8), kind: .variable) else { continue }
      let varType = btf.types.sizeOrType(at: variable)
      let parsed = try parseMapStruct(btf: btf, fields: btf.types, map: map.name, typeID: varType,
                                      isInner: false)
      guard let valuesOffset = parsed.valuesOffset else {
        throw .invalidMapInitialValue(map: map.name, slot: -1, symbol: rel.symbolName)
      }
      // PROGBITS contents lie inside the file, so offsets inside them cannot overflow.
      let start = map.offset + UInt64(valuesOffset)
      guard rel.offset >= start, (rel.offset - start) % 8 == 0 else {
        throw .invalidMapInitialValue(map: map.name, slot: -1, symbol: rel.symbolName)
      }
      let slot = Int((rel.offset - start) / 8)
      let symbol = elf.symbols[rel.symbolIndex]
      if map.type == .programArray {
        guard functions.contains(where: { $0.symbolIndex == symbol.index }) else {
          throw .invalidMapInitialValue(map: map.name, slot: slot, symbol: rel.symbolName)
        }
        maps[i].initialValues[slot] = .program(rel.symbolName)
      } else {
        guard maps.contains(where: { $0.symbolIndex == symbol.index }) else {
          throw .invalidMapInitialValue(map: map.name, slot: slot, symbol: rel.symbolName)
        }
        maps[i].initialValues[slot] = .map(rel.symbolName)
      }
    }
    return maps
  }
}
