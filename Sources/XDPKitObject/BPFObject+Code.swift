extension BPFObject {
  /// Finds every function symbol in every executable section and slices its instructions.
  /// A `name.cold` / `name.cold.N` symbol next to a `name` in the same section is marked as a
  /// fragment of `name` (jumps between the two need no relocation only within one section).
  static func findFunctions(_ elf: ELFFile, names: inout SymbolNames) throws(ObjectError) -> [BPFFunction] {
    var result: [BPFFunction] = []
    // SHT_NULL headers are inactive (their offset and size were never checked against the
    // file, and they have no contents), so like SHT_NOBITS they hold no code.
    for section in elf.sections
    where section.isExecutable && section.size > 0 && !section.isNoBits
      && section.type != ELFConstants.shtNull {
      guard section.size % 8 == 0 else {
        throw .instructionsNotMultipleOf8(section: section.index, name: section.name, offset: 0,
                                          size: section.size)
      }
      let bytes = elf.contents(of: section)
      let sectionName = names.section(section.index, in: elf)
      // By value, then index; indices only, the symbols are read in place.
      let order = elf.symbolIndices {
        $0.type == ELFConstants.sttFunc && Int($0.sectionIndex) == section.index
      }
      if order.isEmpty {
        // No function symbols (hand-written assembly, stripped objects): the whole section is
        // one function named after the section.
        result.append(BPFFunction(name: sectionName, symbolIndex: 0, sectionIndex: section.index,
                                  sectionName: sectionName, offset: 0, size: section.size,
                                  isGlobal: false, bytes: Array(bytes)))
        continue
      }
      var previous: ELFSymbol? = nil
      let symbolNames = order.map { names.symbol($0, in: elf) }
      // Only a `.cold` name can be a fragment: look for parents only then.
      let parents = symbolNames.contains(where: BPFFunction.mentionsCold) ? Set(symbolNames) : []
      for (index, name) in zip(order, symbolNames) {
        let symbol = elf.symbols[index]
        guard symbol.value % 8 == 0, symbol.size % 8 == 0, symbol.size > 0 else {
          throw .instructionsNotMultipleOf8(section: section.index, name: name,
                                            offset: symbol.value, size: symbol.size)
        }
        if let p = previous, p.value + p.size > symbol.value {
          throw .overlappingFunctions(section: section.index, first: p.name, second: name)
        }
        previous = symbol
        // ELFFile checked value + size against the section size.
        let start = bytes.startIndex + Int(symbol.value)
        result.append(BPFFunction(
          name: name, symbolIndex: symbol.index, sectionIndex: section.index,
          sectionName: sectionName, offset: symbol.value, size: symbol.size,
          isGlobal: symbol.isGlobal, bytes: Array(bytes[start..<(start + Int(symbol.size))]),
          fragmentOf: parents.isEmpty
            ? nil : BPFFunction.fragmentParentName(name).flatMap { parents.contains($0) ? $0 : nil }))
      }
    }
    return result
  }

  /// Reads the `.rel…` sections the loader applies — those of executable sections and of
  /// `.maps` — and classifies each entry's target. The relocations of other sections (DWARF's
  /// `.rel.debug_*`, `.rel.BTF`, `.rel.BTF.ext`: most of an object compiled with `-g`) are
  /// neither read nor checked: nothing applies them.
  static func classifyRelocations(_ elf: ELFFile, maps: [BPFMapDefinition],
                                  dataSections: [DataSection],
                                  names: inout SymbolNames) throws(ObjectError) -> [SectionRelocations] {
    var result: [SectionRelocations] = []
    for relSection in elf.sections where relSection.type == ELFConstants.shtRel {
      // An out-of-range target is reported by `relocations(in:)`; only a valid one can be skipped.
      if Int(relSection.info) < elf.sections.count, relSection.info != 0 {
        let target = elf.sections[Int(relSection.info)]
        guard target.isExecutable || target.nameIs(".maps") else { continue }
      }
      let raw = try elf.relocations(in: relSection)
      let target = elf.sections[Int(relSection.info)]
      let code = target.isExecutable ? elf.contents(of: target) : []
      var entries: [BPFRelocation] = []
      entries.reserveCapacity(raw.count)
      for (i, rel) in raw.enumerated() {
        guard let type = BPFRelocationType(rawValue: rel.type) else {
          throw .unknownRelocationType(relocationSection: relSection.index, entry: i, type: rel.type)
        }
        let symbol = elf.symbols[Int(rel.symbolIndex)]
        let classified: RelocationTarget
        if target.isExecutable {
          classified = try classifyCodeRelocation(
            elf: elf, section: target, code: code, offset: rel.offset, type: type, symbol: symbol,
            names: &names, maps: maps, dataSections: dataSections)
        } else {
          classified = .sectionData(section: Int(symbol.sectionIndex), offset: symbol.value)
        }
        entries.append(BPFRelocation(sectionIndex: target.index, offset: rel.offset, type: type,
                                     symbolIndex: Int(rel.symbolIndex),
                                     symbolName: names.relocationSymbol(symbol.index, in: elf),
                                     target: classified))
      }
      result.append(SectionRelocations(relocationSectionIndex: relSection.index,
                                       targetSectionIndex: target.index,
                                       targetSectionName: names.section(target.index, in: elf),
                                       entries: entries))
    }
    return result
  }

  /// The index of the first element of `array` that `include` accepts, passing the elements in
  /// place rather than copying each.
  private static func firstIndex<T>(in array: [T], where include: (T) -> Bool) -> Int? {
    array.withUnsafeBufferPointer { all in
      for i in all.indices where include(all[i]) { return i }
      return nil
    }
  }

  private static func classifyCodeRelocation(
    elf: ELFFile, section: ELFSection, code: ArraySlice<UInt8>, offset: UInt64,
    type: BPFRelocationType, symbol: ELFSymbol, names: inout SymbolNames,
    maps: [BPFMapDefinition], dataSections: [DataSection]
  ) throws(ObjectError) -> RelocationTarget {
    guard offset % 8 == 0, let at = Int(exactly: offset), let insn = BPFInstruction(code, at: at) else {
      throw .relocationOnWrongInstruction(section: section.index, offset: offset, opcode: 0,
                                          type: type.rawValue)
    }
    if symbol.index == 0 || symbol.type == ELFConstants.sttFile {
      throw .relocationAgainstUnusableSymbol(section: section.index, offset: offset,
                                             symbol: symbol.index, name: symbol.name)
    }
    // Calls and ld_imm64 are the only instructions relocations apply to in code.
    let isCall = insn.opcode == BPFInstruction.callOpcode
    let isLoad64 = insn.isLoadImmediate64 && at + 16 <= code.count
    guard isCall || isLoad64 else {
      throw .relocationOnWrongInstruction(section: section.index, offset: offset,
                                          opcode: insn.opcode, type: type.rawValue)
    }
    if symbol.isUndefined {
      return .external(name: names.relocationSymbol(symbol.index, in: elf))
    }
    guard symbol.sectionIndex < ELFConstants.shnLoReserve, Int(symbol.sectionIndex) < elf.sections.count else {
      throw .relocationAgainstUnusableSymbol(section: section.index, offset: offset,
                                             symbol: symbol.index,
                                             name: names.relocationSymbol(symbol.index, in: elf))
    }
    let symbolSection = elf.sections[Int(symbol.sectionIndex)]
    // Symbol value plus the instruction's displacement. Section symbols are not checked against
    // their section, so a crafted value may not fit a signed offset, or the sum may overflow.
    func resolved(displacement: Int64) throws(ObjectError) -> Int64 {
      guard let value = Int64(exactly: symbol.value),
            case (let sum, false) = value.addingReportingOverflow(displacement)
      else {
        throw .relocationTargetOutOfRange(section: section.index, offset: offset, symbol: symbol.index,
                                          value: symbol.value, displacement: displacement)
      }
      return sum
    }
    if isCall {
      // A call to a function of this object is a BPF-to-BPF call (src_reg BPF_PSEUDO_CALL);
      // a relocation on a helper call (src_reg 0) is malformed.
      guard insn.source == BPFInstruction.pseudoCall else {
        throw .relocationOnWrongInstruction(section: section.index, offset: offset,
                                            opcode: insn.opcode, type: type.rawValue)
      }
      // Target instruction index = symbol offset / 8 + imm + 1 (clang writes imm = -1 for
      // calls against a function symbol, and the in-section displacement for section symbols).
      let target = try resolved(displacement: (Int64(insn.immediate) + 1) * 8)
      return .call(section: symbolSection.index, offset: target)
    }
    if symbolSection.isExecutable {
      // ld_imm64 of a function address (BPF_PSEUDO_FUNC): imm holds a byte offset.
      return .functionAddress(section: symbolSection.index,
                              offset: try resolved(displacement: Int64(insn.immediate)))
    }
    // The definitions are searched in place: only the one found is read.
    if let map = firstIndex(in: maps, where: { $0.sectionIndex == symbolSection.index
        && ($0.symbolIndex == symbol.index || (symbol.type == ELFConstants.sttSection && UInt64(exactly: insn.immediate) == $0.offset)) }) {
      return .map(name: maps[map].name)
    }
    if let data = firstIndex(in: dataSections, where: { $0.sectionIndex == symbolSection.index }) {
      let at = try resolved(displacement: Int64(insn.immediate))
      let variable = firstIndex(in: dataSections[data].variables, where: { Int64(exactly: $0.offset) == at })
        .map { dataSections[data].variables[$0].name }
        ?? (symbol.type == ELFConstants.sttSection ? nil : names.relocationSymbol(symbol.index, in: elf))
      return .data(section: dataSections[data].name, offset: at, variable: variable)
    }
    throw .relocationAgainstUnusableSymbol(section: section.index, offset: offset,
                                           symbol: symbol.index,
                                           name: names.relocationSymbol(symbol.index, in: elf))
  }
}
