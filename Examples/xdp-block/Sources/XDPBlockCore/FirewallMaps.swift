import SystemPackage
import XDPKit

/// Packets and bytes counted for one XDP action: the C `struct action_stats` of firewall.h,
/// the value type of the STATS per-CPU array, as the build generates it from the program's BTF.
public typealias ActionStats = XDPFirewall.ActionStats

extension XDPFirewall.ActionStats: Equatable {
  /// Zero packets, zero bytes.
  public static let zero = ActionStats()

  /// The element-wise sum, wrapping as the kernel's counters do.
  public static func &+ (lhs: ActionStats, rhs: ActionStats) -> ActionStats {
    ActionStats(packets: lhs.packets &+ rhs.packets, bytes: lhs.bytes &+ rhs.bytes)
  }

  /// Equal packets and bytes.
  public static func == (lhs: ActionStats, rhs: ActionStats) -> Bool {
    lhs.packets == rhs.packets && lhs.bytes == rhs.bytes
  }
}

/// A blocklist entry with the number of packets it has dropped.
public struct BlockedEntry: Sendable, Equatable {
  /// The address or prefix.
  public var entry: BlockEntry
  /// Packets dropped because of this entry (the map value the program increments).
  public var hits: UInt64

  /// An entry with its hit count.
  public init(entry: BlockEntry, hits: UInt64) {
    self.entry = entry
    self.hits = hits
  }
}

/// The firewall's maps as typed views, and the operations the tool performs on them: add,
/// remove and list blocklist entries, read the statistics. Works the same whether the maps
/// come from a freshly loaded object (`run`, `demo`) or from pins (`add`, `list`, …).
///
/// The views are the generated ``XDPFirewall/Maps`` (from Programs/xdp_firewall.c's BTF, by
/// the build): BLOCKLIST (IPv4 source in host byte order → UInt32 hits), BLOCKLIST6 (16
/// address bytes → UInt64 hits), CIDR4 and CIDR6 (LPM tries → UInt64 hits), STATS (per-CPU
/// ``ActionStats`` indexed by XDP action) and EVENTS (ring buffer of ``DropEvent``s). Maps
/// opened from pins are checked against the program's definitions before use.
///
/// Next to the maps, the program's ``SkipWords`` (its `.bss`) tell it which tables are empty,
/// and their ``PrefixSkipBitmap`` which /16s no CIDR4 prefix covers. ``add(_:)``,
/// ``remove(_:)`` and their bulk forms keep both true; whoever writes a table through ``typed``
/// or the table views directly must call ``SkipWords/lookUp(_:)`` first (and
/// ``PrefixSkipBitmap/lookUp(_:)`` for a CIDR4 prefix), or ``recomputePrefixSkip()`` after.
public struct FirewallMaps: Sendable {
  /// The map names of the contract, from the generated ``XDPFirewall/MapName``.
  public enum Name {
    /// Exact IPv4 sources.
    public static let blocklist = XDPFirewall.MapName.blocklist.rawValue
    /// Exact IPv6 sources.
    public static let blocklist6 = XDPFirewall.MapName.blocklist6.rawValue
    /// IPv4 prefixes.
    public static let cidr4 = XDPFirewall.MapName.cidr4.rawValue
    /// IPv6 prefixes.
    public static let cidr6 = XDPFirewall.MapName.cidr6.rawValue
    /// Per-action statistics.
    public static let stats = XDPFirewall.MapName.stats.rawValue
    /// Drop events.
    public static let events = XDPFirewall.MapName.events.rawValue
    /// Every map of the program, in pin order: a persistent firewall pins them all (EVENT_BUDGET,
    /// the program's rate-limit state, too), and opening the pins checks each one.
    public static let required = XDPFirewall.MapName.allCases.map(\.rawValue)
  }

  /// The generated typed views.
  public let typed: XDPFirewall.Maps
  /// The program's skip words, or `nil` for a firewall without them (state pinned by an older
  /// build, whose program looks every table up).
  public let skipWords: SkipWords?
  /// Exact IPv6 sources, keyed by ``IPv6Address`` (the 16 bytes of `struct in6_key`).
  public let blocklist6: HashMap<IPv6Address, UInt64>

  /// Exact IPv4 sources, keyed by the address's numeric value (host byte order).
  public var blocklist: HashMap<UInt32, UInt32> { typed.blocklist }
  /// IPv4 prefixes.
  public var cidr4: LPMTrie<IPv4Address, UInt64> { typed.cidr4 }
  /// IPv6 prefixes.
  public var cidr6: LPMTrie<IPv6Address, UInt64> { typed.cidr6 }
  /// Per-action packet and byte counters, one set per CPU.
  public var stats: PerCPUArray<ActionStats> { typed.stats }
  /// The drop-event ring buffer.
  public var events: RingBuffer { typed.events }

