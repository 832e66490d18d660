/// The names of an object's symbols and sections as strings, each built at most once per parse
/// and then shared: a map's name, its symbol's name in the relocations that refer to it and the
/// target of those relocations are one string, read once from the string table.
struct SymbolNames {
  /// For each symbol index, then each section index: 1 + the position of its name in
  /// ``strings``, or 0 when it has not been built. Plain integers, so making and freeing the
  /// table costs little however many symbols the object has.
  private var slots: [UInt32]
  /// The names built so far.
  private var strings: [String] = []
  /// Where the sections start in ``slots``: the number of symbols.
  private let firstSection: Int

  init(_ elf: ELFFile) {
    firstSection = elf.symbols.count
    slots = Array(repeating: 0, count: elf.symbols.count + elf.sections.count)
    strings.reserveCapacity(Swift.min(slots.count, 32))
  }

  /// The name of symbol `index` of `elf` (in range).
  mutating func symbol(_ index: Int, in elf: ELFFile) -> String {
    if let known = known(index) { return known }
    return add(elf.symbols[index].name, at: index)
  }

  /// The name of section `index` of `elf` (in range).
  mutating func section(_ index: Int, in elf: ELFFile) -> String {
    if let known = known(firstSection + index) { return known }
    return add(elf.sections[index].name, at: firstSection + index)
  }

  @inline(__always)
  private func known(_ slot: Int) -> String? {
    let known = slots[slot]
    return known == 0 ? nil : strings[Int(known) - 1]
  }

  private mutating func add(_ name: String, at slot: Int) -> String {
    strings.append(name)
    slots[slot] = UInt32(truncatingIfNeeded: strings.count)
    return name
  }

  /// The name a relocation against symbol `index` goes by (``BPFRelocation/symbolName``): the
  /// section's name for a section symbol of a section that exists, otherwise the symbol's.
  mutating func relocationSymbol(_ index: Int, in elf: ELFFile) -> String {
    let symbol = elf.symbols[index]
    if symbol.type == ELFConstants.sttSection, Int(symbol.sectionIndex) < elf.sections.count {
      return section(Int(symbol.sectionIndex), in: elf)
    }
    return self.symbol(index, in: elf)
  }
}
