import SystemPackage
import XDPKitObject
import XDPKitSys

/// A typed view of a longest-prefix-match trie (`BPF_MAP_TYPE_LPM_TRIE`): values stored
/// under prefixes (``LPMKey``), looked up by address, as routing tables and CIDR block lists
/// are.
///
/// ```swift
/// let trie = try LPMTrie<IPv4Address, UInt32>(map)
/// try trie.insert(1, forKey: IPv4Prefix("198.51.100.0/24"))
/// try trie.longestMatch(for: IPv4Address(parsing: "198.51.100.7"))   // 1
/// ```
///
/// The view checks once, when made, that the map's `key_size` is 4 plus the size of
/// `Address` and that `Address` starts at byte 4 of ``LPMKey`` (so 8 bytes for
/// ``IPv4Address``, 20 for ``IPv6Address``), and that `MemoryLayout<Value>.stride` is the
/// map's `value_size`. The kernel requires LPM tries to be created with `BPF_F_NO_PREALLOC`.
///
/// Single-element operations do not allocate. The view can be used from any number of tasks.
public struct LPMTrie<Address: BitwiseCopyable, Value: BitwiseCopyable>: Sendable {
  /// The trie's key type.
  public typealias Key = LPMKey<Address>

  /// The map this view reads and writes.
  public let map: BPFMap

  /// The map types this view handles.
  public static var supportedTypes: [BPFMapType] { [.lpmTrie] }

  /// The size of a key as the kernel sees it: 4 bytes of prefix length, then the address.
  static var kernelKeySize: Int {
    (MemoryLayout<Key>.offset(of: \Key.address) ?? MemoryLayout<Key>.stride)
      + MemoryLayout<Address>.size
  }

  /// Makes a view of `map`, checking its type and its key and value sizes. No call is made.
  public init(_ map: BPFMap) throws(MapError) {
    try map.requireType(Self.supportedTypes)
    try map.requireKeySize(Self.kernelKeySize)
    try map.requireValueSize(MemoryLayout<Value>.stride)
    self.map = map
  }

  /// The number of address bits: the longest prefix the trie accepts.
  @inlinable
  public var maximumPrefixLength: UInt32 { UInt32(truncatingIfNeeded: (map.keySize - 4) * 8) }

  /// The value of the longest stored prefix that contains `address`, or `nil` if none does.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM, with the address as a prefix
  /// of full length.
  @inlinable
  public func longestMatch(for address: Address) throws(MapError) -> Value? {
    let key = Key(prefixLength: maximumPrefixLength, address: address)
    return try ElementAccess.lookup(map, key: key, as: Value.self)
  }

  /// The value stored under exactly `prefix`, or `nil` if that prefix is not stored (even
  /// when a shorter prefix containing it is).
  ///
  /// The kernel's lookup always answers with the longest match, so exactness is checked with
  /// BPF_MAP_GET_NEXT_KEY: the trie walks its keys in a fixed order and answers a key it
  /// does not hold with its first key. Three calls, not atomic: a concurrent change to the
  /// trie between them can make the answer stale, as any lookup can be.
  ///
  /// The corresponding bpf(2) commands are BPF_MAP_LOOKUP_ELEM and BPF_MAP_GET_NEXT_KEY.
  @inlinable
  public func value(forKey prefix: Key) throws(MapError) -> Value? {
    try checkPrefix(prefix)
    guard let value = try ElementAccess.lookup(map, key: prefix, as: Value.self) else {
      return nil
    }
    return try isStored(prefix) ? value : nil
  }

  /// Whether exactly `prefix` is stored; see ``value(forKey:)``.
  ///
  /// The corresponding bpf(2) commands are BPF_MAP_LOOKUP_ELEM and BPF_MAP_GET_NEXT_KEY.
  @inlinable
  public func contains(_ prefix: Key) throws(MapError) -> Bool {
    try value(forKey: prefix) != nil
  }

  /// Stores `value` under `prefix`, adding it or replacing the value there.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM (with BPF_ANY).
  @inlinable
  public func insert(_ value: Value, forKey prefix: Key) throws(MapError) {
    try update(value, forKey: prefix, policy: .any)
  }

