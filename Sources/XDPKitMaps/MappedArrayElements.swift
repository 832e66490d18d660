/// The elements of a BPF_F_MMAPABLE array map, resolved once: every ``value(at:)`` and
/// ``set(_:at:)`` after that is an index check and a plain memory access, inlined into the
/// caller, with no lock, no lookup of the mapping and no system call. Get one from
/// ``ArrayMap/mappedElements()``.
///
/// ```swift
/// let counters = try ArrayMap<UInt64>(map).mappedElements()
/// let hits = try counters.value(at: 3)
/// ```
///
/// The handle keeps the values mapped for as long as it lives. Like ``ArrayMap/pointer(at:)``,
/// a plain read or write is not atomic for values wider than a machine word, and a
/// read-modify-write from Swift can lose the program's concurrent change: counters both sides
/// change go through ``ArrayMap/wrappingAdd(_:at:)``.
public struct MappedArrayElements<Value: BitwiseCopyable>: @unchecked Sendable {
  /// The number of elements (`max_entries`).
  public let count: UInt32
  /// The map's name, for errors.
  public let mapName: String
  /// Whether the values can be written: not for a frozen map or a map opened read-only.
  public var isWritable: Bool { writable }

  // Visible to inlined code: an access compiles to a compare and a load or a store in the
  // caller's module.
  @usableFromInline let base: UnsafeMutableRawPointer
  @usableFromInline let stride: Int
  @usableFromInline let writable: Bool
  /// Keeps the mapping alive: it is unmapped when the last owner goes.
  private let memory: ArrayMapMemory

  init(memory: ArrayMapMemory, count: UInt32, mapName: String) {
    self.memory = memory
    self.base = memory.base
    self.stride = memory.elementStride
    self.writable = memory.isWritable
    self.count = count
    self.mapName = mapName
  }

  /// The value at `index`. Throws ``MapError/indexOutOfRange(map:index:count:)`` unless
  /// `index < count`.
  @inlinable
  public func value(at index: UInt32) throws(MapError) -> Value {
    guard index < count else { throw .indexOutOfRange(map: mapName, index: index, count: Int(count)) }
    return (base + Int(index) &* stride).loadUnaligned(as: Value.self)
  }

  /// Stores `value` at `index`. Throws ``MapError/indexOutOfRange(map:index:count:)`` unless
  /// `index < count`, and ``MapError/readOnlyMapping(map:)`` when the values are mapped
  /// read-only.
  @inlinable
  public func set(_ value: Value, at index: UInt32) throws(MapError) {
    guard index < count else { throw .indexOutOfRange(map: mapName, index: index, count: Int(count)) }
    guard writable else { throw .readOnlyMapping(map: mapName) }
    (base + Int(index) &* stride).storeBytes(of: value, as: Value.self)
  }
}

extension ArrayMap {
  /// The map's elements as a ``MappedArrayElements`` handle: the mapping is looked up (and
  /// made, on first use) once, here, and each access after that is a memory access. Throws as
  /// ``pointer(at:)`` does for a map that cannot be mapped.
  public func mappedElements() throws(MapError) -> MappedArrayElements<Value> {
    try checkMappableAlignment()
    return MappedArrayElements(memory: try map.mappedMemory(), count: UInt32(count), mapName: map.name)
  }
}
