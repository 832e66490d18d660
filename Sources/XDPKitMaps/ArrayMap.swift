import SystemPackage
import XDPKitObject
import XDPKitSys

/// A typed view of an array map (`BPF_MAP_TYPE_ARRAY`): ``count`` values of type `Value`,
/// indexed by `UInt32` from 0, all present from the start (zeroed) and never removed.
///
/// `MemoryLayout<Value>.stride` must equal the map's `value_size` and the key size must be 4;
/// both are checked once, when the view is made. An index is checked against ``count``
/// before any call. ``value(at:)`` and ``set(_:at:)`` do not allocate; the view can be used
/// from any number of tasks at once.
public struct ArrayMap<Value: BitwiseCopyable>: Sendable {
  /// The map this view reads and writes.
  public let map: BPFMap

  /// The map types this view handles.
  public static var supportedTypes: [BPFMapType] { [.array] }

  /// Makes a view of `map`, checking its type and its key and value sizes. No call is made.
  public init(_ map: BPFMap) throws(MapError) {
    try map.requireType(Self.supportedTypes)
    try map.requireKeySize(MemoryLayout<UInt32>.stride)
    try map.requireValueSize(MemoryLayout<Value>.stride)
    self.map = map
  }

  /// The number of elements (`max_entries`).
  @inlinable
  public var count: Int { map.maxEntries }

  /// The value at `index`.
  ///
  /// Throws ``MapError/indexOutOfRange(map:index:count:)`` unless `index < count`.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  @inlinable
  public func value(at index: UInt32) throws(MapError) -> Value {
    try checkIndex(index)
    guard let value = try ElementAccess.lookup(map, key: index, as: Value.self) else {
      // An array has every index below max_entries; ENOENT cannot happen for them.
      throw .indexOutOfRange(map: map.name, index: index, count: count)
    }
    return value
  }

  /// Replaces the value at `index`.
  ///
  /// Throws ``MapError/indexOutOfRange(map:index:count:)`` unless `index < count`.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  @inlinable
  public func set(_ value: Value, at index: UInt32) throws(MapError) {
    try checkIndex(index)
    try ElementAccess.update(map, key: index, value: value, policy: .any)
  }

  /// Every value, index 0 first.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_BATCH; on a kernel without it,
  /// BPF_MAP_LOOKUP_ELEM per index.
  public func values(batchSize: Int = 1024) throws(MapError) -> [Value] {
    var values: [Value] = []
    values.reserveCapacity(count)
    let valueSize = map.valueSize
    let supported = try BatchAccess.lookupAll(
      map, valueByteCount: valueSize, batchSize: min(batchSize, max(count, 1))
    ) { _, buffer, batchCount in
      for index in 0..<batchCount {
        values.append((buffer + index * valueSize).loadUnaligned(as: Value.self))
      }
    }
    if supported { return values }
    values.removeAll(keepingCapacity: true)
    for index in 0..<UInt32(count) { values.append(try value(at: index)) }
    return values
  }

  @inlinable
  func checkIndex(_ index: UInt32) throws(MapError) {
    guard Int(index) < count else {
      throw .indexOutOfRange(map: map.name, index: index, count: count)
    }
  }
}
