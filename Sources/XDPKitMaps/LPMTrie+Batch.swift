import SystemPackage
import XDPKitSys

// Batch operations of LPMTrie, over the same buffers and fallbacks as HashMap's (BatchAccess).
// Whether a trie takes the batch commands depends on the kernel: where it answers them as
// unsupported, the elements go one by one, so callers need not care.

extension LPMTrie {
  /// Stores every element of `entries`, adding or replacing, in batches of up to 4,096.
  ///
  /// Every prefix is checked against the address length first; nothing is stored if one is
  /// too long (``MapError/prefixLengthOutOfRange(map:prefixLength:maximum:)``). Throws
  /// ``MapError/batchFailed(completed:cause:)`` with the number of elements stored before a
  /// failure and its cause (for example ``MapError/full(map:)``).
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_BATCH; on a kernel without it for
  /// tries, BPF_MAP_UPDATE_ELEM per element.
  @inlinable
  public func insert<C: Collection>(contentsOf entries: C) throws(MapError)
  where C.Element == (key: Key, value: Value) {
    for entry in entries { try checkPrefix(entry.key) }
    try BatchBuffers.update(
      map, entries: entries, valueByteCount: map.valueSize, policy: .any
    ) { value, destination in
      destination.storeBytes(of: value, as: Value.self)
    }
  }

  /// Removes exactly the prefixes in `keys` (not shorter ones containing them), skipping
  /// prefixes that are not stored. Returns how many were removed.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_DELETE_BATCH; on a kernel without it for
  /// tries, BPF_MAP_DELETE_ELEM per key.
  @discardableResult
  @inlinable
  public func removeAll<C: Collection>(keys: C) throws(MapError) -> Int where C.Element == Key {
    for key in keys { try checkPrefix(key) }
    return try BatchBuffers.remove(map, keys: keys)
  }
}
