import XDPKit

/// The firewall's skip words: `skip_table` in its `.bss` (firewall.h), one 32-bit word per
/// table, which the program reads before each lookup. Zero, as loaded, means "look the table
/// up"; non-zero means the table has been verified empty, and the program does not look it
/// up, which saves the lookup on every frame of a family whose tables are empty. After them in
/// the same value, the ``PrefixSkipBitmap`` (``prefixBitmap``) lets the program skip CIDR4 for
/// the /16s no prefix covers.
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
///
/// The `.bss` of an older build (``olderValueSize``, skip_table alone) is accepted: its program
/// has no bitmap and walks CIDR4 for every source, so ``prefixBitmap`` is `nil` and nothing
/// is lost. A `.bss` of any other size is refused.
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
  /// The size of this build's `.bss` value: `skip_table` (16 bytes), then `cidr4_skip16`.
  public static let valueSize = PrefixSkipBitmap.byteOffset + PrefixSkipBitmap.byteCount
  /// The size of an older build's `.bss` value: `skip_table` alone.
  public static let olderValueSize = 16

  /// The `.bss` map (one value of ``valueSize`` bytes, or ``olderValueSize``; BPF_F_MMAPABLE).
  public let map: BPFMap
  /// The CIDR4 /16 bitmap, or `nil` for an older build's `.bss`, whose program has none.
  public let prefixBitmap: PrefixSkipBitmap?
  private let value: Value

  /// The `.bss` value, in either layout.
  private enum Value: Sendable {
    case current(ArrayMap<PrefixSkipBitmap.Value>)
    case older(ArrayMap<InlineArray<4, UInt32>>)
  }

  /// The skip words of `map`, the firewall's `.bss` map: an array of one value of
  /// ``valueSize`` bytes (or ``olderValueSize``, an older build's). Throws
  /// ``XDPBlockError/load(_:)`` for any other map, naming both sizes when it is the value's.
  public init(_ map: BPFMap) throws(XDPBlockError) {
    guard map.maxEntries == 1 else {
      throw .load("\(map.name) is not the firewall's .bss: \(map.maxEntries) elements, not 1")
    }
    switch map.valueSize {
    case Self.valueSize:
      let current: ArrayMap<PrefixSkipBitmap.Value>
      do { current = try ArrayMap(map) } catch { throw Self.notTheBSS(map, error) }
      value = .current(current)
      prefixBitmap = PrefixSkipBitmap(current)
    case Self.olderValueSize:
      do { value = .older(try ArrayMap(map)) } catch { throw Self.notTheBSS(map, error) }
      prefixBitmap = nil
    default:
      throw .load(
        "\(map.name) is not the firewall's .bss: its value is \(map.valueSize) bytes, not \(Self.valueSize) "
          + "(skip_table and cidr4_skip16), nor \(Self.olderValueSize) (an older build's skip_table alone)")
    }
    self.map = map
  }

  private static func notTheBSS(_ map: BPFMap, _ error: MapError) -> XDPBlockError {
    .load("\(map.name) is not the firewall's .bss (skip_table and cidr4_skip16): \(error)")
  }

  /// Whether the map is mmapped (the words can be stored).
  private var isMappable: Bool {
    switch value {
    case .current(let array): return array.isMappable
    case .older(let array): return array.isMappable
    }
  }

  /// The word of `table` in the mmapped value, or `nil` when the map is not mmapped.
  private func word(_ table: Table) throws(XDPBlockError) -> UnsafeMutablePointer<UInt32>? {
    guard isMappable else { return nil }
    do {
      let base: UnsafeMutableRawPointer
      switch value {
      case .current(let array): base = UnsafeMutableRawPointer(try array.mutablePointer(at: 0))
      case .older(let array): base = UnsafeMutableRawPointer(try array.mutablePointer(at: 0))
      }
      return base.assumingMemoryBound(to: UInt32.self) + Int(table.rawValue)
    } catch {
      throw .map(operation: "map the skip words (\(map.name))", error)
    }
  }

  /// Whether the program skips `table` (its word is non-zero).
  public func isSkipped(_ table: Table) throws(XDPBlockError) -> Bool {
    if let word = try word(table) { return word.pointee != 0 }
    do {
      switch value {
      case .current(let array):
        return withUnsafeBytes(of: try array.value(at: 0)) { $0.load(fromByteOffset: 4 * Int(table.rawValue), as: UInt32.self) } != 0
      case .older(let array): return try array.value(at: 0)[Int(table.rawValue)] != 0
      }
    } catch {
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
