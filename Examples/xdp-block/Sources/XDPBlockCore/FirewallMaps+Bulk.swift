import XDPKit

/// What a bulk ``FirewallMaps/add(contentsOf:)`` or ``FirewallMaps/remove(contentsOf:)`` did.
public struct BlocklistChange: Sendable, Equatable {
  /// The entries asked for, each once, in the order they first appeared.
  public var entries: [BlockEntry]
  /// Those that were left as they were: already blocked (add) or not in the blocklist (remove).
  public var unchanged: Set<BlockEntry>

  /// A change of `entries` of which `unchanged` were left alone.
  public init(entries: [BlockEntry], unchanged: Set<BlockEntry>) {
    self.entries = entries
    self.unchanged = unchanged
  }

  /// The entries added (or removed), in order.
  public var changed: [BlockEntry] { entries.filter { !unchanged.contains($0) } }

  /// How many of the changed entries are addresses and how many prefixes.
  public var changedCounts: (addresses: Int, prefixes: Int) {
    var addresses = 0
    var prefixes = 0
    for entry in entries where unchanged.isEmpty || !unchanged.contains(entry) {
      if entry.isExact { addresses += 1 } else { prefixes += 1 }
    }
    return (addresses, prefixes)
  }
}

// Bulk changes go table by table with the batch map commands. Each table's present keys are
// found first, so that an entry already blocked keeps its hit count and the result can say
// which entries changed: key by key for a small input, or by reading the whole table when the
// input is large next to the table (a batch lookup walks every bucket, a per-key lookup costs a
// system call). A table read whole is checked for room before anything is written; should a
// write fail all the same, what this call wrote is removed again.
extension FirewallMaps {
  /// Inputs of at most this many keys are looked up key by key, whatever the table's size.
  static let keyByKeyLimit = 64

  /// Adds every entry of `entries` with a hit count of zero, with one batch update per table.
  /// Duplicates count once; entries already blocked are left as they are (their hit counts
  /// stay) and reported in ``BlocklistChange/unchanged``.
  ///
  /// Throws ``XDPBlockError/blocklistFull(map:capacity:)`` or
  /// ``XDPBlockError/prefixListFull(map:capacity:)`` when the new entries do not fit into
  /// their tables; nothing has been added then.
  ///
  /// The corresponding bpf(2) commands are BPF_MAP_LOOKUP_BATCH (or BPF_MAP_LOOKUP_ELEM) and
  /// BPF_MAP_UPDATE_BATCH, falling back to BPF_MAP_UPDATE_ELEM where a table has no batch
  /// support.
  public func add<S: Sequence>(contentsOf entries: S) throws(XDPBlockError) -> BlocklistChange
  where S.Element == BlockEntry {
    let tables = Tables(entries)
    let (v4, v6, p4, p6) = try find(tables)
    try requireRoom(v4, map: blocklist.map, entry: BlockEntry.ipv4)
    try requireRoom(v6, map: blocklist6.map, entry: BlockEntry.ipv6)
    try requireRoom(p4, map: cidr4.map, entry: BlockEntry.ipv4Prefix)
    try requireRoom(p6, map: cidr6.map, entry: BlockEntry.ipv6Prefix)

    // The program looks every table written up, and walks CIDR4 for the new prefixes' /16s,
    // from before the inserts on, and again after them (SkipWords, PrefixSkipBitmap).
    let tablesWritten = Self.tables(v4.absent, v6.absent, p4.absent, p6.absent)
    try lookUp(tablesWritten, prefixes: p4.absent)
    defer { try? lookUp(tablesWritten, prefixes: p4.absent) }
    var written: [() -> Void] = []
    do {
      try store(v4.absent, entry: BlockEntry.ipv4, written: &written) { keys throws(MapError) in
        try blocklist.insert(contentsOf: keys.lazy.map { (key: $0.value, value: UInt32(0)) })
      } undo: { keys in _ = try? blocklist.removeAll(keys: keys.lazy.map(\.value)) }
      try store(v6.absent, entry: BlockEntry.ipv6, written: &written) { keys throws(MapError) in
        try blocklist6.insert(contentsOf: keys.lazy.map { (key: $0, value: UInt64(0)) })
      } undo: { keys in _ = try? blocklist6.removeAll(keys: keys) }
      try store(p4.absent, entry: BlockEntry.ipv4Prefix, written: &written) { keys throws(MapError) in
        try cidr4.insert(contentsOf: keys.lazy.map { (key: $0, value: UInt64(0)) })
      } undo: { keys in _ = try? cidr4.removeAll(keys: keys) }
      try store(p6.absent, entry: BlockEntry.ipv6Prefix, written: &written) { keys throws(MapError) in
        try cidr6.insert(contentsOf: keys.lazy.map { (key: $0, value: UInt64(0)) })
      } undo: { keys in _ = try? cidr6.removeAll(keys: keys) }
    } catch {
      for undo in written.reversed() { undo() }
      throw error
    }
    let unchanged = Self.entries(v4.present, v6.present, p4.present, p6.present)
    return BlocklistChange(entries: tables.order, unchanged: unchanged)
  }

