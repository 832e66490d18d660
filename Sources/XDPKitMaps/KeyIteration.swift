import SystemPackage
import XDPKitSys

// Walking a map's keys with BPF_MAP_GET_NEXT_KEY.
//
// The kernel answers "the key after K". When K is no longer in the map (another task or a
// program deleted it, or an LRU map evicted it), hash maps and LPM tries answer with their
// *first* key instead, so a naive walk starts over: it returns keys twice and, while the map
// keeps changing, may never end. Replacing an element in a hash map also moves it to the head
// of its bucket, which makes the walk revisit that bucket. The walk here therefore
//
// - remembers every key it has returned (by its bytes) and never returns one twice;
// - when the kernel answers with a key already returned and the cursor key is gone (a
//   restart), resumes after the most recently returned key that is still in the map (found
//   with BPF_MAP_LOOKUP_ELEM, looking back at most `resumeLookback` keys), so that deleting
//   keys while walking, the usual way to expire entries, costs a few calls per deletion
//   instead of a walk from the start; otherwise it goes on from the key the kernel gave, which
//   costs calls but loses nothing: every key that is in the map for the whole walk is
//   returned exactly once;
// - stops at the kernel's ENOENT (no key after the last), or throws
//   ``MapError/iterationDidNotFinish(map:calls:)`` after a budget of calls proportional to
//   `max_entries` (16 × (max_entries + 1), at least 4096): a map that keeps changing under
//   the cursor fails loudly instead of looping.
//
// Keys added or removed during the walk may or may not be returned.

/// A key's bytes, as a hashable value for duplicate detection. Keys of up to 16 bytes are
/// packed into two words; longer keys keep the rest in an array.
struct KeyBytes: Hashable {
  var low: UInt64 = 0
  var high: UInt64 = 0
  var rest: [UInt8] = []

  init(_ bytes: UnsafeRawPointer, count: Int) {
    let packed = min(count, 16)
    withUnsafeMutableBytes(of: &low) { word in
      word.copyMemory(from: UnsafeRawBufferPointer(start: bytes, count: min(packed, 8)))
    }
    if packed > 8 {
      withUnsafeMutableBytes(of: &high) { word in
        word.copyMemory(from: UnsafeRawBufferPointer(start: bytes + 8, count: packed - 8))
      }
    }
    if count > 16 {
      rest = Array(UnsafeRawBufferPointer(start: bytes + 16, count: count - 16))
    }
  }
}

enum KeyIteration {
  /// The most BPF_MAP_GET_NEXT_KEY calls one walk of `map` may make.
  static func callBudget(_ map: BPFMap) -> Int {
    let (product, overflow) = (map.maxEntries + 1).multipliedReportingOverflow(by: 16)
    return overflow ? Int.max : max(product, 4096)
  }

  /// How many returned keys a resume after a restart looks back through.
  static let resumeLookback = 64

