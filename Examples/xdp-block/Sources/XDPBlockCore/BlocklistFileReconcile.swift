/// How the firewall's maps go from the entries they hold to the entries a blocklist file asks
/// for, without a moment in which a source that stays blocked is let through.
///
/// The rule: insert the new entries first, then remove the old ones. During a reload the
/// maps hold the union of both sets for a moment, never less than their intersection, so an
/// entry present before and after is never missing, and one that is only being added
/// blocks from its insert on. The price is room: each map must hold the union for a moment
/// (``Plan/peakCounts``).
///
/// This is pure: no map is touched. The caller applies ``Plan/insert`` (one batch update),
/// then ``Plan/remove`` (one batch delete).
public enum BlocklistReconcile {
  /// What to change, in order: every entry of ``insert``, then every entry of ``remove``.
  public struct Plan: Sendable, Equatable {
    /// Entries in `desired` but not in `current`, sorted (``BlockEntry`` order). Apply first.
    public var insert: [BlockEntry]
    /// Entries in `current` but not in `desired`, sorted. Apply after every insert succeeded.
    public var remove: [BlockEntry]
    /// For each firewall map (``BlockEntry/mapName``) that `current` or `desired` uses, how
    /// many entries it holds between the inserts and the removes (the union's share): it
    /// must fit the map's capacity, or the reload cannot keep the old entries while it adds.
    public var peakCounts: [String: Int]

    /// A plan with these fields, as ``BlocklistReconcile/plan(current:desired:)`` makes them.
    public init(insert: [BlockEntry], remove: [BlockEntry], peakCounts: [String: Int]) {
      self.insert = insert
      self.remove = remove
      self.peakCounts = peakCounts
    }

    /// Whether there is nothing to change.
    public var isEmpty: Bool { insert.isEmpty && remove.isEmpty }
  }

  /// The inserts and removes that take the maps from `current` to `desired`.
  public static func plan(current: Set<BlockEntry>, desired: Set<BlockEntry>) -> Plan {
    let insert = desired.subtracting(current).sorted()
    let remove = current.subtracting(desired).sorted()
    var peakCounts: [String: Int] = [:]
    for entry in current { peakCounts[entry.mapName, default: 0] += 1 }
    for entry in insert { peakCounts[entry.mapName, default: 0] += 1 }
    return Plan(insert: insert, remove: remove, peakCounts: peakCounts)
  }
}
