extension BTF {
  /// Fills in what clang leaves to the loader in each DATASEC: clang writes a DATASEC's size
  /// as 0 and, for global variables, each entry's offset as 0.
  ///
  /// For every DATASEC named like a section of `elf` (the first of that name), the size
  /// becomes the section's size, and each entry's offset becomes the value of the last named
  /// symbol of that section with the entry's VAR's name (its size too, when the symbol has
  /// one). The entries are then sorted by offset, which the kernel requires. DATASECs that no
  /// section backs (`.kconfig`, `.ksyms`) are left as they are.
  ///
  /// Names are compared as bytes, in place: no type is decoded and no name becomes a
  /// `String`. All DATASECs change in one edit (``setDataSections(_:)``).
  ///
  /// - Throws: what ``setDataSections(_:)`` throws.
  package mutating func layOutDataSections(from elf: ELFFile) throws(BTFError) {
    var updates: [(id: BTFTypeID, size: UInt32, entries: [BTFType.DataSectionEntry])] = []
    for id in dataSectionIDs {
      let nameOffset = types.nameOffset(at: Int(id))
      guard nameOffset != 0, let section = firstSection(of: elf, named: nameOffset) else { continue }
      let count = types.vlen(at: Int(id))
      var entries: [BTFType.DataSectionEntry] = []
      entries.reserveCapacity(count)
      elf.symbols.withUnsafeBufferPointer { symbols in
        strings.withUnsafeBufferPointer { table in
          // The section's named symbols, as indices in table order.
          var candidates: [Int] = []
          candidates.reserveCapacity(symbols.count)  // one allocation, not one per doubling
          for i in symbols.indices where Int(symbols[i].sectionIndex) == section.index && symbols[i].hasName {
            candidates.append(i)
          }
          for k in 0..<count {
            var entry = types.dataSectionEntry(at: Int(id), k)
            let variable = Int(entry.type)
            if variable < types.count, case let variableName = types.nameOffset(at: variable), variableName != 0,
               // Of several symbols with the name, the last in the symbol table.
               let index = candidates.last(where: { symbols[$0].nameEquals(table, at: Int(variableName)) }) {
              entry.offset = UInt32(truncatingIfNeeded: symbols[index].value)
              if symbols[index].size != 0 { entry.size = UInt32(truncatingIfNeeded: symbols[index].size) }
            }
            entries.append(entry)
          }
        }
      }
      entries.sort { $0.offset < $1.offset }
      updates.append((id, UInt32(truncatingIfNeeded: section.size), entries))
    }
    // Parsed records are patched in place, one copy of their bytes for all DATASECs.
    try setDataSections(updates)
  }

  /// The first section of `elf` whose name is the string at `nameOffset` (not 0) of this
  /// BTF's string table: the index and size of that section.
  private func firstSection(of elf: ELFFile, named nameOffset: UInt32) -> (index: Int, size: UInt64)? {
    withName(at: nameOffset) { wanted in
      elf.sections.withUnsafeBufferPointer { sections -> (index: Int, size: UInt64)? in
        for section in sections.indices where sections[section].withNameBytes({ NameBytes.equal($0, wanted) }) {
          return (sections[section].index, sections[section].size)
        }
        return nil
      }
    }
  }
}

extension ELFSymbol {
  /// Whether the symbol's name is the NUL-terminated string at `offset` of `table` (a BTF
  /// string table, whose strings parsing checked), compared byte by byte up to the first
  /// difference: neither name is measured first.
  fileprivate func nameEquals(_ table: UnsafeBufferPointer<UInt8>, at offset: Int) -> Bool {
    file.withUnsafeBufferPointer { bytes in
      var a = nameStart, b = offset
      // A NUL ends the symbol's name before nameLimit.
      while a < nameLimit && b < table.count {
        let byte = bytes[a]
        guard byte == table[b] else { return false }
        if byte == 0 { return true }
        a &+= 1
        b &+= 1
      }
      return false
    }
  }
}
