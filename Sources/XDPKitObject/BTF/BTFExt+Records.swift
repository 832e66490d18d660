extension BTFExt {
  /// The known words of one encoded record, as the file has them: `insn_off` and the three
  /// words after it (the type id or the file-name offset, and so on, by block). Words past a
  /// block's known fields are 0.
  package struct RawRecord: Sendable {
    /// `insn_off`, in bytes from the start of the ELF section.
    package var insnOffset: UInt32
    /// The record's second, third and fourth 32-bit words.
    package var word1: UInt32, word2: UInt32, word3: UInt32
  }

  /// Calls `body` with each record of block `part` whose group names ELF section `section`,
  /// in file order, with the record's index among that section's records. Nothing is
  /// decoded or copied beyond the record's words.
  package func forEachRecord(
    _ part: BTFError.Part, inSection section: String, _ body: (Int, RawRecord) -> Void
  ) {
    var name = section
    name.withUTF8 { wanted in
      var number = 0
      for group in groups where group.part == part && nameMatches(group.nameOffset, wanted) {
        eachRecord(of: group) {
          body(number, $0)
          number += 1
        }
      }
    }
  }

  /// Calls `body` with each record of `group`, in order.
  private func eachRecord(of group: RecordGroup, _ body: (RawRecord) -> Void) {
    let words = group.part == .funcInfo ? 2 : 4
    bytes.withUnsafeBytes { raw in
      for k in 0..<group.count {
        let at = group.start + k * group.recordSize
        func word(_ i: Int) -> UInt32 {
          i < words ? UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at + 4 * i, as: UInt32.self)) : 0
        }
        body(RawRecord(insnOffset: word(0), word1: word(1), word2: word(2), word3: word(3)))
      }
    }
  }

  /// Whether the string at `offset` (checked at parse time) is `wanted`.
  func nameMatches(_ offset: UInt32, _ wanted: UnsafeBufferPointer<UInt8>) -> Bool {
    strings.withUnsafeBufferPointer { table in
      let start = Int(offset)
      if table.isEmpty { return wanted.isEmpty }
      guard table.count - start > wanted.count, table[start + wanted.count] == 0 else { return false }
      return UnsafeBufferPointer(rebasing: table[start..<(start + wanted.count)]).elementsEqual(wanted)
    }
  }

  /// The string at `offset` of the BTF string table, checked at parse time.
  private func string(at offset: UInt32) -> String {
    (try? BTF.string(in: strings, at: offset)) ?? ""
  }

  /// The function record `raw` (of the `func_info` block).
  package func funcInfo(_ raw: RawRecord) -> FuncInfo {
    FuncInfo(insnOffset: raw.insnOffset, typeID: raw.word1)
  }

  /// The line record `raw` (of the `line_info` block).
  package func lineInfo(_ raw: RawRecord) -> LineInfo {
    LineInfo(insnOffset: raw.insnOffset, fileNameOffset: raw.word1, lineOffset: raw.word2,
             lineCol: raw.word3, strings: strings)
  }

  /// The CO-RE relocation `raw` (of the `core_relo` block), its access string read.
  package func coreRelocation(_ raw: RawRecord) -> CORERelocation {
    CORERelocation(insnOffset: raw.insnOffset, typeID: raw.word1, accessStringOffset: raw.word2,
                   accessString: string(at: raw.word2), kind: .init(rawValue: raw.word3))
  }

  /// The function records of ELF section `section`, in file order.
  public func funcInfo(inSection section: String) -> [FuncInfo] {
    var result: [FuncInfo] = []
    forEachRecord(.funcInfo, inSection: section) { result.append(funcInfo($1)) }
    return result
  }

  /// The line records of ELF section `section`, in file order.
  public func lineInfo(inSection section: String) -> [LineInfo] {
    var result: [LineInfo] = []
    forEachRecord(.lineInfo, inSection: section) { result.append(lineInfo($1)) }
    return result
  }

  /// The CO-RE relocations of ELF section `section`, in file order.
  public func coreRelocations(inSection section: String) -> [CORERelocation] {
    var result: [CORERelocation] = []
    forEachRecord(.coreRelocations, inSection: section) { result.append(coreRelocation($1)) }
    return result
  }

  /// Function records (`struct bpf_func_info`) by ELF section name, in file order, decoded
  /// on each call.
  public var funcInfo: [String: [FuncInfo]] { all(.funcInfo, funcInfo) }
  /// Line records (`struct bpf_line_info`) by ELF section name, in file order, decoded on
  /// each call.
  public var lineInfo: [String: [LineInfo]] { all(.lineInfo, lineInfo) }
  /// CO-RE relocations (`struct bpf_core_relo`) by ELF section name, in file order, decoded
  /// on each call.
  public var coreRelocations: [String: [CORERelocation]] { all(.coreRelocations, coreRelocation) }

  /// The number of records of each block: `func_info`, `line_info` and `core_relo`.
  public var recordCounts: (funcInfo: Int, lineInfo: Int, coreRelocations: Int) {
    var counts = (funcInfo: 0, lineInfo: 0, coreRelocations: 0)
    for group in groups {
      switch group.part {
      case .funcInfo: counts.funcInfo += group.count
      case .lineInfo: counts.lineInfo += group.count
      default: counts.coreRelocations += group.count
      }
    }
    return counts
  }

  /// Every record of block `part`, decoded by `decode`, by section name.
  private func all<Record>(_ part: BTFError.Part, _ decode: (RawRecord) -> Record) -> [String: [Record]] {
    var result: [String: [Record]] = [:]
    for group in groups where group.part == part {
      let section = string(at: group.nameOffset)
      var records = result[section] ?? []
      eachRecord(of: group) { records.append(decode($0)) }
      result[section] = records
    }
    return result
  }
}
