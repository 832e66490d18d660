import Synchronization

/// Type records in their encoded form: the bytes of each parsed type section, where each record
/// starts, and the string table their names are in. ``BTFRecordScanner`` checked every record
/// and every name offset before a segment is made, so decoding here reads without checks and
/// cannot fail.
///
/// A type is kept once decoded, in a cache shared by every copy of the ``BTF``: CO-RE
/// resolution reads the same few types (such as `task_struct`, with a string per member) again
/// and again. The records themselves never change, so one instance is shared by all copies.
final class BTFRecords: Sendable {
  /// The records of one type section, with consecutive ids.
  struct Segment: Sendable {
    /// Bytes that hold the type section (the whole section or file it was read from).
    let bytes: [UInt8]
    /// Where the type section starts in ``bytes``.
    let sectionStart: Int
    /// The length of the type section.
    let sectionLength: Int
    /// Start of each record, relative to ``sectionStart``; `offsets[i]` is type
    /// `firstID + i`.
    let offsets: [UInt32]
    /// The id of the first record: 1, or for split BTF the number of types of its base.
    let firstID: Int
    /// The ids of the DATASEC records, in id order (noted by the scan, so that finding a
    /// section's DATASEC reads no other record).
    let dataSectionIDs: [Int]
    /// One past the id of the last record.
    var endID: Int { firstID + offsets.count }
  }

  /// The segments in id order: a split BTF's base first.
  let segments: [Segment]
  /// The string table names are resolved in (for split BTF, base and split tables joined).
  let strings: [UInt8]
  /// Types decoded so far, by id.
  private let decoded = Mutex(DecodedTypes())
  /// Whether ``decoded`` finds types by an array indexed by id (BTF of at most
  /// ``denseCacheLimit`` types, an object's: no hashing on each read, which CO-RE resolution
  /// does over and over) rather than a dictionary (kernel BTF, of which few types are read).
  private let denseCache: Bool

  /// The most types for which the cache is an array indexed by id.
  static let denseCacheLimit = 8192

  /// The decoded types.
  private struct DecodedTypes {
    /// When the cache is dense: for each id, 1 + the position of its type in ``values``, or 0
    /// when it has not been decoded. Allocated on the first decode; plain integers, so making
    /// and freeing it costs little when only a few types are read.
    var slots: [UInt32] = []
    /// The decoded types, in the order they were decoded, when the cache is dense.
    var values: [BTFType] = []
    /// By id, otherwise.
    var sparse: [Int: BTFType] = [:]
  }

  init(segments: [Segment], strings: [UInt8]) {
    self.segments = segments
    self.strings = strings
    self.count = segments.last?.endID ?? 1
    self.denseCache = count <= Self.denseCacheLimit
  }

  /// The number of types, void included.
  let count: Int

  /// These records followed by `segment`, whose names are in `strings`.
  func adding(_ segment: Segment, strings: [UInt8]) -> BTFRecords {
    BTFRecords(segments: segments + [segment], strings: strings)
  }

  /// The segment holding type `id` (not 0) and the byte offset of its record in the segment's
  /// bytes.
  @inline(__always)
  private func location(_ id: Int) -> (segment: Int, start: Int) {
    // Through a buffer pointer: the segment is read in place, not copied (which would retain
    // its arrays on every read).
    segments.withUnsafeBufferPointer { segments in
      var s = segments.count - 1
      while s > 0 && id < segments[s].firstID { s -= 1 }
      return (s, segments[s].sectionStart + Int(segments[s].offsets[id - segments[s].firstID]))
    }
  }

