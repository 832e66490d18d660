/// Single fields of a type's items (members, DATASEC entries) and name comparisons, read in
/// place from parsed records without decoding the type, so that parsing an object (map
/// definitions, data sections) builds no ``BTFType`` values and no name strings.
extension BTFTypes {
  /// The `vlen` bits of type `id` (in `indices`): see ``BTFType/vlen``.
  func vlen(at id: Int) -> Int {
    if let records { return id == 0 ? 0 : Int(records.word(id, 1) & 0xFFFF) }
    return values[id].vlen
  }

  /// Member `index` of STRUCT or UNION `id`: its name offset, type and bit offset (without the
  /// bitfield size that a set kind flag puts in the top 8 bits). `id` must be in `indices`, of
  /// kind STRUCT or UNION, with more than `index` members.
  func member(at id: Int, _ index: Int) -> (nameOffset: UInt32, type: BTFTypeID, bitOffset: UInt32) {
    if let records {
      let offset = records.word(id, 5 + 3 * index)
      let kindFlag = records.word(id, 1) >> 31 == 1
      return (
        records.word(id, 3 + 3 * index), records.word(id, 4 + 3 * index),
        kindFlag ? offset & 0x00FF_FFFF : offset
      )
    }
    switch values[id].body {
    case .struct(_, let members), .union(_, let members):
      let member = members[index]
      return (member.nameOffset, member.type, member.bitOffset)
    default:
      preconditionFailure("type \(id) has no members")
    }
  }

  /// Entry `index` of DATASEC `id`. `id` must be in `indices`, of kind DATASEC, with more than
  /// `index` entries.
  func dataSectionEntry(at id: Int, _ index: Int) -> BTFType.DataSectionEntry {
    if let records {
      return BTFType.DataSectionEntry(
        type: records.word(id, 3 + 3 * index), offset: records.word(id, 4 + 3 * index),
        size: records.word(id, 5 + 3 * index))
    }
    guard case .dataSection(_, let entries) = values[id].body else {
      preconditionFailure("type \(id) is not a DATASEC")
    }
    return entries[index]
  }
}

extension BTF {
  /// The bytes of the name at `offset` of the string table, without its NUL, passed to `body`;
  /// empty for offset 0 or an offset the table does not hold (parsing checked every name
  /// offset a type carries).
  func withName<R>(at offset: UInt32, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    strings.withUnsafeBufferPointer { table in
      let start = Int(offset)
      guard offset != 0, start < table.count else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
      var end = start
      while end < table.count && table[end] != 0 { end += 1 }
      return body(UnsafeBufferPointer(rebasing: table[start..<end]))
    }
  }

  /// Whether the name at `offset` of the string table is `utf8` (never for offset 0).
  func nameEquals(_ offset: UInt32, _ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
    guard offset != 0 else { return false }
    return strings.withUnsafeBufferPointer { table in
      let start = Int(offset)
      guard table.count - start > utf8.count, table[start + utf8.count] == 0 else { return false }
      var i = 0
      while i < utf8.count {
        if table[start + i] != utf8[i] { return false }
        i += 1
      }
      return true
    }
  }
}

extension BTF {
  /// The ids of the DATASEC types named `utf8`, in id order. Parsed records are not read:
  /// the scan at parse time noted where the DATASECs are.
  func dataSectionIDs(named utf8: [UInt8]) -> [Int] {
    utf8.withUnsafeBufferPointer { wanted in
      var found: [Int] = []
      forEachDataSectionID(named: wanted) { found.append($0); return true }
      return found
    }
  }

  /// The id of the first DATASEC named `utf8`, if any.
  func firstDataSectionID(named utf8: UnsafeBufferPointer<UInt8>) -> Int? {
    var found: Int? = nil
    forEachDataSectionID(named: utf8) { found = $0; return false }
    return found
  }

