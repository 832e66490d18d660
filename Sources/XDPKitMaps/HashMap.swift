import SystemPackage
import XDPKitObject
import XDPKitSys

/// A typed view of a hash map (`BPF_MAP_TYPE_HASH`) or an LRU hash map
/// (`BPF_MAP_TYPE_LRU_HASH`).
///
/// `Key` and `Value` are the Swift equivalents of the C types the program uses. Their sizes
/// are checked once, when the view is made: `MemoryLayout<Key>.stride` must equal the map's
/// `key_size` and `MemoryLayout<Value>.stride` its `value_size` (`stride`, because C's
/// `sizeof` includes tail padding and Swift's `size` does not). Tail padding of a key is sent
/// as zeros; padding *inside* a key is sent as it is in memory, so give such keys explicit
/// padding fields and set them to zero.
///
/// In an LRU hash map an insert into a full map evicts the least recently used element
/// instead of failing with ``MapError/full(map:)``; everything else behaves the same.
///
/// Single-element operations (``value(forKey:)``, ``update(_:forKey:policy:)``,
/// ``removeValue(forKey:)``, ``contains(_:)``) do not allocate. The view holds only the map,
/// so it can be copied and used from any number of tasks at once; each operation is one
/// bpf(2) call, atomic as the kernel makes it.
public struct HashMap<Key: BitwiseCopyable, Value: BitwiseCopyable>: Sendable {
  /// The map this view reads and writes.
  public let map: BPFMap

  /// The map types this view handles.
  public static var supportedTypes: [BPFMapType] { [.hash, .lruHash] }

  /// Makes a view of `map`, checking its type and its key and value sizes. No call is made.
  public init(_ map: BPFMap) throws(MapError) {
    try map.requireType(Self.supportedTypes)
    try map.requireKeySize(MemoryLayout<Key>.stride)
    try map.requireValueSize(MemoryLayout<Value>.stride)
    self.map = map
  }

  /// The value stored under `key`, or `nil` if there is none.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  @inlinable
  public func value(forKey key: Key) throws(MapError) -> Value? {
    try ElementAccess.lookup(map, key: key, as: Value.self)
  }

  /// Whether an element is stored under `key`.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  @inlinable
  public func contains(_ key: Key) throws(MapError) -> Bool {
    try ElementAccess.contains(map, key: key, valueByteCount: map.valueSize)
  }

  /// Stores `value` under `key`, adding the element or replacing the one there.
  ///
  /// Throws ``MapError/full(map:)`` when a new key does not fit (never for an LRU map).
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM (with BPF_ANY).
  @inlinable
  public func insert(_ value: Value, forKey key: Key) throws(MapError) {
    try ElementAccess.update(map, key: key, value: value, policy: .any)
  }

  /// Stores `value` under `key` as `policy` allows.
  ///
  /// Throws ``MapError/keyExists(map:)`` for ``UpdatePolicy/onlyNew`` when the key is
  /// present, ``MapError/keyNotFound(map:)`` for ``UpdatePolicy/onlyExisting`` when it is
  /// absent, and ``MapError/full(map:)`` when a new key does not fit.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  @inlinable
  public func update(_ value: Value, forKey key: Key, policy: UpdatePolicy = .any)
    throws(MapError)
  {
    try ElementAccess.update(map, key: key, value: value, policy: policy)
  }

  /// Removes the element stored under `key`. Returns whether there was one.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_DELETE_ELEM.
  @discardableResult
  @inlinable
  public func removeValue(forKey key: Key) throws(MapError) -> Bool {
    try ElementAccess.delete(map, key: key)
  }

  /// Removes the element stored under `key` and returns its value, in one step: a program
  /// cannot change the value between the read and the removal. `nil` if there was none.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_AND_DELETE_ELEM (Linux 5.14 and
  /// later for hash maps).
  @inlinable
  public func takeValue(forKey key: Key) throws(MapError) -> Value? {
    let fd = map.fileDescriptor.rawValue
    let result: Result<Value?, SyscallError> = ElementAccess.withBytes(
      of: key, byteCount: map.keySize
    ) { k in
      ElementAccess.withScratch(byteCount: MemoryLayout<Value>.stride) { v in
        switch BPF.lookupAndDeleteElement(map: fd, key: k, value: v) {
        case .success: return .success(v.loadUnaligned(as: Value.self))
        case .failure(let error) where error.errno == .noSuchFileOrDirectory: return .success(nil)
        case .failure(let error): return .failure(error)
        }
      }
    }
    switch result {
    case .success(let value): return value
    case .failure(let error): throw .syscall(map: map.name, error)
    }
  }

  // MARK: Iteration

  /// Every key in the map, each once, in the kernel's order.
  ///
  /// The walk tolerates concurrent changes: every key that is in the map for the whole walk
  /// is returned exactly once, keys added or removed meanwhile may or may not be, and no key
  /// is returned twice. If the map changes so fast that the walk keeps restarting, it throws
  /// ``MapError/iterationDidNotFinish(map:calls:)`` instead of looping.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_GET_NEXT_KEY, issued until `ENOENT`.
  public func keys() throws(MapError) -> [Key] {
    try KeyIteration.keys(map, as: Key.self)
  }

  /// Calls `body` with every key in the map, each once, as ``keys()`` finds them, without
  /// collecting them first.
  ///
  /// `body` runs between two BPF_MAP_GET_NEXT_KEY calls and may change the map, removing
  /// the key it was given for example; the guarantees of ``keys()`` hold. The walk remembers
  /// the keys it has passed (to skip repeats), so it allocates in proportion to the map.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_GET_NEXT_KEY, issued until `ENOENT`.
  public func forEachKey(_ body: (Key) throws(MapError) -> Void) throws(MapError) {
    try KeyIteration.forEachKey(map, as: Key.self, body)
  }

  /// Every element in the map, each once: the keys of ``keys()``, each with its value looked
  /// up right after. A key removed between the two calls is left out.
  ///
  /// The corresponding bpf(2) commands are BPF_MAP_GET_NEXT_KEY and BPF_MAP_LOOKUP_ELEM.
  public func entries() throws(MapError) -> [(key: Key, value: Value)] {
    var entries: [(key: Key, value: Value)] = []
    for key in try keys() {
      if let value = try value(forKey: key) { entries.append((key, value)) }
    }
    return entries
  }

  /// Whether the map holds no element, asked without walking it.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_GET_NEXT_KEY, once.
  public func isEmpty() throws(MapError) -> Bool {
    try KeyIteration.isEmpty(map)
  }

  /// The number of elements, counted by walking the keys as ``keys()`` does.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_GET_NEXT_KEY, issued until `ENOENT`.
  public func count() throws(MapError) -> Int {
    try KeyIteration.count(map)
  }
}
