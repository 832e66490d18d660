import Synchronization
import XDPKit

/// The firewall's /16 bitmap of CIDR4: `cidr4_skip16` in its `.bss` (firewall.h), after the
/// skip words. One bit per /16 of the IPv4 space: the /16 `s` (the source's first two octets,
/// `a << 8 | b`) is bit `s % 64` of 64-bit word `s / 64`. The program reads the bit of an IPv4
/// source's /16 before it walks the CIDR4 trie. Zero, as loaded, means "look CIDR4 up"; a set
/// bit means no CIDR4 prefix covers that /16 (verified by user space), and the program does not
/// walk the trie for it. A blocklist of prefixes covers few of the 65,536 /16s, so most IPv4
/// sources that are not blocked skip the walk.
///
/// A set bit whose /16 a prefix covers lets blocked traffic pass, so the bits are kept as
/// conservatively as the skip words:
/// - ``lookUp(_:)`` clears every bit a prefix covers (a /8 covers 256 /16s, a /0 all 65,536)
///   before the prefix is inserted into CIDR4, and again after the insert;
/// - ``recompute(_:)`` sets bits only from a dump of CIDR4 that no prefix covers them in, then
///   dumps CIDR4 again and clears every bit a prefix now covers.
///
/// A remove needs nothing (the bits it could set stay clear, which only costs walks) until the
/// next ``recompute(_:)``. Every change is an atomic operation on one 64-bit word of the
/// mmapped value, never the whole value through bpf(2), which could undo another writer's clear.
/// Without a mapping (a kernel before 5.5) no bit is ever set, and every source is looked up.
public struct PrefixSkipBitmap: Sendable {
  /// The bitmap's 64-bit words: 65,536 /16s.
  public static let wordCount = 1024
  /// The bitmap's size in bytes.
  public static let byteCount = wordCount * 8
  /// The byte offset of `cidr4_skip16` in the `.bss` value: after `__u32 skip_table[4]`.
  public static let byteOffset = 16

  /// The `.bss` value of this build's program: skip_table and cidr4_skip16, as 64-bit words.
  typealias Value = InlineArray<1026, UInt64>

  private let value: ArrayMap<Value>

  init(_ value: ArrayMap<Value>) {
    self.value = value
  }

  // MARK: The /16s of a prefix

  /// The /16s `prefix` covers, as indices `a << 8 | b`: one for a prefix of 16 bits or more,
  /// 2^(16 − length) for a shorter one (256 for a /8, all 65,536 for a /0). Address bits after
  /// the prefix length are ignored, as the trie ignores them.
  public static func slash16s(of prefix: IPv4Prefix) -> ClosedRange<Int> {
    let first = Int(prefix.address.value >> 16)
    guard prefix.prefixLength < 16 else { return first...first }
    let span = 1 << (16 - Int(prefix.prefixLength))
    let start = first & ~(span - 1)
    return start...(start + span - 1)
  }

  /// Calls `body` with each word of the bitmap that `slash16s` touches and the mask of its
  /// bits in the range.
  static func forEachWord(_ slash16s: ClosedRange<Int>, _ body: (_ word: Int, _ mask: UInt64) -> Void) {
    for word in (slash16s.lowerBound / 64)...(slash16s.upperBound / 64) {
      let low = max(slash16s.lowerBound, word * 64) - word * 64
      let high = min(slash16s.upperBound, word * 64 + 63) - word * 64
      let ones: UInt64 = high - low == 63 ? ~0 : (UInt64(1) << UInt64(high - low + 1)) - 1
      body(word, ones << UInt64(low))
    }
  }

  /// The bitmap with a bit set for every /16 that none of `prefixes` covers: ``wordCount``
  /// words.
  public static func uncovered(by prefixes: some Sequence<IPv4Prefix>) -> [UInt64] {
    var words = [UInt64](repeating: ~0, count: wordCount)
    for prefix in prefixes {
      forEachWord(slash16s(of: prefix)) { word, mask in words[word] &= ~mask }
    }
    return words
  }

