extension BPFObject {
  /// Reads the BTF-defined maps of the `.maps` section.
  ///
  /// Each map is a variable whose struct type encodes the attributes the way the libbpf macros
  /// do: `__uint(name, n)` is a member `int (*name)[n]` (the number is the array length),
  /// `__type(name, T)` a member `T *name`, and `__array(values, T)` a member `T *values[]`.
  static func findBTFMaps(_ elf: ELFFile, btf: BTF?) throws(ObjectError) -> [BPFMapDefinition] {
    guard let section = elf.section(named: ".maps") else { return [] }
    guard section.type == ELFConstants.shtProgBits else {
      throw .mapSectionWithoutContents(section: section.index, type: section.type)
    }
    let symbols = elf.symbols
      .filter { Int($0.sectionIndex) == section.index && $0.type != ELFConstants.sttSection
        && $0.type != ELFConstants.sttFile && $0.hasName }
      .sorted { ($0.value, $0.index) < ($1.value, $1.index) }
    if symbols.isEmpty { return [] }
    guard let btf else { throw .btfMapsWithoutBTF }
    // The DATASEC `.maps` lists one VAR per map.
    var varTypes: [String: BTFTypeID] = [:]
    var id = 0
    while let found = btf.types.firstID(named: Self.mapsName, kind: .dataSection, from: id) {
      id = found + 1
      guard case .dataSection(_, let entries) = btf.types[found].body else { continue }
      for entry in entries {
        guard Int(entry.type) < btf.types.count else { continue }
        let v = btf.types[Int(entry.type)]
        if case .variable(let t, _) = v.body, let name = v.name { varTypes[name] = t }
      }
    }
    var result: [BPFMapDefinition] = []
    for symbol in symbols {
      guard let typeID = varTypes[symbol.name] else {
        throw .invalidBTFMapDefinition(map: symbol.name, reason: "no VAR for it in the .maps DATASEC")
      }
      let parsed = try parseMapStruct(btf: btf, map: symbol.name, typeID: typeID, isInner: false)
      result.append(BPFMapDefinition(
        name: symbol.name, style: .btf, type: parsed.type, keySize: parsed.keySize,
        valueSize: parsed.valueSize, maxEntries: parsed.maxEntries, flags: parsed.flags,
        numaNode: parsed.numaNode, pinning: parsed.pinning, mapExtra: parsed.mapExtra,
        keyTypeID: parsed.keyTypeID, valueTypeID: parsed.valueTypeID, innerMap: parsed.inner,
        initialValues: [:], sectionIndex: section.index, offset: symbol.value,
        symbolIndex: symbol.index, legacyExtra: []))
    }
    return result
  }

  /// `.maps`, the name of the section and of its DATASEC.
  static let mapsName = Array(".maps".utf8)

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

  static func parseMapStruct(btf: BTF, map: String, typeID: BTFTypeID,
                             isInner: Bool) throws(ObjectError) -> ParsedBTFMap {
    func fail(_ reason: String) -> ObjectError { .invalidBTFMapDefinition(map: map, reason: reason) }
    func resolve(_ id: BTFTypeID) throws(ObjectError) -> BTFType {
      do { return try btf.type(id: btf.skippingModifiers(id)) } catch { throw .btf(error) }
    }
    let definition = try resolve(typeID)
    guard case .struct(_, let members) = definition.body else {
      throw fail("definition is a \(definition.kind), not a struct")
    }
    var out = ParsedBTFMap()
    var keySizeFromType: UInt32? = nil
    var valueSizeFromType: UInt32? = nil
    for member in members {
      guard let name = member.name, !name.isEmpty else { throw fail("unnamed member") }
      let memberType = try resolve(member.type)
      /// `__uint(name, n)`: pointer to an array of n elements.
      func number() throws(ObjectError) -> UInt32 {
        guard case .pointer(let to) = memberType.body, case .array(let info) = try resolve(to).body else {
          throw fail("attribute '\(name)' is not declared with __uint")
        }
        return info.count
      }
      /// `__type(name, T)`: pointer to T.
      func pointee() throws(ObjectError) -> BTFTypeID {
        guard case .pointer(let to) = memberType.body else {
          throw fail("attribute '\(name)' is not declared with __type")
        }
        return to
      }
      func size(of id: BTFTypeID) throws(ObjectError) -> UInt32 {
        let s = try typeSize(btf, id)
        guard let v = UInt32(exactly: s) else { throw fail("'\(name)' type is too large") }
        return v
      }
      switch name {
      case "type":
        let raw = try number()
        let t = BPFMapType(rawValue: raw)
        guard t.isKnown, t != .unspecified else { throw .unknownMapType(map: map, type: raw) }
        out.type = t
      case "max_entries": out.maxEntries = try number()
      case "map_flags": out.flags = try number()
      case "numa_node": out.numaNode = try number()
      case "key_size": out.keySize = try number()
      case "value_size": out.valueSize = try number()
      case "map_extra": out.mapExtra = UInt64(try number())
      case "pinning":
        switch try number() {
        case 0: out.pinning = .none
        case 1: out.pinning = .byName
        case let v: throw .unknownPinning(map: map, value: v)
        }
      case "key":
        let t = try pointee()
        out.keyTypeID = t
        keySizeFromType = try size(of: t)
      case "value":
        let t = try pointee()
        out.valueTypeID = t
        valueSizeFromType = try size(of: t)
      case "values":
        guard !isInner else { throw fail("an inner map cannot have 'values'") }
        // `T *values[]`: a zero-length array of pointers to the inner definition (map-in-map)
        // or to a function prototype (program array).
        guard case .array(let info) = memberType.body else { throw fail("'values' is not an array") }
        guard case .pointer(let to) = try resolve(info.elementType).body else {
          throw fail("'values' elements are not pointers")
        }
        let target = try resolve(to)
        if case .struct = target.body {
          let inner = try parseMapStruct(btf: btf, map: map + ".inner", typeID: to, isInner: true)
          out.inner = InnerMapDefinition(type: inner.type, keySize: inner.keySize,
                                         valueSize: inner.valueSize, maxEntries: inner.maxEntries,
                                         flags: inner.flags, keyTypeID: inner.keyTypeID,
                                         valueTypeID: inner.valueTypeID)
          // The outer map holds map ids: 4-byte values.
          valueSizeFromType = 4
        } else if case .functionPrototype = target.body {
          valueSizeFromType = 4
        } else {
          throw fail("'values' points at a \(target.kind), expected a map definition or a function")
        }
        guard member.bitOffset % 8 == 0 else { throw fail("'values' is not byte-aligned") }
        out.valuesOffset = member.bitOffset / 8
      default:
        throw .unknownBTFMapAttribute(map: map, attribute: name)
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

  static func typeSize(_ btf: BTF, _ id: BTFTypeID) throws(ObjectError) -> Int {
    do { return try btf.resolvedSize(of: id) } catch { throw .btf(error) }
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
      var varType: BTFTypeID? = nil
      for type in btf.types where type.name == map.name {
        if case .variable(let t, _) = type.body { varType = t; break }
      }
      guard let varType else { continue }
      let parsed = try parseMapStruct(btf: btf, map: map.name, typeID: varType, isInner: false)
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