  /// Word `index` (0: name offset, 1: info, 2: size or type, then the data that follows) of
  /// the record of type `id`; the record must have that many words.
  @inline(__always)
  func word(_ id: Int, _ index: Int) -> UInt32 {
    let (s, start) = location(id)
    return segments.withUnsafeBufferPointer { segments in
      segments[s].bytes.withUnsafeBytes { raw in
        UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * index, as: UInt32.self))
      }
    }
  }

  /// The kind of type `id`.
  func kind(_ id: Int) -> BTFKind {
    guard id != 0 else { return .void }
    return BTFKind(rawValue: UInt8(truncatingIfNeeded: word(id, 1) >> 24) & 0x1F) ?? .void
  }

  /// The name offset of type `id`.
  func nameOffset(_ id: Int) -> UInt32 {
    id == 0 ? 0 : word(id, 0)
  }

  /// Calls `body` with the id, kind and name offset of each record whose id is in `range`, in
  /// id order, reading them in place; stops early when `body` returns `false`.
  func forEachHeader(in range: Range<Int>, _ body: (Int, BTFKind, UInt32) -> Bool) {
    for segment in segments {
      let low = Swift.max(range.lowerBound, segment.firstID)
      let high = Swift.min(range.upperBound, segment.endID)
      guard low < high else { continue }
      let goOn = segment.bytes.withUnsafeBytes { raw in
        segment.offsets.withUnsafeBufferPointer { offsets in
          for id in low..<high {
            let start = segment.sectionStart + Int(offsets[id - segment.firstID])
            let name = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start, as: UInt32.self))
            let info = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4, as: UInt32.self))
            let kind = BTFKind(rawValue: UInt8(truncatingIfNeeded: info >> 24) & 0x1F) ?? .void
            if !body(id, kind, name) { return false }
          }
          return true
        }
      }
      if !goOn { return }
    }
  }

  /// The name at `offset`, `nil` for offset 0.
  func name(at offset: UInt32) -> String? {
    guard offset != 0 else { return nil }
    return strings.withUnsafeBufferPointer { table in
      let start = Int(offset)
      var end = start
      while end < table.count && table[end] != 0 { end += 1 }
      return String(decoding: UnsafeBufferPointer(rebasing: table[start..<end]), as: UTF8.self)
    }
  }

  /// Whether the name at `offset` (not 0) is `utf8`.
  func nameEquals(_ offset: UInt32, _ utf8: [UInt8]) -> Bool {
    guard offset != 0 else { return false }
    let start = Int(offset)
    return strings.withUnsafeBufferPointer { table in
      guard table.count - start > utf8.count, table[start + utf8.count] == 0 else { return false }
      return utf8.withUnsafeBufferPointer { wanted in
        var i = 0
        while i < wanted.count {
          if table[start + i] != wanted[i] { return false }
          i += 1
        }
        return true
      }
    }
  }

  /// Type `id`, decoded.
  func type(_ id: Int) -> BTFType {
    guard id != 0 else { return .void }
    let dense = denseCache
    let known = decoded.withLock { cache -> BTFType? in
      guard dense else { return cache.sparse[id] }
      guard !cache.slots.isEmpty, case let slot = cache.slots[id], slot != 0 else { return nil }
      return cache.values[Int(slot) - 1]
    }
    if let known { return known }
    let (s, start) = location(id)
    let type = segments[s].bytes.withUnsafeBytes { decode($0, at: start) }
    let total = count
    decoded.withLock { cache in
      guard dense else {
        cache.sparse[id] = type
        return
      }
      if cache.slots.isEmpty { cache.slots = Array(repeating: 0, count: total) }
      cache.values.append(type)
      cache.slots[id] = UInt32(truncatingIfNeeded: cache.values.count)
    }
    return type
  }

  /// Every type, void first, decoded in one pass without going through the cache: for BTF
  /// that is turned into values whole (an object's, when parsed or first changed).
  func decodeAll() -> [BTFType] {
    var result: [BTFType] = [.void]
    result.reserveCapacity(count)
    for segment in segments {
      segment.bytes.withUnsafeBytes { raw in
        for offset in segment.offsets {
          result.append(decode(raw, at: segment.sectionStart + Int(offset)))
        }
      }
    }
    return result
  }

  /// Decodes the record at `start` of `raw`.
  private func decode(_ raw: UnsafeRawBufferPointer, at start: Int) -> BTFType {
    @inline(__always) func word(_ at: Int) -> UInt32 {
      UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self))
    }
    let nameOffset = word(start)
    let info = word(start + 4)
    let sizeOrType = word(start + 8)
    let kind = BTFKind(rawValue: UInt8(truncatingIfNeeded: info >> 24) & 0x1F) ?? .void
    let vlen = Int(info & 0xFFFF)
    let kindFlag = info >> 31 == 1
    let data = start + 12

    let body: BTFType.Body
    switch kind {
    case .void: body = .void
    case .int:
      let bits = word(data)
      body = .int(
        .init(
          size: sizeOrType,
          encoding: .init(rawValue: UInt8(truncatingIfNeeded: bits >> 24) & 0x0F),
          offset: UInt8(truncatingIfNeeded: bits >> 16), bits: UInt8(truncatingIfNeeded: bits)))
    case .pointer: body = .pointer(to: sizeOrType)
    case .array:
      body = .array(.init(elementType: word(data), indexType: word(data + 4), count: word(data + 8)))
    case .struct, .union:
      let members = (0..<vlen).map { i -> BTFType.Member in
        let at = data + 12 * i
        let offset = word(at + 8)
        var member = BTFType.Member(
          nameOffset: word(at), type: word(at + 4),
          bitOffset: kindFlag ? offset & 0x00FF_FFFF : offset,
          bitfieldSize: kindFlag ? UInt8(truncatingIfNeeded: offset >> 24) : 0)
        member.name = name(at: member.nameOffset)
        return member
      }
      body =
        kind == .struct
        ? .struct(size: sizeOrType, members: members) : .union(size: sizeOrType, members: members)
    case .enum:
      let values = (0..<vlen).map { i -> BTFType.EnumValue in
        let at = data + 8 * i
        var value = BTFType.EnumValue(nameOffset: word(at), value: Int32(bitPattern: word(at + 4)))
        value.name = name(at: value.nameOffset)
        return value
      }
      body = .enum(size: sizeOrType, values: values)
    case .enum64:
      let values = (0..<vlen).map { i -> BTFType.Enum64Value in
        let at = data + 12 * i
        var value = BTFType.Enum64Value(
          nameOffset: word(at), value: UInt64(word(at + 8)) << 32 | UInt64(word(at + 4)))
        value.name = name(at: value.nameOffset)
        return value
      }
      body = .enum64(size: sizeOrType, values: values)
    case .forward: body = .forward
    case .typedef: body = .typedef(sizeOrType)
    case .volatile: body = .volatile(sizeOrType)
    case .const: body = .const(sizeOrType)
    case .restrict: body = .restrict(sizeOrType)
    case .typeTag: body = .typeTag(sizeOrType)
    case .function:
      body = .function(prototype: sizeOrType, linkage: .init(rawValue: UInt32(vlen)))
    case .functionPrototype:
      let parameters = (0..<vlen).map { i -> BTFType.Parameter in
        var parameter = BTFType.Parameter(nameOffset: word(data + 8 * i), type: word(data + 8 * i + 4))
        parameter.name = name(at: parameter.nameOffset)
        return parameter
      }
      body = .functionPrototype(returnType: sizeOrType, parameters: parameters)
    case .variable:
      body = .variable(type: sizeOrType, linkage: .init(rawValue: word(data)))
    case .dataSection:
      let entries = (0..<vlen).map { i in
        BTFType.DataSectionEntry(
          type: word(data + 12 * i), offset: word(data + 12 * i + 4), size: word(data + 12 * i + 8))
      }
      body = .dataSection(size: sizeOrType, entries: entries)
    case .float: body = .float(size: sizeOrType)
    case .declarationTag:
      body = .declarationTag(type: sizeOrType, componentIndex: Int32(bitPattern: word(data)))
    }
    var type = BTFType(nameOffset: nameOffset, kindFlag: kindFlag, body: body)
    type.name = name(at: nameOffset)
    return type
  }
}

