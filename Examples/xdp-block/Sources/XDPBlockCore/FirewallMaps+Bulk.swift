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
    for entry in entries where !unchanged.contains(entry) {
      if entry.isExact { addresses += 1 } else { prefixes += 1 }
    }
    return (addresses, prefixes)
  }
}

// Bulk changes go table by table with the batch map commands. Each table's present keys are
// found first (for a large input by reading the whole table with one batch lookup, for a small
// one key by key), so that an entry already blocked keeps its hit count and the result can say
// which entries changed. Every table is checked for room before anything is written.
extension FirewallMaps {
  /// Inputs larger than this read the whole table to learn which keys it holds; smaller ones
  /// look each key up.
  static let wholeTableThreshold = 64

  /// Adds every entry of `entries` with a hit count of zero, with one batch update per table.
  /// Duplicates count once; entries already blocked are left as they are (their hit counts
  /// stay) and reported in ``BlocklistChange/unchanged``.
  ///
  /// Throws ``XDPBlockError/blocklistFull(map:capacity:)`` or
  /// ``XDPBlockError/prefixListFull(map:capacity:)``, having added nothing, when the new
  /// entries do not fit into their tables.
  ///
  /// The corresponding bpf(2) commands are BPF_MAP_LOOKUP_BATCH (or BPF_MAP_LOOKUP_ELEM) and
  /// BPF_MAP_UPDATE_BATCH, falling back to BPF_MAP_UPDATE_ELEM where a table has no batch
  /// support.
  public func add<S: Sequence>(contentsOf entries: S) throws(XDPBlockError) -> BlocklistChange
  where S.Element == BlockEntry {
    let tables = Tables(entries)
    var present = Set<BlockEntry>()
    // Find what is there and check for room in every table before writing anything.
    let v4 = try presence(of: tables.ipv4, in: blocklist, key: \.value, entry: BlockEntry.ipv4, into: &present)
    let v6 = try presence(of: tables.ipv6, in: blocklist6, key: { $0 }, entry: BlockEntry.ipv6, into: &present)
    let p4 = try presence(of: tables.prefix4, in: cidr4, entry: BlockEntry.ipv4Prefix, into: &present)
    let p6 = try presence(of: tables.prefix6, in: cidr6, entry: BlockEntry.ipv6Prefix, into: &present)
    let fresh4 = tables.ipv4.filter { !present.contains(.ipv4($0)) }
    let fresh6 = tables.ipv6.filter { !present.contains(.ipv6($0)) }
    let freshP4 = tables.prefix4.filter { !present.contains(.ipv4Prefix($0)) }
    let freshP6 = tables.prefix6.filter { !present.contains(.ipv6Prefix($0)) }
    try requireRoom(v4, adding: fresh4.count, map: blocklist.map, example: fresh4.first.map(BlockEntry.ipv4))
    try requireRoom(v6, adding: fresh6.count, map: blocklist6.map, example: fresh6.first.map(BlockEntry.ipv6))
    try requireRoom(p4, adding: freshP4.count, map: cidr4.map, example: freshP4.first.map(BlockEntry.ipv4Prefix))
    try requireRoom(p6, adding: freshP6.count, map: cidr6.map, example: freshP6.first.map(BlockEntry.ipv6Prefix))

    try store(fresh4.map(BlockEntry.ipv4)) { () throws(MapError) in
      try blocklist.insert(contentsOf: fresh4.lazy.map { (key: $0.value, value: UInt32(0)) })
    }
    try store(fresh6.map(BlockEntry.ipv6)) { () throws(MapError) in
      try blocklist6.insert(contentsOf: fresh6.lazy.map { (key: $0, value: UInt64(0)) })
    }
    try store(freshP4.map(BlockEntry.ipv4Prefix)) { () throws(MapError) in
      try cidr4.insert(contentsOf: freshP4.lazy.map { (key: $0, value: UInt64(0)) })
    }
    try store(freshP6.map(BlockEntry.ipv6Prefix)) { () throws(MapError) in
      try cidr6.insert(contentsOf: freshP6.lazy.map { (key: $0, value: UInt64(0)) })
    }
    return BlocklistChange(entries: tables.order, unchanged: present)
  }

