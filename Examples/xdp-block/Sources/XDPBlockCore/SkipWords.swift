import XDPKit

/// The firewall's skip words: `skip_table` in its `.bss` (firewall.h), one 32-bit word per
/// table, which the program reads before each lookup. Zero, as loaded, means "look the table
/// up"; non-zero means the table has been verified empty, and the program does not look it
/// up, which saves the lookup on every frame of a family whose tables are empty.
///
/// A word that says "empty" while its table holds entries lets blocked traffic pass, so the
/// words are kept conservatively, by every writer:
/// - ``lookUp(_:)`` (store 0) before inserting into a table, and again after the insert;
/// - ``markIfEmpty(_:_:)`` stores non-zero only after finding the table empty, then checks
///   again and stores 0 if an entry arrived meanwhile.
///
/// A writer that races a ``markIfEmpty(_:_:)`` cannot be overruled: its second store of 0
/// comes after its insert, and a mark stored after that store sees the entry on its second
/// check. Each word is stored alone, through the mmapped value (never the whole value
/// through bpf(2), which could undo another writer's 0); without a mapping (a kernel before
/// 5.5) the words are never set, and every table is looked up.
public struct SkipWords: Sendable {
  /// The firewall's tables, as indices of `skip_table` (firewall.h's `enum firewall_table`).
  public enum Table: UInt32, CaseIterable, Sendable {
    /// BLOCKLIST, exact IPv4 sources.
    case blocklist = 0
    /// BLOCKLIST6, exact IPv6 sources.
    case blocklist6 = 1
    /// CIDR4, IPv4 prefixes.
    case cidr4 = 2
    /// CIDR6, IPv6 prefixes.
    case cidr6 = 3

    /// The table that holds `entry`.
    public init(_ entry: BlockEntry) {
      switch entry {
      case .ipv4: self = .blocklist
      case .ipv6: self = .blocklist6
      case .ipv4Prefix: self = .cidr4
      case .ipv6Prefix: self = .cidr6
      }
    }
  }

  /// The name of the `.bss` map's pin in a state directory, next to the maps (bpffs refuses
  /// names with a dot).
  public static let pinName = "bss"
  /// The name the loader gives the `.bss` map in the kernel.
  public static let mapName = ".bss"

  /// The `.bss` map (one 16-byte value, BPF_F_MMAPABLE).
  public let map: BPFMap
  private let words: ArrayMap<InlineArray<4, UInt32>>

  /// The skip words of `map`, the firewall's `.bss` map: an array of one 16-byte value.
  /// Throws ``XDPBlockError/load(_:)`` for any other map.
  public init(_ map: BPFMap) throws(XDPBlockError) {
    guard map.maxEntries == 1 else {
      throw .load("\(map.name) is not the firewall's .bss: \(map.maxEntries) elements, not 1")
    }
    do { words = try ArrayMap(map) } catch {
      throw .load("\(map.name) is not the firewall's .bss (skip_table, 16 bytes): \(error)")
    }
    self.map = map
  }

  /// The word of `table` in the mmapped value, or `nil` when the map is not mmapped.
  private func word(_ table: Table) throws(XDPBlockError) -> UnsafeMutablePointer<UInt32>? {
    guard words.isMappable else { return nil }
    do {
      let value = try words.mutablePointer(at: 0)
      return UnsafeMutableRawPointer(value).assumingMemoryBound(to: UInt32.self) + Int(table.rawValue)
    } catch {
      throw .map(operation: "map the skip words (\(map.name))", error)
    }
  }

  /// Whether the program skips `table` (its word is non-zero).
  public func isSkipped(_ table: Table) throws(XDPBlockError) -> Bool {
    if let word = try word(table) { return word.pointee != 0 }
    do { return try words.value(at: 0)[Int(table.rawValue)] != 0 } catch {
      throw .map(operation: "read the skip words (\(map.name))", error)
    }
  }

  /// Makes the program look `table` up (stores 0 in its word): before an insert, and again
  /// after it. Always safe.
  public func lookUp(_ table: Table) throws(XDPBlockError) {
    guard let word = try word(table) else { return }
    word.pointee = 0
  }

  /// Lets the program skip `table` if `isEmpty` says it is empty: stores non-zero only after
  /// `isEmpty` answered `true`, then asks again and stores 0 if the table is no longer empty.
  /// Returns whether the word was left non-zero.
  @discardableResult
  public func markIfEmpty(_ table: Table, _ isEmpty: () throws(XDPBlockError) -> Bool) throws(XDPBlockError) -> Bool {
    guard let word = try word(table) else { return false }
    if word.pointee != 0 { return true }
    guard try isEmpty() else { return false }
    word.pointee = 1
    let stillEmpty: Bool
    do { stillEmpty = try isEmpty() } catch {
      word.pointee = 0
      throw error
    }
    if !stillEmpty { word.pointee = 0 }
    return stillEmpty
  }
}
