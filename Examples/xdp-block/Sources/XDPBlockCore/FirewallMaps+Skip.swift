import XDPKit

// The program's skip state, kept true by every write of FirewallMaps: the skip words of empty
// tables (SkipWords) and the CIDR4 /16 bitmap (PrefixSkipBitmap). Inserts clear first and
// again after; marks are set only from what the tables hold, checked twice.
extension FirewallMaps {
  /// Whether `table` holds no entry (one BPF_MAP_GET_NEXT_KEY).
  public func isEmpty(_ table: SkipWords.Table) throws(XDPBlockError) -> Bool {
    do {
      switch table {
      case .blocklist: return try blocklist.isEmpty()
      case .blocklist6: return try blocklist6.isEmpty()
      case .cidr4: return try cidr4.isEmpty()
      case .cidr6: return try cidr6.isEmpty()
      }
    } catch {
      throw .map(operation: "check whether \(Self.mapName(table)) is empty", error)
    }
  }

  /// Lets the program skip every one of `tables` that is empty (``SkipWords/markIfEmpty(_:_:)``);
  /// when CIDR4 is one of them, also recomputes its /16 bitmap (``recomputePrefixSkip()``).
  public func markEmptyTables(_ tables: some Sequence<SkipWords.Table> = SkipWords.Table.allCases) throws(XDPBlockError) {
    guard let skipWords else { return }
    var cidr4 = false
    for table in tables {
      try skipWords.markIfEmpty(table) { () throws(XDPBlockError) in try isEmpty(table) }
      if table == .cidr4 { cidr4 = true }
    }
    if cidr4 { try recomputePrefixSkip() }
  }

  /// Lets the program skip the CIDR4 walk for every /16 no prefix of CIDR4 covers
  /// (``PrefixSkipBitmap/recompute(_:)``, from two dumps of CIDR4). Returns how many /16s are
  /// skipped, or `nil` when the program has no bitmap (an older build's).
  ///
  /// The corresponding bpf(2) command is BPF_MAP_GET_NEXT_KEY, over CIDR4, twice.
  @discardableResult
  public func recomputePrefixSkip() throws(XDPBlockError) -> Int? {
    guard let bitmap = skipWords?.prefixBitmap else { return nil }
    return try bitmap.recompute { () throws(XDPBlockError) -> [IPv4Prefix] in
      do throws(MapError) { return try cidr4.keys() } catch {
        throw .map(operation: "read \(Name.cidr4)", error)
      }
    }
  }

  /// The tables the program skips (their skip word is non-zero) although they hold entries:
  /// traffic those entries block passes. xdp-block never leaves a word so; another writer of
  /// the pinned `.bss` can. One read of each word and, for a skipped table, one
  /// BPF_MAP_GET_NEXT_KEY.
  public func skippedTablesWithEntries() throws(XDPBlockError) -> [SkipWords.Table] {
    guard let skipWords else { return [] }
    var found: [SkipWords.Table] = []
    for table in SkipWords.Table.allCases where try skipWords.isSkipped(table) {
      if try !isEmpty(table) { found.append(table) }
    }
    return found
  }

  /// Makes the program look every one of `tables` up, and walk CIDR4 for every /16 of
  /// `prefixes`: before and after inserting into them.
  func lookUp(_ tables: some Sequence<SkipWords.Table>, prefixes: [IPv4Prefix] = []) throws(XDPBlockError) {
    guard let skipWords else { return }
    for table in tables { try skipWords.lookUp(table) }
    guard let bitmap = skipWords.prefixBitmap else { return }
    for prefix in prefixes { try bitmap.lookUp(prefix) }
  }

  /// The name of `table`'s map: "BLOCKLIST", "CIDR4", …
  public static func mapName(_ table: SkipWords.Table) -> String {
    switch table {
    case .blocklist: return Name.blocklist
    case .blocklist6: return Name.blocklist6
    case .cidr4: return Name.cidr4
    case .cidr6: return Name.cidr6
    }
  }
}