  /// Removes every entry of `entries`, with one batch delete per table. Duplicates count
  /// once; entries that are not in the blocklist are reported in
  /// ``BlocklistChange/unchanged``. Tables left empty are marked so in the skip words; when a
  /// prefix left CIDR4, its /16 bitmap is recomputed.
  ///
  /// The corresponding bpf(2) commands are BPF_MAP_LOOKUP_BATCH (or BPF_MAP_LOOKUP_ELEM) and
  /// BPF_MAP_DELETE_BATCH, falling back to BPF_MAP_DELETE_ELEM where a table has no batch
  /// support.
  public func remove<S: Sequence>(contentsOf entries: S) throws(XDPBlockError) -> BlocklistChange
  where S.Element == BlockEntry {
    let tables = Tables(entries)
    let (v4, v6, p4, p6) = try find(tables)
    let count = v4.present.count + v6.present.count + p4.present.count + p6.present.count
    do {
      try blocklist.removeAll(keys: v4.present.lazy.map(\.value))
      try blocklist6.removeAll(keys: v6.present)
      try cidr4.removeAll(keys: p4.present)
      try cidr6.removeAll(keys: p6.present)
    } catch {
      throw .map(operation: "remove \(count) entries", error)
    }
    try markEmptyTables(Self.tables(v4.present, v6.present, p4.present, p6.present))
    let unchanged = Self.entries(v4.absent, v6.absent, p4.absent, p6.absent)
    return BlocklistChange(entries: tables.order, unchanged: unchanged)
  }

  // MARK: Helpers

  /// The entries of an input sorted into the four tables, each once.
  private struct Tables {
    var order: [BlockEntry] = []
    var ipv4: [IPv4Address] = []
    var ipv6: [IPv6Address] = []
    var prefix4: [IPv4Prefix] = []
    var prefix6: [IPv6Prefix] = []

    init<S: Sequence>(_ entries: S) where S.Element == BlockEntry {
      // One set per table: hashing the plain keys is cheaper than hashing BlockEntry.
      var seen4 = Set<IPv4Address>(), seen6 = Set<IPv6Address>()
      var seenP4 = Set<IPv4Prefix>(), seenP6 = Set<IPv6Prefix>()
      seen4.reserveCapacity(entries.underestimatedCount)
      for entry in entries {
        switch entry {
        case .ipv4(let address):
          guard seen4.insert(address).inserted else { continue }
          ipv4.append(address)
        case .ipv6(let address):
          guard seen6.insert(address).inserted else { continue }
          ipv6.append(address)
        case .ipv4Prefix(let prefix):
          guard seenP4.insert(prefix).inserted else { continue }
          prefix4.append(prefix)
        case .ipv6Prefix(let prefix):
          guard seenP6.insert(prefix).inserted else { continue }
          prefix6.append(prefix)
        }
        order.append(entry)
      }
    }
  }

  /// A table's keys split into those it holds and those it does not, and how many elements
  /// the table held when it was read whole (`nil` when it was asked key by key).
  private struct Found<Key> {
    var present: [Key] = []
    var absent: [Key] = []
    var stored: Int? = nil
  }

  /// Each table's keys split into present and absent.
  private func find(_ tables: Tables) throws(XDPBlockError)
    -> (Found<IPv4Address>, Found<IPv6Address>, Found<IPv4Prefix>, Found<IPv6Prefix>)
  {
    (try find(tables.ipv4, in: blocklist, key: \.value), try find(tables.ipv6, in: blocklist6, key: { $0 }),
     try find(tables.prefix4, in: cidr4), try find(tables.prefix6, in: cidr6))
  }

  /// The tables (BLOCKLIST, BLOCKLIST6, CIDR4, CIDR6) whose keys are not empty.
  private static func tables<A, B, C, D>(_ v4: [A], _ v6: [B], _ p4: [C], _ p6: [D]) -> [SkipWords.Table] {
    zip(SkipWords.Table.allCases, [v4.isEmpty, v6.isEmpty, p4.isEmpty, p6.isEmpty]).compactMap { $1 ? nil : $0 }
  }

