import SystemPackage
import XDPKitSys

// Batch operations of HashMap. They allocate heap buffers (see BatchAccess) and fall back to
// single-element commands where the kernel has no batch support for the map.
//
// The generic parts (gathering typed keys and values into the buffers, reading them back) are
// @inlinable so that they are specialized for the caller's Key and Value: unspecialized, every
// element went through the types' value witnesses, which made lookupAll() of a million
// elements about 15% slower than libbpf's bpf_map_lookup_batch (Documentation/Benchmarks.md).
// The system calls stay in BatchAccess, which is not inlined.

extension HashMap {
  /// Stores every element of `entries`, adding or replacing, in batches of up to 4,096.
  ///
  /// Throws ``MapError/batchFailed(completed:cause:)`` with the number of elements stored
  /// before the failure and its cause (for example ``MapError/full(map:)``).
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_BATCH; on a kernel without it,
  /// BPF_MAP_UPDATE_ELEM per element.
  @inlinable
  public func insert<C: Collection>(contentsOf entries: C) throws(MapError)
  where C.Element == (key: Key, value: Value) {
    try update(contentsOf: entries, policy: .any)
  }

  /// Stores every element of `entries` as `policy` allows, in batches of up to 4,096. The
  /// first refused element stops the operation; the ones before it stay stored.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_BATCH; on a kernel without it,
  /// BPF_MAP_UPDATE_ELEM per element.
  @inlinable
  public func update<C: Collection>(contentsOf entries: C, policy: UpdatePolicy = .any)
    throws(MapError)
  where C.Element == (key: Key, value: Value) {
    try BatchBuffers.update(
      map, entries: entries, valueByteCount: map.valueSize, policy: policy
    ) { value, destination in
      destination.storeBytes(of: value, as: Value.self)
    }
  }

  /// Every element in the map, read `batchSize` elements per call.
  ///
  /// Faster than ``entries()`` for large maps, and consistent per hash bucket: the kernel
  /// copies a whole bucket at once, so a concurrent change does not make it skip or repeat
  /// keys. `batchSize` is raised automatically when one bucket holds more elements. Without
  /// a `batchSize`, as many elements as fit 64 KiB of keys and values, from 256 to 4,096
  /// (4,096 for 4-byte keys and values): fewer calls for small elements, bounded buffers for
  /// large ones.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_BATCH; on a kernel without it,
  /// BPF_MAP_GET_NEXT_KEY and BPF_MAP_LOOKUP_ELEM as in ``entries()``.
  @inlinable
  public func lookupAll(batchSize: Int? = nil) throws(MapError) -> [(key: Key, value: Value)] {
    var entries: [(key: Key, value: Value)] = []
    let keySize = map.keySize
    let valueSize = map.valueSize
    let supported = try BatchAccess.lookupAll(
      map, valueByteCount: valueSize,
      batchSize: batchSize ?? BatchAccess.defaultBatchSize(elementBytes: keySize + valueSize)
    ) { keys, values, count in
      // No reserveCapacity(entries.count + count) here: reserving an exact size per batch
      // defeats the array's geometric growth and copies the whole array on every batch,
      // quadratic in the map's size. Appending grows it geometrically.
      for index in 0..<count {
        entries.append(
          ((keys + index * keySize).loadUnaligned(as: Key.self),
           (values + index * valueSize).loadUnaligned(as: Value.self)))
      }
    }
    return supported ? entries : try self.entries()
  }

  /// Removes the elements stored under `keys`, skipping keys that are not in the map.
  /// Returns how many elements were removed.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_DELETE_BATCH; on a kernel without it,
  /// BPF_MAP_DELETE_ELEM per key.
  @discardableResult
  @inlinable
  public func removeAll<C: Collection>(keys: C) throws(MapError) -> Int where C.Element == Key {
    try BatchBuffers.remove(map, keys: keys)
  }
}

/// Gathering typed keys and values into the contiguous, zero-padded buffers that batch
/// commands take.
@usableFromInline
enum BatchBuffers {
  /// Stores `entries` in chunks; `store` writes one value's `valueByteCount` bytes.
  @inlinable
  static func update<C: Collection, Key: BitwiseCopyable, Value>(
    _ map: BPFMap, entries: C, valueByteCount: Int, policy: UpdatePolicy,
    store: (Value, UnsafeMutableRawPointer) -> Void
  ) throws(MapError) where C.Element == (key: Key, value: Value) {
    let chunkSize = min(BatchAccess.chunkSize, max(entries.count, 1))
    let keys = BatchAccess.allocateZeroed(chunkSize * map.keySize)
    let values = BatchAccess.allocateZeroed(chunkSize * valueByteCount)
    defer {
      keys.deallocate()
      values.deallocate()
    }
    var completed = 0
    var iterator = entries.makeIterator()
    while true {
      var count = 0
      while count < chunkSize, let (key, value) = iterator.next() {
        // Zero first: a key's tail padding is hashed by the kernel.
        let keySlot = keys + count * map.keySize
        keySlot.initializeMemory(as: UInt8.self, repeating: 0, count: map.keySize)
        keySlot.storeBytes(of: key, as: Key.self)
        store(value, values + count * valueByteCount)
        count += 1
      }
      if count == 0 { return }
      try BatchAccess.update(
        map, keys: keys, values: values, count: count, valueByteCount: valueByteCount,
        policy: policy, completedBefore: completed)
      completed += count
    }
  }

  /// Removes `keys` in chunks. Returns how many elements were removed.
  @inlinable
  static func remove<C: Collection, Key: BitwiseCopyable>(_ map: BPFMap, keys: C)
    throws(MapError) -> Int where C.Element == Key
  {
    let chunkSize = min(BatchAccess.chunkSize, max(keys.count, 1))
    let buffer = BatchAccess.allocateZeroed(chunkSize * map.keySize)
    defer { buffer.deallocate() }
    var removed = 0
    var iterator = keys.makeIterator()
    while true {
      var count = 0
      while count < chunkSize, let key = iterator.next() {
        let slot = buffer + count * map.keySize
        slot.initializeMemory(as: UInt8.self, repeating: 0, count: map.keySize)
        slot.storeBytes(of: key, as: Key.self)
        count += 1
      }
      if count == 0 { return removed }
      removed += try BatchAccess.delete(map, keys: buffer, count: count)
    }
  }
}
