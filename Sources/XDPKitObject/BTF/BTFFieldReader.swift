/// Single fields of BTF types read by id, without decoding a type: what map definitions,
/// sizes and modifier chains are read through.
///
/// ``BTFTypes`` reads them whichever way it holds the types; ``BTFRecordView`` reads the
/// records of one parsed type section straight from memory, for the loops of a parse.
protocol BTFFieldReader {
  /// The number of types, void included.
  var typeCount: Int { get }
  /// The kind of type `id` (below ``typeCount``).
  func kind(at id: Int) -> BTFKind
  /// The size or type word of type `id` (below ``typeCount``): see ``BTFType/sizeOrType``.
  func sizeOrType(at id: Int) -> UInt32
  /// The element type and count of ARRAY `id`.
  func array(at id: Int) -> (elementType: BTFTypeID, count: UInt32)
  /// The `vlen` bits of type `id` (below ``typeCount``).
  func vlen(at id: Int) -> Int
  /// Member `index` of STRUCT or UNION `id` (see ``BTFTypes/member(at:_:)``).
  func member(at id: Int, _ index: Int) -> (nameOffset: UInt32, type: BTFTypeID, bitOffset: UInt32)
  /// The name offset of type `id` (below ``typeCount``).
  func nameOffset(at id: Int) -> UInt32
  /// Entry `index` of DATASEC `id`.
  func dataSectionEntry(at id: Int, _ index: Int) -> BTFType.DataSectionEntry
}

extension BTFFieldReader {
  /// The kind of type `id`, checked against the number of types.
  func checkedKind(of id: BTFTypeID) throws(BTFError) -> BTFKind {
    guard Int(id) < typeCount else { throw .noSuchType(id: id, count: typeCount) }
    return kind(at: Int(id))
  }

  /// ``BTF/skippingModifiers(_:)`` (`typedefs`) or ``BTF/skippingQualifiers(_:)``.
  func skip(from id: BTFTypeID, typedefs: Bool) throws(BTFError) -> BTFTypeID {
    var current = id
    for _ in 0..<BTF.maximumResolutionDepth {
      switch try checkedKind(of: current) {
      case .volatile, .const, .restrict, .typeTag:
        current = sizeOrType(at: Int(current))
      case .typedef where typedefs:
        current = sizeOrType(at: Int(current))
      default:
        return current
      }
    }
    throw .resolutionTooDeep(typeID: id)
  }

  /// ``BTF/resolvedSize(of:)``.
  func resolvedSize(of id: BTFTypeID) throws(BTFError) -> Int {
    var current = id
    var multiplier = 1
    for _ in 0..<BTF.maximumResolutionDepth {
      let kind = try checkedKind(of: current)
      let size: UInt32
      switch kind {
      case .int, .struct, .union, .enum, .enum64, .dataSection, .float:
        size = sizeOrType(at: Int(current))
      case .pointer: size = 8
      case .array:
        let info = array(at: Int(current))
        let (product, overflow) = multiplier.multipliedReportingOverflow(by: Int(info.count))
        guard !overflow else { throw .sizeOverflow(typeID: id) }
        multiplier = product
        current = info.elementType
        continue
      case .typedef, .volatile, .const, .restrict, .typeTag, .variable:
        current = sizeOrType(at: Int(current))
        continue
      case .void, .forward, .function, .functionPrototype, .declarationTag:
        throw .typeHasNoSize(typeID: current, kind: kind)
      }
      let (total, overflow) = multiplier.multipliedReportingOverflow(by: Int(size))
      guard !overflow else { throw .sizeOverflow(typeID: id) }
      return total
    }
    throw .resolutionTooDeep(typeID: id)
  }
}

extension BTFTypes: BTFFieldReader {
  var typeCount: Int { count }
}

/// The records of one parsed type section, read in place through pointers that are valid only
/// inside ``BTFRecords/withView(_:)``.
///
/// The scan at parse time checked every record and every id a record refers to, so the ids
/// passed here (types found through other records, below ``typeCount``) name whole records.
struct BTFRecordView: BTFFieldReader {
  /// The type section.
  let section: UnsafeRawBufferPointer
  /// Where each record starts in ``section``; `offsets[i]` is type `i + 1`.
  let offsets: UnsafeBufferPointer<UInt32>
  let typeCount: Int

  /// Word `index` of the record of type `id` (not 0).
  @inline(__always)
  func word(_ id: Int, _ index: Int) -> UInt32 {
    precondition(id > 0 && id <= offsets.count, "type id out of range")
    let start = Int(offsets[id - 1]) + 4 * index
    return UInt32(littleEndian: section.loadUnaligned(fromByteOffset: start, as: UInt32.self))
  }

  func kind(at id: Int) -> BTFKind {
    guard id != 0 else { return .void }
    return BTFKind(rawValue: UInt8(truncatingIfNeeded: word(id, 1) >> 24) & 0x1F) ?? .void
  }

  func sizeOrType(at id: Int) -> UInt32 {
    id == 0 ? 0 : word(id, 2)
  }

  func array(at id: Int) -> (elementType: BTFTypeID, count: UInt32) {
    (word(id, 3), word(id, 5))
  }

  func vlen(at id: Int) -> Int {
    id == 0 ? 0 : Int(word(id, 1) & 0xFFFF)
  }

  func member(at id: Int, _ index: Int) -> (nameOffset: UInt32, type: BTFTypeID, bitOffset: UInt32) {
    let offset = word(id, 5 + 3 * index)
    let kindFlag = word(id, 1) >> 31 == 1
    return (word(id, 3 + 3 * index), word(id, 4 + 3 * index), kindFlag ? offset & 0x00FF_FFFF : offset)
  }

  func nameOffset(at id: Int) -> UInt32 {
    id == 0 ? 0 : word(id, 0)
  }

  func dataSectionEntry(at id: Int, _ index: Int) -> BTFType.DataSectionEntry {
    BTFType.DataSectionEntry(
      type: word(id, 3 + 3 * index), offset: word(id, 4 + 3 * index), size: word(id, 5 + 3 * index))
  }
}

extension BTFRecords {
  /// Calls `body` with a view of the records when they are one section's (an object's BTF, not
  /// split BTF); returns `nil` otherwise.
  func withView<R, E: Error>(_ body: (BTFRecordView) throws(E) -> R) throws(E) -> R? {
    guard segments.count == 1, segments[0].firstID == 1 else { return nil }
    let segment = segments[0]
    return try segment.bytes.withUnsafeBytes { bytes in
      segment.offsets.withUnsafeBufferPointer { offsets in
        Result { () throws(E) -> R in
          try body(BTFRecordView(
            section: UnsafeRawBufferPointer(rebasing: bytes[segment.sectionStart...]),
            offsets: offsets, typeCount: count))
        }
      }
    }.get()
  }
}