  /// The tool's views over the generated ones, with the program's skip words (the `.bss`
  /// map) when it has them.
  public init(_ typed: XDPFirewall.Maps, skipWords: SkipWords?) throws(XDPBlockError) {
    self.typed = typed
    self.skipWords = skipWords
    do { blocklist6 = try HashMap(typed.blocklist6.map) } catch {
      throw .load("the firewall's maps do not match firewall.h: \(error)")
    }
  }

  /// Typed views over the maps of a loaded firewall object, and its skip words.
  public init(loaded: LoadedObject) throws(XDPBlockError) {
    let typed: XDPFirewall.Maps
    do { typed = try XDPFirewall.Maps(loaded) } catch {
      throw .load("the firewall's maps do not match firewall.h: \(error)")
    }
    let bss: BPFMap
    do { bss = try loaded.dataMap(SkipWords.mapName) } catch {
      throw .load("the firewall has no \(SkipWords.mapName) (its skip words): \(error)")
    }
    try self.init(typed, skipWords: SkipWords(bss))
  }

  /// Typed views over the maps pinned in `directory` (a state directory of ``StateStore``),
  /// each checked against the program's definition (type, key and value size, capacity).
  public init(pinnedIn directory: BPFFSDirectory) throws(XDPBlockError) {
    let typed: XDPFirewall.Maps
    do {
      typed = try XDPFirewall.Maps { name in try Self.openPinned(name, in: directory) }
    } catch let error as XDPBlockError {
      throw error
    } catch let error as MapError {
      throw .map(operation: "open the firewall's maps in \(directory.path)", error)
    } catch {
      // GeneratedMapError: a pin that is not the map firewall.h defines.
      throw .load("the maps pinned in \(directory.path) do not match firewall.h: \(error)")
    }
    // State pinned by an older build has no skip words: its program has none either.
    var skipWords: SkipWords? = nil
    do throws(XDPBlockError) { skipWords = try SkipWords(Self.openPinned(SkipWords.pinName, in: directory)) } catch {
      guard case .map(_, .noPinnedObject) = error else { throw error }
    }
    try self.init(typed, skipWords: skipWords)
  }

  private static func openPinned(_ name: String, in directory: BPFFSDirectory) throws(XDPBlockError) -> BPFMap {
    do throws(MapError) { return try Self.openPinnedMap(name, in: directory) } catch {
      if case .syscall(_, let e) = error, e.errno == .notPermitted || e.errno == .permissionDenied {
        throw .permissionDenied(operation: "open \(directory.pathOf(name))", detail: "\(e)")
      }
      throw .map(operation: "open \(directory.pathOf(name))", error)
    }
  }

  private static func openPinnedMap(_ name: String, in directory: BPFFSDirectory) throws(MapError) -> BPFMap {
    let fd: BPFFileDescriptor
    do { fd = try directory.openPinned(name, kind: .map) } catch let failure {
      switch failure {
      case .noSuchObject: throw .noPinnedObject(path: directory.pathOf(name))
      case .wrongKind: throw .notAMap(path: directory.pathOf(name))
      default: throw .pinning(failure)
      }
    }
    return try BPFMap(fileDescriptor: fd)
  }

  /// Every map of the program with its C name (``Name/required``'s order), then the skip
  /// words' `.bss` as ``SkipWords/pinName``, for pinning.
  public var all: [(name: String, map: BPFMap)] {
    typed.all + (skipWords.map { [(SkipWords.pinName, $0.map)] } ?? [])
  }

  // MARK: Entries

  /// Adds `entry` with a hit count of zero. Returns `false`, changing nothing (the hit count
  /// stays), when it is in the blocklist already.
  ///
  /// Throws ``XDPBlockError/blocklistFull(map:capacity:)`` or
  /// ``XDPBlockError/prefixListFull(map:capacity:)`` when its map is full.
  @discardableResult
  public func add(_ entry: BlockEntry) throws(XDPBlockError) -> Bool {
    // The program looks the table up from before the insert on; again after it, over a
    // concurrent mark that checked before the insert.
    let table = SkipWords.Table(entry)
    var prefixes: [IPv4Prefix] = []
    if case .ipv4Prefix(let prefix) = entry { prefixes = [prefix] }
    try lookUp([table], prefixes: prefixes)
    defer { try? lookUp([table], prefixes: prefixes) }
    do {
      switch entry {
      case .ipv4(let address): try blocklist.update(0, forKey: address.value, policy: .onlyNew)
      case .ipv6(let address): try blocklist6.update(0, forKey: address, policy: .onlyNew)
      case .ipv4Prefix(let prefix):
        if try cidr4.contains(prefix) { return false }
        try cidr4.insert(0, forKey: prefix)
      case .ipv6Prefix(let prefix):
        if try cidr6.contains(prefix) { return false }
        try cidr6.insert(0, forKey: prefix)
      }
      return true
    } catch {
      if case .keyExists = error { return false }
      throw XDPBlockError.insertError(error, entry: entry, capacity: capacity(of: entry))
    }
  }