  /// Calls `body` with the id of each DATASEC named `wanted`, in id order, until it returns
  /// `false`.
  func forEachDataSectionID(named wanted: UnsafeBufferPointer<UInt8>, _ body: (Int) -> Bool) {
    guard let records = types.records else {
      for id in types.values.indices
      where types.values[id].kind == .dataSection && nameEquals(types.values[id].nameOffset, wanted) {
        if !body(id) { return }
      }
      return
    }
    for segment in records.segments {
      for id in segment.dataSectionIDs where nameEquals(records.nameOffset(id), wanted) {
        if !body(id) { return }
      }
    }
  }
}

extension BTF {
  /// The ids of every DATASEC type, in id order, found without decoding any type (for parsed
  /// BTF, the scan at parse time noted them).
  public var dataSectionIDs: [BTFTypeID] {
    guard let records = types.records else {
      return types.values.indices.filter { types.values[$0].kind == .dataSection }.map { BTFTypeID($0) }
    }
    return records.segments.flatMap { $0.dataSectionIDs.map { BTFTypeID($0) } }
  }
}

extension BTF {
  /// The linkage of FUNC or VAR `id`, read without decoding the type; `nil` for other kinds.
  /// - Throws: ``BTFError/noSuchType(id:count:)`` when `id` is not below `types.count`.
  public func linkage(of id: BTFTypeID) throws(BTFError) -> BTFType.Linkage? {
    let kind = try kind(of: id)
    guard let records = types.records else {
      switch types.values[Int(id)].body {
      case .function(_, let linkage), .variable(_, let linkage): return linkage
      default: return nil
      }
    }
    switch kind {
    case .function: return BTFType.Linkage(rawValue: records.word(Int(id), 1) & 0xFFFF)
    case .variable: return BTFType.Linkage(rawValue: records.word(Int(id), 3))
    default: return nil
    }
  }
}

extension BTF {
  /// What a loader asks of every type before loading BTF into a kernel, found in one pass
  /// over the records' headers (a linkage is read only for FUNCs and VARs; no type is
  /// decoded).
  package struct HeaderSummary: Sendable, Equatable {
    /// The kinds present, as bits: bit `n` is set when a type of kind raw value `n` is.
    package var kinds: UInt32 = 0
    /// Whether a FUNC has global linkage.
    package var hasGlobalFunction = false
    /// The ids of the FUNCs and VARs with extern linkage, in id order.
    package var externIDs: [Int] = []

    /// Whether a type of `kind` is present.
    package func contains(_ kind: BTFKind) -> Bool { kinds & (1 << UInt32(kind.rawValue)) != 0 }
  }

  /// Every type's kind and, for FUNCs and VARs, linkage, summed up (see ``HeaderSummary``).
  package var headerSummary: HeaderSummary {
    var summary = HeaderSummary()
    if let records = types.records {
      // Parsed records: each record's info word (and a VAR's linkage word) read in place.
      for segment in records.segments {
        segment.bytes.withUnsafeBytes { raw in
          segment.offsets.withUnsafeBufferPointer { offsets in
            for k in offsets.indices {
              let start = segment.sectionStart + Int(offsets[k])
              let info = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4, as: UInt32.self))
              let kind = (info >> 24) & 0x1F
              summary.kinds |= 1 << kind
              let linkage: UInt32
              switch kind {
              case UInt32(BTFKind.function.rawValue): linkage = info & 0xFFFF
              case UInt32(BTFKind.variable.rawValue):
                linkage = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 12, as: UInt32.self))
              default: continue
              }
              if linkage == BTFType.Linkage.extern.rawValue {
                summary.externIDs.append(segment.firstID + k)
              } else if linkage == BTFType.Linkage.global.rawValue && kind == UInt32(BTFKind.function.rawValue) {
                summary.hasGlobalFunction = true
              }
            }
          }
        }
      }
      return summary
    }
    types.forEachHeader(in: 1..<Swift.max(types.count, 1)) { id, kind, _ in
      summary.kinds |= 1 << UInt32(kind.rawValue)
      guard kind == .function || kind == .variable else { return }
      switch try? linkage(of: BTFTypeID(id)) {
      case .extern: summary.externIDs.append(id)
      case .global where kind == .function: summary.hasGlobalFunction = true
      default: break
      }
    }
    return summary
  }
}