  /// The entries of four tables' keys, as one set.
  private static func entries(
    _ v4: [IPv4Address], _ v6: [IPv6Address], _ p4: [IPv4Prefix], _ p6: [IPv6Prefix]
  ) -> Set<BlockEntry> {
    var entries = Set<BlockEntry>()
    entries.formUnion(v4.lazy.map(BlockEntry.ipv4))
    entries.formUnion(v6.lazy.map(BlockEntry.ipv6))
    entries.formUnion(p4.lazy.map(BlockEntry.ipv4Prefix))
    entries.formUnion(p6.lazy.map(BlockEntry.ipv6Prefix))
    return entries
  }

  /// Whether a table of `capacity` is read whole for `count` keys rather than key by key.
  private static func readsWhole(count: Int, capacity: Int) -> Bool {
    count > keyByKeyLimit && count * 8 >= capacity
  }

  private func find<Address: Hashable, Key: Hashable, Value>(
    _ addresses: [Address], in map: HashMap<Key, Value>, key: (Address) -> Key
  ) throws(XDPBlockError) -> Found<Address> {
    var found = Found<Address>()
    if addresses.isEmpty { return found }
    do {
      guard Self.readsWhole(count: addresses.count, capacity: map.map.maxEntries) else {
        for address in addresses {
          if try map.value(forKey: key(address)) != nil { found.present.append(address) } else { found.absent.append(address) }
        }
        return found
      }
      let stored = try map.lookupAll(batchSize: 4096)
      found.stored = stored.count
      if stored.isEmpty {
        found.absent = addresses
        return found
      }
      var keys = Set<Key>(minimumCapacity: stored.count)
      for element in stored { keys.insert(element.key) }
      for address in addresses {
        if keys.contains(key(address)) { found.present.append(address) } else { found.absent.append(address) }
      }
      return found
    } catch {
      throw .map(operation: "read \(map.map.name)", error)
    }
  }

  private func find<Address: Hashable>(
    _ prefixes: [LPMKey<Address>], in trie: LPMTrie<Address, UInt64>
  ) throws(XDPBlockError) -> Found<LPMKey<Address>> {
    var found = Found<LPMKey<Address>>()
    if prefixes.isEmpty { return found }
    do {
      guard Self.readsWhole(count: prefixes.count, capacity: trie.map.maxEntries) else {
        for prefix in prefixes {
          if try trie.contains(prefix) { found.present.append(prefix) } else { found.absent.append(prefix) }
        }
        return found
      }
      let stored = Set(try trie.keys())
      found.stored = stored.count
      for prefix in prefixes {
        if stored.contains(prefix) { found.present.append(prefix) } else { found.absent.append(prefix) }
      }
      return found
    } catch {
      throw .map(operation: "read \(trie.map.name)", error)
    }
  }

  /// Throws the table's "full" error when its absent keys do not fit next to the stored ones
  /// (known when the table was read whole; otherwise the kernel decides on insert).
  private func requireRoom<Key>(_ found: Found<Key>, map: BPFMap, entry: (Key) -> BlockEntry) throws(XDPBlockError) {
    guard let stored = found.stored, let first = found.absent.first,
      stored + found.absent.count > map.maxEntries
    else { return }
    throw XDPBlockError.insertError(.full(map: map.name), entry: entry(first), capacity: map.maxEntries)
  }

  /// Runs one table's batch insert of `keys`. On success, appends to `written` how to remove
  /// them again; on failure removes the ones the kernel had stored and throws the error
  /// ``add(_:)`` would for the key that failed.
  private func store<Key>(
    _ keys: [Key], entry: (Key) -> BlockEntry, written: inout [() -> Void],
    _ insert: ([Key]) throws(MapError) -> Void, undo: @escaping ([Key]) -> Void
  ) throws(XDPBlockError) {
    guard !keys.isEmpty else { return }
    do {
      try insert(keys)
      written.append { undo(keys) }
    } catch {
      var cause = error
      var failed = keys[0]
      if case .batchFailed(let completed, let underlying) = error {
        cause = underlying
        if completed > 0 { undo(Array(keys[0..<min(completed, keys.count)])) }
        if completed < keys.count { failed = keys[completed] }
      }
      let blocked = entry(failed)
      throw XDPBlockError.insertError(cause, entry: blocked, capacity: capacity(of: blocked))
    }
  }
}