  /// Removes `entry`. Returns whether it was there. A table left empty is marked so in the
  /// skip words; a prefix removed from CIDR4 has the /16 bitmap recomputed.
  @discardableResult
  public func remove(_ entry: BlockEntry) throws(XDPBlockError) -> Bool {
    let removed: Bool
    do {
      switch entry {
      case .ipv4(let address): removed = try blocklist.removeValue(forKey: address.value)
      case .ipv6(let address): removed = try blocklist6.removeValue(forKey: address)
      case .ipv4Prefix(let prefix): removed = try cidr4.removeValue(forKey: prefix)
      case .ipv6Prefix(let prefix): removed = try cidr6.removeValue(forKey: prefix)
      }
    } catch {
      throw .map(operation: "remove \(entry)", error)
    }
    if removed { try markEmptyTables([SkipWords.Table(entry)]) }
    return removed
  }

  /// Whether `entry` is in the blocklist (exactly this entry, not a prefix containing it).
  public func contains(_ entry: BlockEntry) throws(XDPBlockError) -> Bool {
    try hits(of: entry) != nil
  }

  /// The hit count of `entry`, or `nil` if it is not in the blocklist.
  public func hits(of entry: BlockEntry) throws(XDPBlockError) -> UInt64? {
    do {
      switch entry {
      case .ipv4(let address): return try blocklist.value(forKey: address.value).map(UInt64.init)
      case .ipv6(let address): return try blocklist6.value(forKey: address)
      case .ipv4Prefix(let prefix): return try cidr4.value(forKey: prefix)
      case .ipv6Prefix(let prefix): return try cidr6.value(forKey: prefix)
      }
    } catch {
      throw .map(operation: "look up \(entry)", error)
    }
  }

  /// Every entry with its hit count, sorted (IPv4 first, by address).
  public func entries() throws(XDPBlockError) -> [BlockedEntry] {
    var result: [BlockedEntry] = []
    do {
      for (key, hits) in try blocklist.lookupAll(batchSize: 4096) {
        result.append(BlockedEntry(entry: .ipv4(IPv4Address(key)), hits: UInt64(hits)))
      }
      for (key, hits) in try blocklist6.lookupAll(batchSize: 4096) {
        result.append(BlockedEntry(entry: .ipv6(key), hits: hits))
      }
      for (key, hits) in try cidr4.entries() {
        result.append(BlockedEntry(entry: Self.entry(key), hits: hits))
      }
      for (key, hits) in try cidr6.entries() {
        result.append(BlockedEntry(entry: Self.entry(key), hits: hits))
      }
    } catch {
      throw .map(operation: "list the blocklist", error)
    }
    return result.sorted { $0.entry < $1.entry }
  }

  /// How many addresses (exact entries) and prefixes the blocklist holds, counted without
  /// reading the hit counts.
  ///
  /// The corresponding bpf(2) commands are BPF_MAP_LOOKUP_BATCH for the hash maps and
  /// BPF_MAP_GET_NEXT_KEY for the tries.
  public func counts() throws(XDPBlockError) -> (addresses: Int, prefixes: Int) {
    do {
      let addresses = try blocklist.lookupAll(batchSize: 4096).count + blocklist6.lookupAll(batchSize: 4096).count
      let prefixes = try cidr4.count() + cidr6.count()
      return (addresses, prefixes)
    } catch {
      throw .map(operation: "count the blocklist", error)
    }
  }

  private static func entry(_ key: IPv4Prefix) -> BlockEntry {
    key.prefixLength == 32 ? .ipv4(key.address) : .ipv4Prefix(key)
  }

  private static func entry(_ key: IPv6Prefix) -> BlockEntry {
    key.prefixLength == 128 ? .ipv6(key.address) : .ipv6Prefix(key)
  }

  /// The capacity of the map `entry` goes to (`max_entries`).
  public func capacity(of entry: BlockEntry) -> Int {
    switch entry {
    case .ipv4: return blocklist.map.maxEntries
    case .ipv6: return blocklist6.map.maxEntries
    case .ipv4Prefix: return cidr4.map.maxEntries
    case .ipv6Prefix: return cidr6.map.maxEntries
    }
  }

  // MARK: Statistics

  /// The counters of every XDP action, summed over CPUs.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM, once per action.
  public func statistics() throws(XDPBlockError) -> FirewallStatistics {
    var perAction: [ActionStats] = []
    do {
      for action in 0..<UInt32(min(stats.count, FirewallStatistics.actionNames.count)) {
        perAction.append(try stats.reduce(at: action, into: ActionStats.zero) { $0 = $0 &+ $1 })
      }
    } catch {
      throw .map(operation: "read STATS", error)
    }
    return FirewallStatistics(perAction: perAction)
  }

  /// Drop events lost because the EVENTS ring was full when the program wrote them (no
  /// reader, or one too slow), summed over CPUs: the `lost` field of EVENT_BUDGET.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM on the per-CPU array.
  public func eventsLost() throws(XDPBlockError) -> UInt64 {
    do {
      return try typed.eventBudget.reduce(at: 0, into: UInt64(0)) { $0 = $0 &+ $1.lost }
    } catch {
      throw .map(operation: "read EVENT_BUDGET", error)
    }
  }
}
