import Synchronization

// Direct element access for an array map created with BPF_F_MMAPABLE (Linux 5.5+): the values
// are mmapped once, on first use, and every read or write after that is a memory access — no
// system call, no copy. The programs that use the map see a write at once. Counters that both
// sides change need atomics: a plain `+= 1` from Swift can lose a program's concurrent
// increment; `wrappingAdd(_:at:)` cannot (it is a locked add, like the program's
// `__sync_fetch_and_add`).
extension ArrayMap {
  /// Whether the map offers direct element access (created with BPF_F_MMAPABLE).
  public var isMappable: Bool { map.isMappable }

  /// A pointer to the value at `index` in the map's mmapped memory, for reading. Valid for as
  /// long as ``map`` is: the mapping is owned by the map and unmapped when it goes.
  ///
  /// Throws ``MapError/indexOutOfRange(map:index:count:)`` unless `index < count`,
  /// ``MapError/notMappable(map:reason:)`` for a map created without BPF_F_MMAPABLE, and
  /// ``MapError/syscall(map:_:)`` when mmap(2) fails (the first call maps the values).
  public func pointer(at index: UInt32) throws(MapError) -> UnsafePointer<Value> {
    UnsafePointer(try elementAddress(at: index, writing: false))
  }

  /// A pointer to the value at `index` for reading and writing; as ``pointer(at:)``, and
  /// throws ``MapError/readOnlyMapping(map:)`` when the values are mapped read-only (a frozen
  /// map, or a map opened read-only).
  public func mutablePointer(at index: UInt32) throws(MapError) -> UnsafeMutablePointer<Value> {
    try elementAddress(at: index, writing: true)
  }

  /// The value at `index`, read from the mmapped memory: no system call. Errors as
  /// ``pointer(at:)``.
  public func mappedValue(at index: UInt32) throws(MapError) -> Value {
    try pointer(at: index).pointee
  }

  /// Stores `value` at `index` in the mmapped memory: no system call. Errors as
  /// ``mutablePointer(at:)``. Not atomic for values larger than a machine word.
  public func setMapped(_ value: Value, at index: UInt32) throws(MapError) {
    try mutablePointer(at: index).pointee = value
  }

  /// Throws unless `Value` fits the kernel's 8-byte element alignment.
  func checkMappableAlignment() throws(MapError) {
    guard MemoryLayout<Value>.alignment <= 8 else {
      throw .notMappable(map: map.name, reason: "the Swift value type needs \(MemoryLayout<Value>.alignment)-byte alignment; elements are 8-byte aligned")
    }
  }

  func elementAddress(at index: UInt32, writing: Bool) throws(MapError) -> UnsafeMutablePointer<Value> {
    try checkIndex(index)
    try checkMappableAlignment()
    let memory = try map.mappedMemory()
    if writing && !memory.isWritable { throw .readOnlyMapping(map: map.name) }
    return (memory.base + Int(index) * memory.elementStride).assumingMemoryBound(to: Value.self)
  }
}

/// An integer type whose values in an mmapped array ``ArrayMap`` can change atomically
/// (`UInt64` and `UInt32`, the widths of the kernel's atomic adds).
public protocol MappedCounter: FixedWidthInteger, BitwiseCopyable {
  /// Adds `delta` to the counter at `address` (wrapping, sequentially consistent); the new value.
  static func atomicAdd(_ delta: Self, at address: UnsafeMutableRawPointer) -> Self
  /// Subtracts `delta` from the counter at `address` (wrapping); the new value.
  static func atomicSubtract(_ delta: Self, at address: UnsafeMutableRawPointer) -> Self
  /// The counter at `address`, read atomically.
  static func atomicLoad(at address: UnsafeMutableRawPointer) -> Self
}

extension UInt64: MappedCounter {
  public static func atomicAdd(_ delta: UInt64, at address: UnsafeMutableRawPointer) -> UInt64 {
    address.assumingMemoryBound(to: Atomic<UInt64>.self).pointee.wrappingAdd(delta, ordering: .sequentiallyConsistent).newValue
  }
  public static func atomicSubtract(_ delta: UInt64, at address: UnsafeMutableRawPointer) -> UInt64 {
    address.assumingMemoryBound(to: Atomic<UInt64>.self).pointee.wrappingSubtract(delta, ordering: .sequentiallyConsistent).newValue
  }
  public static func atomicLoad(at address: UnsafeMutableRawPointer) -> UInt64 {
    address.assumingMemoryBound(to: Atomic<UInt64>.self).pointee.load(ordering: .sequentiallyConsistent)
  }
}

extension UInt32: MappedCounter {
  public static func atomicAdd(_ delta: UInt32, at address: UnsafeMutableRawPointer) -> UInt32 {
    address.assumingMemoryBound(to: Atomic<UInt32>.self).pointee.wrappingAdd(delta, ordering: .sequentiallyConsistent).newValue
  }
  public static func atomicSubtract(_ delta: UInt32, at address: UnsafeMutableRawPointer) -> UInt32 {
    address.assumingMemoryBound(to: Atomic<UInt32>.self).pointee.wrappingSubtract(delta, ordering: .sequentiallyConsistent).newValue
  }
  public static func atomicLoad(at address: UnsafeMutableRawPointer) -> UInt32 {
    address.assumingMemoryBound(to: Atomic<UInt32>.self).pointee.load(ordering: .sequentiallyConsistent)
  }
}

extension ArrayMap where Value: MappedCounter {
  /// Atomically adds `delta` to the counter at `index` (wrapping) and returns the new value.
  /// Safe against the program's own atomic adds on the same element.
  ///
  /// Errors as ``mutablePointer(at:)``.
  @discardableResult
  public func wrappingAdd(_ delta: Value, at index: UInt32) throws(MapError) -> Value {
    Value.atomicAdd(delta, at: UnsafeMutableRawPointer(try elementAddress(at: index, writing: true)))
  }

  /// Atomically subtracts `delta` from the counter at `index` (wrapping) and returns the new
  /// value. Errors as ``mutablePointer(at:)``.
  @discardableResult
  public func wrappingSubtract(_ delta: Value, at index: UInt32) throws(MapError) -> Value {
    Value.atomicSubtract(delta, at: UnsafeMutableRawPointer(try elementAddress(at: index, writing: true)))
  }

  /// The counter at `index`, read atomically. Errors as ``pointer(at:)``.
  public func atomicValue(at index: UInt32) throws(MapError) -> Value {
    Value.atomicLoad(at: UnsafeMutableRawPointer(try elementAddress(at: index, writing: false)))
  }
}