  /// Removes every entry of `entries`, with one batch delete per table. Duplicates count
  /// once; entries that are not in the blocklist are reported in
  /// ``BlocklistChange/unchanged``.
  ///
  /// The corresponding bpf(2) commands are BPF_MAP_LOOKUP_BATCH (or BPF_MAP_LOOKUP_ELEM) and
  /// BPF_MAP_DELETE_BATCH, falling back to BPF_MAP_DELETE_ELEM where a table has no batch
  /// support.
  public func remove<S: Sequence>(contentsOf entries: S) throws(XDPBlockError) -> BlocklistChange
  where S.Element == BlockEntry {
    let tables = Tables(entries)
    var present = Set<BlockEntry>()
    _ = try presence(of: tables.ipv4, in: blocklist, key: \.value, entry: BlockEntry.ipv4, into: &present)
    _ = try presence(of: tables.ipv6, in: blocklist6, key: { $0 }, entry: BlockEntry.ipv6, into: &present)
    _ = try presence(of: tables.prefix4, in: cidr4, entry: BlockEntry.ipv4Prefix, into: &present)
    _ = try presence(of: tables.prefix6, in: cidr6, entry: BlockEntry.ipv6Prefix, into: &present)
    do {
      try blocklist.removeAll(keys: tables.ipv4.filter { present.contains(.ipv4($0)) }.map(\.value))
      try blocklist6.removeAll(keys: tables.ipv6.filter { present.contains(.ipv6($0)) })
      try cidr4.removeAll(keys: tables.prefix4.filter { present.contains(.ipv4Prefix($0)) })
      try cidr6.removeAll(keys: tables.prefix6.filter { present.contains(.ipv6Prefix($0)) })
    } catch {
      throw .map(operation: "remove \(present.count) entries", error)
    }
    let absent = Set(tables.order.filter { !present.contains($0) })
    return BlocklistChange(entries: tables.order, unchanged: absent)
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
      var seen = Set<BlockEntry>()
      for entry in entries where seen.insert(entry).inserted {
        order.append(entry)
        switch entry {
        case .ipv4(let address): ipv4.append(address)
        case .ipv6(let address): ipv6.append(address)
        case .ipv4Prefix(let prefix): prefix4.append(prefix)
        case .ipv6Prefix(let prefix): prefix6.append(prefix)
        }
      }
    }
  }

  /// Inserts into `present` the entries of those `addresses` that `map` holds. Returns the
  /// number of elements in the map when it was read whole, else `nil`.
  private func presence<Address, Key: Hashable, Value>(
    of addresses: [Address], in map: HashMap<Key, Value>, key: (Address) -> Key,
    entry: (Address) -> BlockEntry, into present: inout Set<BlockEntry>
  ) throws(XDPBlockError) -> Int? {
    if addresses.isEmpty { return nil }
    do {
      if addresses.count <= Self.wholeTableThreshold {
        for address in addresses where try map.value(forKey: key(address)) != nil {
          present.insert(entry(address))
        }
        return nil
      }
      let stored = try map.lookupAll(batchSize: 4096)
      var keys = Set<Key>(minimumCapacity: stored.count)
      for element in stored { keys.insert(element.key) }
      for address in addresses where keys.contains(key(address)) { present.insert(entry(address)) }
      return stored.count
    } catch {
      throw .map(operation: "read \(map.map.name)", error)
    }
  }

  /// Inserts into `present` those of `prefixes` that `trie` holds exactly. Returns the number
  /// of prefixes in the trie when it was read whole, else `nil`.
  private func presence<Address: Hashable>(
    of prefixes: [LPMKey<Address>], in trie: LPMTrie<Address, UInt64>,
    entry: (LPMKey<Address>) -> BlockEntry, into present: inout Set<BlockEntry>
  ) throws(XDPBlockError) -> Int? {
    if prefixes.isEmpty { return nil }
    do {
      if prefixes.count <= Self.wholeTableThreshold {
        for prefix in prefixes where try trie.contains(prefix) { present.insert(entry(prefix)) }
        return nil
      }
      let stored = Set(try trie.keys())
      for prefix in prefixes where stored.contains(prefix) { present.insert(entry(prefix)) }
      return stored.count
    } catch {
      throw .map(operation: "read \(trie.map.name)", error)
    }
  }

  /// Throws the table's "full" error when `adding` more elements do not fit next to the
  /// `stored` ones (when the table was read whole; otherwise the kernel decides on insert).
  private func requireRoom(_ stored: Int?, adding count: Int, map: BPFMap, example: BlockEntry?) throws(XDPBlockError) {
    guard let stored, let example, stored + count > map.maxEntries else { return }
    throw XDPBlockError.insertError(.full(map: map.name), entry: example, capacity: map.maxEntries)
  }

  /// Runs one table's batch insert of `entries`, wording a failure as ``add(_:)`` does.
  private func store(_ entries: [BlockEntry], _ insert: () throws(MapError) -> Void) throws(XDPBlockError) {
    guard let first = entries.first else { return }
    do {
      try insert()
    } catch {
      var cause = error
      var failed = first
      if case .batchFailed(let completed, let underlying) = error {
        cause = underlying
        if completed < entries.count { failed = entries[completed] }
      }
      throw XDPBlockError.insertError(cause, entry: failed, capacity: capacity(of: failed))
    }
  }
}
