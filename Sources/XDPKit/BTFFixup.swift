import XDPKitObject

/// The edits every loader makes to an object's BTF before BPF_BTF_LOAD: clang writes each
/// DATASEC with size 0 and (for global variables) offset 0, leaving the loader to copy the ELF
/// section sizes and symbol offsets in. The kernel also wants DATASEC entries sorted.
enum BTFFixup {
  static func apply(to btf: inout BTF, object: BPFObject) throws(BTFError) {
    for id in 1..<btf.types.count {
      let type = btf.types[id]
      guard case .dataSection(_, let entries) = type.body, let name = type.name,
            let section = object.elf.section(named: name) else { continue }
      var symbols: [String: ELFSymbol] = [:]
      for symbol in object.elf.symbols where Int(symbol.sectionIndex) == section.index && !symbol.name.isEmpty {
        symbols[symbol.name] = symbol
      }
      var fixed: [BTFType.DataSectionEntry] = []
      for entry in entries {
        var e = entry
        if Int(entry.type) < btf.types.count, let varName = btf.types[Int(entry.type)].name,
           let symbol = symbols[varName] {
          e.offset = UInt32(truncatingIfNeeded: symbol.value)
          if symbol.size != 0 { e.size = UInt32(truncatingIfNeeded: symbol.size) }
        }
        fixed.append(e)
      }
      fixed.sort { $0.offset < $1.offset }
      try btf.setDataSectionSize(id: UInt32(id), size: UInt32(truncatingIfNeeded: section.size))
      try btf.setDataSectionEntries(id: UInt32(id), entries: fixed)
    }
  }
}
