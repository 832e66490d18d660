extension BPFObject {
  /// Whether a section with this name holds global data the loader turns into an array map.
  static func dataSectionKind(_ section: ELFSection) -> DataSectionKind? {
    guard section.type == ELFConstants.shtProgBits || section.type == ELFConstants.shtNoBits,
          section.flags & ELFConstants.shfAlloc != 0, !section.isExecutable else { return nil }
    let dot = UInt8(ascii: ".")
    if section.nameIs(".data", orPrefixedBy: dot) { return .data }
    if section.nameIs(".rodata", orPrefixedBy: dot) { return .rodata }
    if section.nameIs(".bss", orPrefixedBy: dot) { return .bss }
    return nil
  }

  static func findDataSections(_ elf: ELFFile, btf: BTF?,
                               names: inout SymbolNames) throws(ObjectError) -> [DataSection] {
    var result: [DataSection] = []
    for section in elf.sections {
      guard let kind = dataSectionKind(section) else { continue }
      var datasecID: UInt32? = nil
      var variableIDs: [Int] = []
      if let btf, let id = section.withNameBytes({ btf.firstDataSectionID(named: $0) }) {
        datasecID = UInt32(id)
        Self.appendNamedVariables(of: id, fields: btf.types, to: &variableIDs)
      }
      let order = elf.symbolIndices {
        Int($0.sectionIndex) == section.index && $0.type == ELFConstants.sttObject
      }
      var variables: [DataVariable] = []
      variables.reserveCapacity(order.count)
      for (position, index) in order.enumerated() {
        let symbol = elf.symbols[index]
        var typeID: UInt32? = nil
        if let btf, let variable = symbol.withNameBytes({
          Self.variable(named: $0, among: variableIDs, expectedAt: position, btf: btf, fields: btf.types)
        }) {
          typeID = btf.types.sizeOrType(at: variable)
        }
        variables.append(DataVariable(name: names.symbol(index, in: elf), offset: symbol.value,
                                      size: symbol.size,
                                      isGlobal: symbol.isGlobal, typeID: typeID))
      }
      // .bss has no file bytes: its contents stay empty here (a file cannot make the reader
      // allocate its claimed size). The loader leaves the kernel's all-zero map value as it is,
      // or zero-fills its own copy to `size` when the load options set a global in it.
      let bytes = section.isNoBits ? [] : Array(elf.contents(of: section))
      result.append(DataSection(sectionIndex: section.index, name: names.section(section.index, in: elf),
                                kind: kind,
                                size: section.size, initialBytes: bytes, variables: variables,
                                btfTypeID: datasecID))
    }
    return result
  }

  /// Reads the legacy `maps` section: one fixed-size record per symbol, its size judged from the
  /// symbol table (`struct bpf_map_def` is 20 bytes; iproute2/aya forms add id, pinning,
  /// inner_id and inner_idx).
  static func findLegacyMaps(_ elf: ELFFile, names: inout SymbolNames) throws(ObjectError) -> [BPFMapDefinition] {
    // `maps` or `maps/…`.
    guard let section = elf.firstSection(where: { $0.nameIs("maps", orPrefixedBy: UInt8(ascii: "/")) }) else {
      return []
    }
    guard section.type == ELFConstants.shtProgBits else {
      throw .mapSectionWithoutContents(section: section.index, type: section.type)
    }
    let symbols = elf.symbols
      .filter { Int($0.sectionIndex) == section.index && $0.type != ELFConstants.sttSection
        && $0.type != ELFConstants.sttFile && $0.hasName }
      .sorted { ($0.value, $0.index) < ($1.value, $1.index) }
    guard !symbols.isEmpty else { return [] }
    let bytes = elf.contents(of: section)
    var result: [BPFMapDefinition] = []
    for symbol in symbols {
      let recordSize = symbol.size != 0 ? symbol.size : section.size / UInt64(symbols.count)
      guard recordSize >= 16, case (let end, false) = symbol.value.addingReportingOverflow(recordSize),
            end <= UInt64(bytes.count) else {
        throw .invalidLegacyMapDefinition(map: symbol.name, offset: symbol.value, size: recordSize,
                                          sectionSize: section.size)
      }
      let base = Int(symbol.value)
      func field(_ i: Int) -> UInt32 {
        guard UInt64(i * 4 + 4) <= recordSize else { return 0 }
        return bytes.readLE(UInt32.self, at: base + i * 4) ?? 0
      }
      let knownFields = min(Int(recordSize / 4), 9)
      // Bytes past the last whole known field (a record of 22 or 44 bytes) must be zero.
      let knownEnd = knownFields * 4
      if UInt64(knownEnd) < recordSize {
        let extra = bytes[(bytes.startIndex + base + knownEnd)..<(bytes.startIndex + base + Int(recordSize))]
        if let first = extra.firstIndex(where: { $0 != 0 }) {
          throw .legacyMapDefinitionHasUnknownFields(
            map: symbol.name, size: recordSize, offset: UInt64(first - (bytes.startIndex + base)))
        }
      }
      if knownFields > 7, field(7) != 0 || (knownFields > 8 && field(8) != 0) {
        throw .legacyMapInMapNotSupported(map: symbol.name, innerID: field(7), innerIndex: field(8))
      }
      let type = BPFMapType(rawValue: field(0))
      guard type.isKnown, type != .unspecified else { throw .unknownMapType(map: symbol.name, type: field(0)) }
      let pinning: MapPinning
      switch knownFields >= 7 ? field(6) : 0 {
      case 0: pinning = .none
      case 1, 2: pinning = .byName
      case let v: throw .unknownPinning(map: symbol.name, value: v)
      }
      result.append(BPFMapDefinition(
        name: names.symbol(symbol.index, in: elf), style: .legacy, type: type, keySize: field(1), valueSize: field(2),
        maxEntries: field(3), flags: field(4), numaNode: 0, pinning: pinning, mapExtra: 0,
        keyTypeID: nil, valueTypeID: nil, innerMap: nil, initialValues: [:],
        sectionIndex: section.index, offset: symbol.value, symbolIndex: symbol.index,
        legacyExtra: knownFields > 5 ? (5..<knownFields).map { field($0) } : []))
    }
    return result
  }
}
