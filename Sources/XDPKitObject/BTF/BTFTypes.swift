/// The types of a ``BTF``, indexed by type id; id 0 is ``BTFType/void``.
///
/// Types read from a section are kept in their encoded form (the section's bytes and the offset
/// of each record) and decoded when one is asked for, so that parsing BTF (an object's or the
/// kernel's) builds no values. DATASEC sizes and entries set through ``BTF`` are patched into
/// the records; types stored with ``BTF``'s other mutating methods, or given as an array
/// literal, are kept as values, and the first such change to parsed types decodes them all.
/// Either way `types[id]` is the same value.
///
/// A type read from parsed records is decoded on its first access and kept in a cache that
/// every copy shares (behind a lock).
public struct BTFTypes: RandomAccessCollection, Sendable, Equatable, ExpressibleByArrayLiteral {
  /// The parsed records, or `nil` when the types are held in ``values``.
  var records: BTFRecords?
  /// The types as values, when ``records`` is `nil`.
  var values: [BTFType]

  /// Types given as values; `types[0]` should be void.
  init(_ values: [BTFType]) {
    self.records = nil
    self.values = values
  }

  /// Types read from a section, decoded on access.
  init(records: BTFRecords) {
    self.records = records
    self.values = []
  }

  /// Creates the types from a list of values, in id order, starting with void.
  public init(arrayLiteral elements: BTFType...) {
    self.init(elements)
  }

  /// 0.
  public var startIndex: Int { 0 }
  /// The number of types, void included.
  public var endIndex: Int { records?.count ?? values.count }

  /// The type with id `id`. `id` must be in `indices`.
  public subscript(id: Int) -> BTFType {
    if let records { return records.type(id) }
    return values[id]
  }

  /// Same count and equal types at every id, however each side holds them.
  public static func == (lhs: BTFTypes, rhs: BTFTypes) -> Bool {
    lhs.count == rhs.count && lhs.elementsEqual(rhs)
  }

  // MARK: Single fields without decoding a whole type

  /// The kind of type `id` (in `indices`).
  func kind(at id: Int) -> BTFKind {
    if let records { return records.kind(id) }
    return values[id].kind
  }

  /// The size or type word of type `id` (in `indices`): see ``BTFType/sizeOrType``.
  func sizeOrType(at id: Int) -> UInt32 {
    if let records { return id == 0 ? 0 : records.word(id, 2) }
    return values[id].sizeOrType
  }

  /// The element type and count of ARRAY `id` (in `indices`, of kind ARRAY).
  func array(at id: Int) -> (elementType: BTFTypeID, count: UInt32) {
    if let records { return (records.word(id, 3), records.word(id, 5)) }
    guard case .array(let info) = values[id].body else { return (0, 0) }
    return (info.elementType, info.count)
  }

  /// The name offset of type `id` (in `indices`).
  func nameOffset(at id: Int) -> UInt32 {
    if let records { return records.nameOffset(id) }
    return values[id].nameOffset
  }

  /// The name of type `id` (in `indices`), `nil` when anonymous.
  func name(at id: Int) -> String? {
    if let records { return records.name(at: records.nameOffset(id)) }
    return values[id].name
  }

  /// The lowest id from `first` on of a type whose name is `utf8` and, when `kind` is given,
  /// of that kind. Parsed records are compared by their name bytes, without decoding.
  func firstID(named utf8: [UInt8], kind: BTFKind?, from first: Int = 0) -> Int? {
    guard let records else {
      let name = String(decoding: utf8, as: UTF8.self)
      return values.indices.dropFirst(first).first {
        values[$0].name == name && (kind == nil || values[$0].kind == kind)
      }
    }
    var found: Int? = nil
    records.forEachHeader(in: first..<records.count) { id, recordKind, nameOffset in
      if (kind == nil || recordKind == kind) && records.nameEquals(nameOffset, utf8) {
        found = id
        return false
      }
      return true
    }
    return found
  }

  /// Calls `body` with the id, kind and name offset of each type whose id is in `range`, in id
  /// order, without decoding parsed records.
  func forEachHeader(in range: Range<Int>, _ body: (Int, BTFKind, UInt32) -> Void) {
    guard let records else {
      for id in range { body(id, values[id].kind, values[id].nameOffset) }
      return
    }
    records.forEachHeader(in: range) { id, kind, nameOffset in
      body(id, kind, nameOffset)
      return true
    }
  }

  // MARK: Mutation (through BTF's checked methods)

  /// Turns parsed records into values, before a change.
  private mutating func decodeAll() {
    guard let records else { return }
    values = records.decodeAll()
    self.records = nil
  }

  /// Writes `words` over the record of type `id` (in `indices`, not 0) from word `index` on,
  /// when the types are parsed records; the words must lie inside the record. Types held as
  /// values are left unchanged.
  mutating func patch(at id: Int, from index: Int, _ words: [UInt32]) {
    patch([Patch(id: id, from: index, words: words[...])])
  }

  /// Words to write over the record of type `id` from word `from` on: a slice, so that the
  /// patches of one edit can share one array.
  struct Patch {
    var id: Int
    var from: Int
    var words: ArraySlice<UInt32>
  }

  /// Writes each patch as ``patch(at:from:_:)`` does, over one copy of the records.
  mutating func patch(_ patches: [Patch]) {
    guard let records else { return }
    self.records = records.patched(patches)
  }

  /// Stores `type` as type `id` (in `indices`).
  mutating func replace(at id: Int, with type: BTFType) {
    decodeAll()
    values[id] = type
  }

  /// Adds `type` with the next id.
  mutating func append(_ type: BTFType) {
    decodeAll()
    values.append(type)
  }

  /// These types followed by `more`, which continue the ids. Parsed records on both sides stay
  /// records (sharing their bytes).
  func extended(by more: BTFRecords.Segment, strings: [UInt8]) -> BTFTypes {
    if let records {
      return BTFTypes(records: records.adding(more, strings: strings))
    }
    let added = BTFRecords(segments: [more], strings: strings)
    return BTFTypes(values + (more.firstID..<added.count).map { added.type($0) })
  }
}