  /// Stores `value` under `prefix` as `policy` allows; see ``HashMap/update(_:forKey:policy:)``.
  ///
  /// Throws ``MapError/prefixLengthOutOfRange(map:prefixLength:maximum:)`` for a prefix
  /// longer than the address.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  @inlinable
  public func update(_ value: Value, forKey prefix: Key, policy: UpdatePolicy = .any)
    throws(MapError)
  {
    try checkPrefix(prefix)
    try ElementAccess.update(map, key: prefix, value: value, policy: policy)
  }

  /// Removes exactly `prefix` (not a shorter one containing it). Returns whether it was
  /// stored.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_DELETE_ELEM.
  @discardableResult
  @inlinable
  public func removeValue(forKey prefix: Key) throws(MapError) -> Bool {
    try checkPrefix(prefix)
    return try ElementAccess.delete(map, key: prefix)
  }

  /// Every stored prefix, each once, more specific prefixes before the shorter ones that
  /// contain them (the kernel's post-order), with the guarantees of ``HashMap/keys()``.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_GET_NEXT_KEY, issued until `ENOENT`.
  public func keys() throws(MapError) -> [Key] {
    try KeyIteration.keys(map, as: Key.self)
  }

  /// Every stored prefix with its value, as ``keys()`` orders them.
  ///
  /// The corresponding bpf(2) commands are BPF_MAP_GET_NEXT_KEY and BPF_MAP_LOOKUP_ELEM.
  public func entries() throws(MapError) -> [(key: Key, value: Value)] {
    var entries: [(key: Key, value: Value)] = []
    for key in try keys() {
      // A lookup of a stored prefix returns its own value.
      if let value = try ElementAccess.lookup(map, key: key, as: Value.self) {
        entries.append((key, value))
      }
    }
    return entries
  }

  /// Whether the map holds no element, asked without walking it.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_GET_NEXT_KEY, once.
  public func isEmpty() throws(MapError) -> Bool {
    try KeyIteration.isEmpty(map)
  }

  /// The number of stored prefixes, counted by walking the keys.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_GET_NEXT_KEY, issued until `ENOENT`.
  public func count() throws(MapError) -> Int {
    try KeyIteration.count(map)
  }

  @inlinable
  func checkPrefix(_ prefix: Key) throws(MapError) {
    guard prefix.prefixLength <= maximumPrefixLength else {
      throw .prefixLengthOutOfRange(
        map: map.name, prefixLength: prefix.prefixLength, maximum: maximumPrefixLength)
    }
  }

  /// Whether `prefix` is a node of the trie with a value. The trie's BPF_MAP_GET_NEXT_KEY
  /// answers a stored prefix with its successor (ENOENT for the last one) and any other key
  /// with the first key, which is never a successor; so `prefix` is stored exactly when the
  /// answer for it is ENOENT or differs from the answer for no key.
  @inlinable
  func isStored(_ prefix: Key) throws(MapError) -> Bool {
    let fd = map.fileDescriptor.rawValue
    let size = map.keySize
    let result: Result<Bool, SyscallError> = ElementAccess.withBytes(of: prefix, byteCount: size) {
      key in
      ElementAccess.withScratch(byteCount: 2 * size) { scratch in
        let afterPrefix = scratch
        let first = scratch + size
        switch BPF.nextKey(map: fd, after: key, into: afterPrefix) {
        case .success: break
        case .failure(let error) where error.errno == .noSuchFileOrDirectory: return .success(true)
        case .failure(let error): return .failure(error)
        }
        switch BPF.nextKey(map: fd, after: nil, into: first) {
        case .success:
          let a = UnsafeRawBufferPointer(start: afterPrefix, count: size)
          let b = UnsafeRawBufferPointer(start: first, count: size)
          return .success(!a.elementsEqual(b))
        case .failure(let error) where error.errno == .noSuchFileOrDirectory: return .success(false)
        case .failure(let error): return .failure(error)
        }
      }
    }
    switch result {
    case .success(let stored): return stored
    case .failure(let error): throw .syscall(map: map.name, error)
    }
  }
}
