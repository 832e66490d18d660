extension BTF {
  /// Fills in what clang leaves to the loader in each DATASEC: clang writes a DATASEC's size
  /// as 0 and, for global variables, each entry's offset as 0.
  ///
  /// For every DATASEC named like a section of `elf` (the first of that name), the size
  /// becomes the section's size, and each entry's offset becomes the value of the last named
  /// symbol of that section with the entry's VAR's name (its size too, when the symbol has
  /// one). A DATASEC whose size is already set was laid out by a static linker (`bpftool gen
  /// object`): its offsets are kept, since two `static` variables of linked units may share a
  /// name, and a lookup by name would give both the same offset. The entries are then sorted
  /// by offset, which the kernel requires. DATASECs that no section backs (`.kconfig`,
  /// `.ksyms`) are left as they are.
  ///
  /// Names are compared as bytes, in place: no type is decoded and no name becomes a
  /// `String`. The symbol table is read once for all DATASECs, and all of them change in one
  /// edit (``setDataSections(_:)``).
  ///
  /// - Throws: what ``setDataSections(_:)`` throws.
  package mutating func layOutDataSections(from elf: ELFFile) throws(BTFError) {
    // The DATASECs a section backs, with that section's index and size.
    var backed: [(id: BTFTypeID, section: Int, size: UInt64)] = []
    var words = 0
    for id in dataSectionIDs {
      let nameOffset = types.nameOffset(at: Int(id))
      guard nameOffset != 0, let section = firstSection(of: elf, named: nameOffset) else { continue }
      if backed.isEmpty { backed.reserveCapacity(8) }
      backed.append((id, section.index, section.size))
      words += 1 + 3 * types.vlen(at: Int(id))
    }
    guard !backed.isEmpty else { return }
    var layout = DataSectionLayout()
    layout.reserveCapacity(words, dataSections: backed.count)
    elf.symbols.withUnsafeBufferPointer { symbols in
      // The named symbols of those sections, as indices in table order: one pass for all.
      var candidates: [Int] = []
      candidates.reserveCapacity(symbols.count)
      for i in symbols.indices where symbols[i].hasName {
        let section = Int(symbols[i].sectionIndex)
        if backed.contains(where: { $0.section == section }) { candidates.append(i) }
      }
      strings.withUnsafeBufferPointer { table in
        for (id, section, size) in backed {
          let laidOut = types.sizeOrType(at: Int(id)) != 0
          layout.begin(id, size: laidOut ? types.sizeOrType(at: Int(id)) : UInt32(truncatingIfNeeded: size))
          for k in 0..<types.vlen(at: Int(id)) {
            var entry = types.dataSectionEntry(at: Int(id), k)
            let variable = Int(entry.type)
            if !laidOut, variable < types.count, case let variableName = types.nameOffset(at: variable), variableName != 0,
               // Of several symbols with the name, the last in the symbol table.
               let index = candidates.last(where: {
                 Int(symbols[$0].sectionIndex) == section && symbols[$0].nameEquals(table, at: Int(variableName))
               }) {
              entry.offset = UInt32(truncatingIfNeeded: symbols[index].value)
              if symbols[index].size != 0 { entry.size = UInt32(truncatingIfNeeded: symbols[index].size) }
            }
            layout.append(entry)
          }
          layout.sortLastByOffset()
        }
      }
    }
    // Parsed records are patched in place, one copy of their type section for all DATASECs.
    try setDataSections(layout)
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

extension BTF {
  /// Sets the size and the entries of several DATASECs at once, as the loader does for every
  /// data section of an object: on parsed BTF, with the record layout kept, all of them are
  /// written over one copy of the type records. Nothing changes when any update throws.
  /// - Throws: as ``setDataSectionSize(id:size:)`` and ``setDataSectionEntries(id:entries:)``.
  public mutating func setDataSections(
    _ updates: [(id: BTFTypeID, size: UInt32, entries: [BTFType.DataSectionEntry])]
  ) throws(BTFError) {
    var layout = DataSectionLayout()
    for update in updates {
      layout.begin(update.id, size: update.size)
      for entry in update.entries { layout.append(entry) }
    }
    try setDataSections(layout)
  }

  /// Several DATASECs' new sizes and entries, one after another in one array of words: for
  /// each, the size and then (type, offset, size) per entry, as the record holds them.
  package struct DataSectionLayout {
    private(set) var words: [UInt32] = []
    /// Each DATASEC and where its words start; they end where the next one's start.
    private var starts: [(id: BTFTypeID, start: Int)] = []

    package init() {}

    /// Room for `words` words in all.
    package mutating func reserveCapacity(_ words: Int, dataSections: Int) {
      self.words.reserveCapacity(words)
      starts.reserveCapacity(dataSections)
    }

    /// Starts DATASEC `id`, of `size` bytes; its entries follow.
    package mutating func begin(_ id: BTFTypeID, size: UInt32) {
      starts.append((id, words.count))
      words.append(size)
    }

    /// Appends an entry to the DATASEC begun last.
    package mutating func append(_ entry: BTFType.DataSectionEntry) {
      words.append(entry.type)
      words.append(entry.offset)
      words.append(entry.size)
    }

    /// How many DATASECs there are.
    var count: Int { starts.count }

    /// DATASEC `index` and the range of its words (its size first).
    func span(_ index: Int) -> (id: BTFTypeID, words: Range<Int>) {
      let end = index + 1 < starts.count ? starts[index + 1].start : words.count
      return (starts[index].id, starts[index].start..<end)
    }

    /// Sorts the entries of the DATASEC begun last by offset (the kernel requires it); in
    /// place when they already are, as clang usually writes them.
    package mutating func sortLastByOffset() {
      guard count > 0 else { return }
      let span = span(count - 1).words
      let first = span.lowerBound + 1, entries = (span.count - 1) / 3
      var k = 1
      while k < entries && words[first + 3 * k + 1] >= words[first + 3 * (k - 1) + 1] { k += 1 }
      guard k < entries else { return }
      let sorted = self.entries(count - 1).sorted { $0.offset < $1.offset }
      for (k, entry) in sorted.enumerated() {
        words[first + 3 * k] = entry.type
        words[first + 3 * k + 1] = entry.offset
        words[first + 3 * k + 2] = entry.size
      }
    }

    /// The entries of DATASEC `index`.
    func entries(_ index: Int) -> [BTFType.DataSectionEntry] {
      let span = span(index).words
      return stride(from: span.lowerBound + 1, to: span.upperBound, by: 3).map {
        BTFType.DataSectionEntry(type: words[$0], offset: words[$0 + 1], size: words[$0 + 2])
      }
    }
  }

  /// Writes `layout`: as ``setDataSections(_:)``.
  package mutating func setDataSections(_ layout: DataSectionLayout) throws(BTFError) {
    var inPlace = types.records != nil
    for index in 0..<layout.count {
      let (id, span) = layout.span(index)
      let kind = try kind(of: id)
      guard kind == .dataSection else { throw .wrongKind(typeID: id, expected: .dataSection, found: kind) }
      // An entry count other than the record's changes the layout: not in place.
      if types.vlen(at: Int(id)) != (span.count - 1) / 3 { inPlace = false }
      for k in stride(from: span.lowerBound + 1, to: span.upperBound, by: 3) where Int(layout.words[k]) >= types.count {
        throw .typeIDOutOfRange(typeID: id, target: layout.words[k], count: types.count)
      }
    }
    if inPlace {
      // Word 2 is the size; the entries (type, offset, size) follow it.
      types.patch((0..<layout.count).map { index in
        let (id, span) = layout.span(index)
        return BTFTypes.Patch(id: Int(id), from: 2, words: layout.words[span])
      })
      return
    }
    var copy = self
    for index in 0..<layout.count {
      let (id, span) = layout.span(index)
      try copy.setDataSectionSize(id: id, size: layout.words[span.lowerBound])
      try copy.setDataSectionEntries(id: id, entries: layout.entries(index))
    }
    self = copy
  }
}