  /// Calls `body` once for every distinct key of `map`, with a pointer to its `keySize`
  /// bytes (valid during the call, in a buffer of at least `minimumBufferSize` bytes).
  ///
  /// `body` runs between two BPF_MAP_GET_NEXT_KEY calls and may change the map (delete the
  /// key it was given, for example); an error it throws ends the walk.
  static func forEachKey(
    _ map: BPFMap, minimumBufferSize: Int = 0,
    _ body: (UnsafeRawPointer) throws(MapError) -> Void
  ) throws(MapError) {
    let fd = map.fileDescriptor.rawValue
    let keySize = map.keySize
    let slot = (max(keySize, minimumBufferSize, 1) + 7) & ~7
    let valueBytes = max((try? map.valueBufferSize) ?? map.valueSize, 8)
    let budget = callBudget(map)

    // Two key slots (cursor, answer) and a value buffer for existence checks.
    let buffer = BatchAccess.allocateZeroed(2 * slot + valueBytes)
    defer { buffer.deallocate() }
    let current = buffer
    let next = buffer + slot
    let value = buffer + 2 * slot
    var hasCurrent = false
    var calls = 0
    var seen = Set<KeyBytes>()
    var returned: [UInt8] = []  // the returned keys, back to back, in order

    /// Whether `key` is in the map; `nil` when the budget is spent. A failure other than
    /// ENOENT counts as present, which makes the walk go on from the kernel's answer.
    func isPresent(_ key: UnsafeRawPointer) -> Bool? {
      if calls == budget { return nil }
      calls += 1
      switch BPF.lookupElement(map: fd, key: key, value: value) {
      case .failure(let error) where error.errno == .noSuchFileOrDirectory: return false
      default: return true
      }
    }

    while true {
      if calls == budget { throw .iterationDidNotFinish(map: map.name, calls: calls) }
      calls += 1
      switch BPF.nextKey(map: fd, after: hasCurrent ? UnsafeRawPointer(current) : nil, into: next) {
      case .success:
        break
      case .failure(let error) where error.errno == .noSuchFileOrDirectory:
        return
      case .failure(let error):
        throw .syscall(map: map.name, error)
      }

      if seen.insert(KeyBytes(next, count: keySize)).inserted {
        returned.append(contentsOf: UnsafeRawBufferPointer(start: next, count: keySize))
        current.copyMemory(from: next, byteCount: slot)
        hasCurrent = true
        try body(UnsafeRawPointer(next))
        continue
      }

      // An answer already returned. If the cursor is gone, the kernel has started over:
      // resume after the latest returned key that is still there.
      if hasCurrent {
        guard let cursorPresent = isPresent(current) else { continue }
        if !cursorPresent {
          var resumed = false
          let count = returned.count / max(keySize, 1)
          var index = count - 1
          while !resumed && index >= 0 && index >= count - resumeLookback {
            resumed = returned.withUnsafeBytes { bytes in
              let candidate = bytes.baseAddress! + index * keySize
              guard isPresent(candidate) == true else { return false }
              current.copyMemory(from: candidate, byteCount: keySize)
              return true
            }
            index -= 1
          }
          if resumed { continue }
        }
      }
      current.copyMemory(from: next, byteCount: slot)
      hasCurrent = true
    }
  }

  /// Calls `body` with every distinct key of `map`, as a `Key`.
  static func forEachKey<Key: BitwiseCopyable>(
    _ map: BPFMap, as _: Key.Type, _ body: (Key) throws(MapError) -> Void
  ) throws(MapError) {
    try forEachKey(map, minimumBufferSize: MemoryLayout<Key>.stride) { (bytes) throws(MapError) in
      try body(bytes.loadUnaligned(as: Key.self))
    }
  }

  /// Every distinct key of `map`, as `Key` values, in the kernel's order.
  static func keys<Key: BitwiseCopyable>(_ map: BPFMap, as _: Key.Type) throws(MapError) -> [Key] {
    var keys: [Key] = []
    try forEachKey(map, minimumBufferSize: MemoryLayout<Key>.stride) { bytes in
      keys.append(bytes.loadUnaligned(as: Key.self))
    }
    return keys
  }

  /// Whether `map` holds no key: one BPF_MAP_GET_NEXT_KEY without a key, which answers the
  /// first key, or ENOENT when there is none.
  static func isEmpty(_ map: BPFMap) throws(MapError) -> Bool {
    let buffer = BatchAccess.allocateZeroed(max(map.keySize, 8))
    defer { buffer.deallocate() }
    switch BPF.nextKey(map: map.fileDescriptor.rawValue, after: nil, into: buffer) {
    case .success: return false
    case .failure(let error) where error.errno == .noSuchFileOrDirectory: return true
    case .failure(let error): throw .syscall(map: map.name, error)
    }
  }

  /// The number of distinct keys a walk of `map` finds.
  static func count(_ map: BPFMap) throws(MapError) -> Int {
    var count = 0
    try forEachKey(map) { _ in count += 1 }
    return count
  }
}
