import SystemPackage
import XDPKitObject
import XDPKitSys

/// A view of a map whose values are maps: an array of maps (`BPF_MAP_TYPE_ARRAY_OF_MAPS`,
/// `Key` is `UInt32`) or a hash of maps (`BPF_MAP_TYPE_HASH_OF_MAPS`).
///
/// User space stores an inner map by descriptor and reads back the inner map's id. Every
/// inner map must have the shape of the template map the outer map was created with (type,
/// key and value size, flags and, unless the template had `BPF_F_INNER_MAP`, max_entries).
public struct MapOfMaps<Key: BitwiseCopyable>: Sendable {
  /// The outer map.
  public let map: BPFMap

  /// The map types this view handles.
  public static var supportedTypes: [BPFMapType] { [.arrayOfMaps, .hashOfMaps] }

  /// Makes a view of `map`, checking its type and key size and that values are 4 bytes.
  public init(_ map: BPFMap) throws(MapError) {
    try map.requireType(Self.supportedTypes)
    try map.requireKeySize(MemoryLayout<Key>.stride)
    try map.requireValueSize(4)
    self.map = map
  }

  /// Stores `inner` under `key`, as `policy` allows.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  public func set(_ inner: BPFMap, forKey key: Key, policy: UpdatePolicy = .any) throws(MapError) {
    try set(innerMapFD: inner.fileDescriptor.rawValue, forKey: key, policy: policy)
  }

  /// Stores the map with descriptor `innerMapFD` under `key`, as `policy` allows. The
  /// descriptor must stay open for the duration of the call; the outer map takes its own
  /// reference to the inner map.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  public func set(innerMapFD: Int32, forKey key: Key, policy: UpdatePolicy = .any)
    throws(MapError)
  {
    try ElementAccess.update(map, key: key, value: innerMapFD, policy: policy)
  }

  /// The id of the inner map stored under `key`, or `nil` if there is none.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  public func innerMapID(forKey key: Key) throws(MapError) -> UInt32? {
    try ElementAccess.lookup(map, key: key, as: UInt32.self)
  }

  /// Opens the inner map stored under `key`, or returns `nil` if there is none (or it went
  /// away between the two calls).
  ///
  /// The corresponding bpf(2) commands are BPF_MAP_LOOKUP_ELEM, BPF_MAP_GET_FD_BY_ID and
  /// BPF_OBJ_GET_INFO_BY_FD.
  public func innerMap(forKey key: Key) throws(MapError) -> BPFMap? {
    guard let id = try innerMapID(forKey: key) else { return nil }
    do {
      return try BPFMap.open(id: id)
    } catch .noMapWithID(_) {
      return nil
    }
  }

  /// Removes the inner map stored under `key`. Returns whether there was one.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_DELETE_ELEM.
  @discardableResult
  public func removeValue(forKey key: Key) throws(MapError) -> Bool {
    try ElementAccess.delete(map, key: key)
  }

  /// Every key in the outer map, with the guarantees of ``HashMap/keys()``. For an array of
  /// maps these are all indices, occupied or not.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_GET_NEXT_KEY, issued until `ENOENT`.
  public func keys() throws(MapError) -> [Key] {
    try KeyIteration.keys(map, as: Key.self)
  }
}
