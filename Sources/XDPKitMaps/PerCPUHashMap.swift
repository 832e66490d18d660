import SystemPackage
import XDPKitObject
import XDPKitSys

/// A typed view of a per-CPU hash map (`BPF_MAP_TYPE_PERCPU_HASH`) or an LRU per-CPU hash
/// map (`BPF_MAP_TYPE_LRU_PERCPU_HASH`): each key holds one `Value` per possible CPU.
///
/// Sizes are checked once, when the view is made, as for ``HashMap``; the number of possible
/// CPUs is read then too and kept in ``possibleCPUCount``. In the kernel's buffer each CPU's
/// value takes the value size rounded up to 8 bytes.
///
/// `sum(forKey:)`, ``reduce(forKey:into:_:)``, ``set(_:forKey:policy:)``,
/// ``removeValue(forKey:)`` and ``contains(_:)`` do not allocate; ``values(forKey:)`` returns
/// an array and so allocates it. The view can be used from any number of tasks.
public struct PerCPUHashMap<Key: BitwiseCopyable, Value: BitwiseCopyable>: Sendable {
  /// The map this view reads and writes.
  public let map: BPFMap
  /// The number of possible CPUs: how many values each key holds.
  public let possibleCPUCount: Int

  /// The map types this view handles.
  public static var supportedTypes: [BPFMapType] { [.perCPUHash, .lruPerCPUHash] }

  /// Makes a view of `map`, checking its type and its key and value sizes and reading the
  /// number of possible CPUs.
  public init(_ map: BPFMap) throws(MapError) {
    try map.requireType(Self.supportedTypes)
    try map.requireKeySize(MemoryLayout<Key>.stride)
    try map.requireValueSize(MemoryLayout<Value>.stride)
    self.map = map
    self.possibleCPUCount = try map.possibleCPUs
  }

  /// The values of every possible CPU for `key`, CPU 0 first, or `nil` if the key is absent.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  @inlinable
  public func values(forKey key: Key) throws(MapError) -> [Value]? {
    try PerCPUAccess.values(map, key: key, cpus: possibleCPUCount, as: Value.self)
  }

  /// Combines the values of every possible CPU for `key`, CPU 0 first, without allocating;
  /// `nil` if the key is absent.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  @inlinable
  public func reduce<Result>(
    forKey key: Key, into initial: Result, _ combine: (inout Result, Value) -> Void
  ) throws(MapError) -> Result? {
    try PerCPUAccess.reduce(
      map, key: key, cpus: possibleCPUCount, as: Value.self, into: initial, combine)
  }

  /// Whether an element is stored under `key`.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  @inlinable
  public func contains(_ key: Key) throws(MapError) -> Bool {
    try ElementAccess.contains(map, key: key, valueByteCount: map.valueStride * possibleCPUCount)
  }

  /// Stores `values[cpu]` for each possible CPU under `key`, as `policy` allows.
  ///
  /// Throws ``MapError/cpuCountMismatch(map:expected:actual:)`` unless there is exactly one
  /// value per possible CPU, and the policy errors of ``HashMap/update(_:forKey:policy:)``.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  @inlinable
  public func setValues(_ values: [Value], forKey key: Key, policy: UpdatePolicy = .any)
    throws(MapError)
  {
    try PerCPUAccess.writeEach(
      map, key: key, values: values, cpus: possibleCPUCount, policy: policy)
  }

  /// Stores `value` for every possible CPU under `key`, as `policy` allows.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  @inlinable
  public func set(_ value: Value, forKey key: Key, policy: UpdatePolicy = .any)
    throws(MapError)
  {
    try PerCPUAccess.writeSame(
      map, key: key, value: value, cpus: possibleCPUCount, policy: policy)
  }

  /// Removes the element stored under `key`. Returns whether there was one.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_DELETE_ELEM.
  @discardableResult
  @inlinable
  public func removeValue(forKey key: Key) throws(MapError) -> Bool {
    try ElementAccess.delete(map, key: key)
  }

  /// Every key in the map, each once, with the guarantees of ``HashMap/keys()``.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_GET_NEXT_KEY, issued until `ENOENT`.
  public func keys() throws(MapError) -> [Key] {
    try KeyIteration.keys(map, as: Key.self)
  }

  /// Calls `body` with every key in the map, each once, as ``HashMap/forEachKey(_:)`` does.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_GET_NEXT_KEY, issued until `ENOENT`.
  public func forEachKey(_ body: (Key) throws(MapError) -> Void) throws(MapError) {
    try KeyIteration.forEachKey(map, as: Key.self, body)
  }

  /// The number of elements, counted by walking the keys.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_GET_NEXT_KEY, issued until `ENOENT`.
  public func count() throws(MapError) -> Int {
    try KeyIteration.count(map)
  }

  /// Every element with the values of every possible CPU, read `batchSize` elements per call.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_BATCH; on a kernel without it,
  /// BPF_MAP_GET_NEXT_KEY and BPF_MAP_LOOKUP_ELEM per key.
  public func lookupAll(batchSize: Int = 256) throws(MapError) -> [(key: Key, values: [Value])] {
    var entries: [(key: Key, values: [Value])] = []
    let keySize = map.keySize
    let stride = map.valueStride
    let cpus = possibleCPUCount
    let elementSize = stride * cpus
    let supported = try BatchAccess.lookupAll(
      map, valueByteCount: elementSize, batchSize: batchSize
    ) { keys, values, count in
      for index in 0..<count {
        let element = values + index * elementSize
        var perCPU: [Value] = []
        perCPU.reserveCapacity(cpus)
        for cpu in 0..<cpus {
          perCPU.append((element + cpu * stride).loadUnaligned(as: Value.self))
        }
        entries.append(((keys + index * keySize).loadUnaligned(as: Key.self), perCPU))
      }
    }
    if supported { return entries }
    for key in try keys() {
      if let values = try values(forKey: key) { entries.append((key, values)) }
    }
    return entries
  }
}

extension PerCPUHashMap where Value: AdditiveArithmetic {
  /// The sum of every possible CPU's value for `key`, or `nil` if the key is absent; does
  /// not allocate.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  @inlinable
  public func sum(forKey key: Key) throws(MapError) -> Value? {
    try reduce(forKey: key, into: Value.zero) { $0 += $1 }
  }
}

extension PerCPUHashMap where Value: FixedWidthInteger {
  /// The sum of every possible CPU's value for `key`, wrapping around on overflow, or `nil`
  /// if the key is absent; does not allocate.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  @inlinable
  public func sum(forKey key: Key) throws(MapError) -> Value? {
    try reduce(forKey: key, into: Value.zero) { $0 &+= $1 }
  }
}