  // MARK: The mapped bitmap

  /// The first word of the mmapped bitmap, or `nil` when the map is not mmapped.
  private func words() throws(XDPBlockError) -> UnsafeMutablePointer<Atomic<UInt64>>? {
    guard value.isMappable else { return nil }
    do {
      let base = UnsafeMutableRawPointer(try value.mutablePointer(at: 0))
      return (base + Self.byteOffset).assumingMemoryBound(to: Atomic<UInt64>.self)
    } catch {
      throw .map(operation: "map the CIDR4 /16 bitmap (\(value.map.name))", error)
    }
  }

  /// The bitmap's words as the program reads them.
  public func bits() throws(XDPBlockError) -> [UInt64] {
    if let words = try words() {
      return (0..<Self.wordCount).map { words[$0].load(ordering: .sequentiallyConsistent) }
    }
    let whole: Value
    do { whole = try value.value(at: 0) } catch {
      throw .map(operation: "read the CIDR4 /16 bitmap (\(value.map.name))", error)
    }
    return (0..<Self.wordCount).map { whole[Self.byteOffset / 8 + $0] }
  }

  /// Whether the program skips CIDR4 for sources in the /16 `slash16` (`a << 8 | b`; every
  /// `UInt16` names one, so there is no index to refuse).
  public func isSkipped(slash16: UInt16) throws(XDPBlockError) -> Bool {
    let slash16 = Int(slash16)
    let word: UInt64
    if let words = try words() {
      word = words[slash16 / 64].load(ordering: .sequentiallyConsistent)
    } else {
      word = try bits()[slash16 / 64]
    }
    return word & (UInt64(1) << UInt64(slash16 % 64)) != 0
  }

  /// How many /16s the program skips CIDR4 for.
  public func skippedCount() throws(XDPBlockError) -> Int {
    try bits().reduce(0) { $0 + $1.nonzeroBitCount }
  }

  /// Makes the program walk CIDR4 for every /16 `prefix` covers (clears their bits): before
  /// inserting `prefix`, and again after the insert. Always safe.
  public func lookUp(_ prefix: IPv4Prefix) throws(XDPBlockError) {
    guard let words = try words() else { return }
    Self.forEachWord(Self.slash16s(of: prefix)) { word, mask in
      words[word].bitwiseAnd(~mask, ordering: .sequentiallyConsistent)
    }
  }

  /// Makes the program walk CIDR4 for every source (clears every bit). Always safe.
  public func lookUpAll() throws(XDPBlockError) {
    guard let words = try words() else { return }
    for word in 0..<Self.wordCount { words[word].store(0, ordering: .sequentiallyConsistent) }
  }

  /// Sets the bit of every /16 that no prefix of CIDR4 covers, and clears the others: from
  /// `dump` (every prefix CIDR4 holds), then from a second `dump`, after the stores, which
  /// clears the bits of /16s a prefix inserted meanwhile covers. Returns how many /16s are
  /// left skipped.
  ///
  /// A writer that inserts a prefix concurrently cannot be overruled: its second clear comes
  /// after its insert, and a store that comes after that clear is followed by the second dump,
  /// which holds the prefix. Should the second dump fail, every bit is cleared.
  @discardableResult
  public func recompute(_ dump: () throws(XDPBlockError) -> [IPv4Prefix]) throws(XDPBlockError) -> Int {
    guard let words = try words() else { return 0 }
    let first = Self.uncovered(by: try dump())
    for word in 0..<Self.wordCount { words[word].store(first[word], ordering: .sequentiallyConsistent) }
    let second: [UInt64]
    do { second = Self.uncovered(by: try dump()) } catch {
      try lookUpAll()
      throw error
    }
    var skipped = 0
    for word in 0..<Self.wordCount {
      let kept = first[word] & second[word]
      if kept != first[word] { words[word].bitwiseAnd(second[word], ordering: .sequentiallyConsistent) }
      skipped += kept.nonzeroBitCount
    }
    return skipped
  }
}
