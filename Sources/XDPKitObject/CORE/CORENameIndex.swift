/// Type ids grouped by the essential part of their name (see ``COREName``), read straight from
/// the string table: no `String` is made while indexing, which matters for kernel BTF (about a
/// hundred thousand named types, indexed once per process).
///
/// An open-addressing hash table maps each distinct essential name, kept as a byte range of the
/// string table, to a chain of the ids that carry it, in ascending order.
struct CORENameIndex: Sendable {
  /// The string table the names are in.
  private let strings: [UInt8]
  /// Per slot, 1 + the index of its group, or 0 when empty. The count is a power of two.
  private var slots: [Int32]
  /// Per group: where its essential name starts in ``strings`` and how long it is.
  private var groupStart: [UInt32] = []
  private var groupLength: [UInt32] = []
  /// Per group: the first and last entry of its chain.
  private var groupFirst: [Int32] = []
  private var groupLast: [Int32] = []
  /// Per entry: the type id and the next entry of its group (-1 at the end).
  private var entryID: [UInt32] = []
  private var entryNext: [Int32] = []

  /// Indexes the types of `btf` from id `first` on whose kind passes `include`.
  init(_ btf: BTF, from first: Int, include: (BTFKind) -> Bool) {
    strings = btf.strings
    let types = btf.types
    let range = max(0, first)..<max(max(0, first), types.count)
    var capacity = 16
    while capacity < range.count * 2 { capacity <<= 1 }
    slots = [Int32](repeating: 0, count: capacity)
    entryID.reserveCapacity(range.count / 2)
    entryNext.reserveCapacity(range.count / 2)
    let table = strings
    table.withUnsafeBufferPointer { table in
      types.forEachHeader(in: range) { id, kind, nameOffset in
        let offset = Int(nameOffset)
        guard offset != 0, offset < table.count, include(kind) else { return }
        var end = offset
        while end < table.count && table[end] != 0 { end += 1 }
        let name = UnsafeBufferPointer(rebasing: table[offset..<end])
        let length = COREName.essentialLength(name)
        guard length > 0 else { return }
        add(BTFTypeID(id), start: offset, length: length, table: table)
      }
    }
  }

  private mutating func add(
    _ id: BTFTypeID, start: Int, length: Int, table: UnsafeBufferPointer<UInt8>
  ) {
    let key = UnsafeBufferPointer(rebasing: table[start..<start + length])
    let entry = Int32(entryID.count)
    entryID.append(id)
    entryNext.append(-1)
    let mask = slots.count - 1
    var slot = Int(truncatingIfNeeded: Self.hash(key)) & mask
    while true {
      let group = Int(slots[slot]) - 1
      if group < 0 {
        // A new name. The table holds at most half as many groups as slots.
        groupStart.append(UInt32(start))
        groupLength.append(UInt32(length))
        groupFirst.append(entry)
        groupLast.append(entry)
        slots[slot] = Int32(groupStart.count)
        return
      }
      if Self.equal(key, table, Int(groupStart[group]), Int(groupLength[group])) {
        entryNext[Int(groupLast[group])] = entry
        groupLast[group] = entry
        return
      }
      slot = (slot + 1) & mask
    }
  }

  /// The ids whose essential name is `essential`, ascending.
  func ids(named essential: Substring) -> [BTFTypeID] {
    var name = String(essential)
    return name.withUTF8 { key in
      strings.withUnsafeBufferPointer { table in
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: Self.hash(key)) & mask
        while true {
          let group = Int(slots[slot]) - 1
          if group < 0 { return [] }
          if Self.equal(key, table, Int(groupStart[group]), Int(groupLength[group])) {
            var ids: [BTFTypeID] = []
            var entry = Int(groupFirst[group])
            while entry >= 0 {
              ids.append(entryID[entry])
              entry = Int(entryNext[entry])
            }
            return ids
          }
          slot = (slot + 1) & mask
        }
      }
    }
  }

  /// FNV-1a over the bytes.
  private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
      h = (h ^ UInt64(byte)) &* 0x100_0000_01b3
    }
    return h ^ (h >> 29)
  }

  /// Whether `key` equals the `length` bytes at `start` of `table`.
  private static func equal(
    _ key: UnsafeBufferPointer<UInt8>, _ table: UnsafeBufferPointer<UInt8>, _ start: Int,
    _ length: Int
  ) -> Bool {
    guard key.count == length else { return false }
    var i = 0
    while i < length {
      if key[i] != table[start + i] { return false }
      i += 1
    }
    return true
  }
}
