import SystemPackage
import XDPKitObject
import XDPKitSys

/// A typed view of a per-CPU array map (`BPF_MAP_TYPE_PERCPU_ARRAY`): ``count`` elements
/// indexed by `UInt32`, each holding one `Value` per possible CPU.
///
/// Programs update their own CPU's value without locking; user space reads all of them and
/// usually adds them up (`sum(at:)`). The number of possible CPUs (from
/// `/sys/devices/system/cpu/possible`, which can exceed the CPUs online) is read when the
/// view is made and kept in ``possibleCPUCount``. `MemoryLayout<Value>.stride` must equal the
/// map's `value_size`; in the kernel's buffer each CPU's value takes that size rounded up to
/// 8 bytes.
///
/// `sum(at:)`, ``reduce(at:into:_:)``, ``set(_:at:)`` do not allocate; ``values(at:)``
/// returns an array and so allocates it. The view can be used from any number of tasks.
public struct PerCPUArray<Value: BitwiseCopyable>: Sendable {
  /// The map this view reads and writes.
  public let map: BPFMap
  /// The number of possible CPUs: how many values each element holds.
  public let possibleCPUCount: Int

  /// The map types this view handles.
  public static var supportedTypes: [BPFMapType] { [.perCPUArray] }

  /// Makes a view of `map`, checking its type and its key and value sizes and reading the
  /// number of possible CPUs.
  public init(_ map: BPFMap) throws(MapError) {
    try map.requireType(Self.supportedTypes)
    try map.requireKeySize(MemoryLayout<UInt32>.stride)
    try map.requireValueSize(MemoryLayout<Value>.stride)
    self.map = map
    self.possibleCPUCount = try map.possibleCPUs
  }

  /// The number of elements (`max_entries`).
  @inlinable
  public var count: Int { map.maxEntries }

  /// The values of every possible CPU at `index`, CPU 0 first.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  @inlinable
  public func values(at index: UInt32) throws(MapError) -> [Value] {
    try checkIndex(index)
    guard let values = try PerCPUAccess.values(
      map, key: index, cpus: possibleCPUCount, as: Value.self)
    else { throw .indexOutOfRange(map: map.name, index: index, count: count) }
    return values
  }

  /// Combines the values of every possible CPU at `index`, CPU 0 first, without allocating.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  @inlinable
  public func reduce<Result>(
    at index: UInt32, into initial: Result, _ combine: (inout Result, Value) -> Void
  ) throws(MapError) -> Result {
    try checkIndex(index)
    guard let result = try PerCPUAccess.reduce(
      map, key: index, cpus: possibleCPUCount, as: Value.self, into: initial, combine)
    else { throw .indexOutOfRange(map: map.name, index: index, count: count) }
    return result
  }

  /// Sets the value of each possible CPU at `index`: `values[cpu]` for CPU `cpu`.
  ///
  /// Throws ``MapError/cpuCountMismatch(map:expected:actual:)`` unless there is exactly one
  /// value per possible CPU.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  @inlinable
  public func setValues(_ values: [Value], at index: UInt32) throws(MapError) {
    try checkIndex(index)
    try PerCPUAccess.writeEach(
      map, key: index, values: values, cpus: possibleCPUCount, policy: .any)
  }

  /// Sets the value of every possible CPU at `index` to `value` (for example, zero to reset
  /// a counter).
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  @inlinable
  public func set(_ value: Value, at index: UInt32) throws(MapError) {
    try checkIndex(index)
    try PerCPUAccess.writeSame(map, key: index, value: value, cpus: possibleCPUCount, policy: .any)
  }

  @inlinable
  func checkIndex(_ index: UInt32) throws(MapError) {
    guard Int(index) < count else {
      throw .indexOutOfRange(map: map.name, index: index, count: count)
    }
  }
}

extension PerCPUArray where Value: AdditiveArithmetic {
  /// The sum of every possible CPU's value at `index`, without allocating.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  @inlinable
  public func sum(at index: UInt32) throws(MapError) -> Value {
    try reduce(at: index, into: Value.zero) { $0 += $1 }
  }
}

extension PerCPUArray where Value: FixedWidthInteger {
  /// The sum of every possible CPU's value at `index`, wrapping around on overflow as the
  /// counters themselves do, without allocating.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  @inlinable
  public func sum(at index: UInt32) throws(MapError) -> Value {
    // Fast path for the common stats case (counters of at most 8 bytes on up to 64 possible
    // CPUs): one fixed stack buffer and a plain loop, no closures.
    if MemoryLayout<Value>.stride <= 8 && possibleCPUCount <= 64 {
      try checkIndex(index)
      var buffer = PerCPUStackBuffer()
      var key = index
      let fd = map.fileDescriptor.rawValue
      let cpus = possibleCPUCount
      let outcome = withUnsafeMutableBytes(of: &buffer) { raw -> (Value?, SyscallError?) in
        switch BPF.lookupElement(map: fd, key: &key, value: raw.baseAddress!) {
        case .success:
          var total = Value.zero
          for cpu in 0..<cpus {
            total &+= raw.loadUnaligned(fromByteOffset: cpu &* 8, as: Value.self)
          }
          return (total, nil)
        case .failure(let error): return (nil, error)
        }
      }
      if let total = outcome.0 { return total }
      if let error = outcome.1, error.errno != .noSuchFileOrDirectory {
        throw .syscall(map: map.name, error)
      }
      throw .indexOutOfRange(map: map.name, index: index, count: count)
    }
    return try reduce(at: index, into: Value.zero) { $0 &+= $1 }
  }
}

/// 64 CPUs × 8 bytes: the kernel's per-CPU buffer for values of at most 8 bytes.
@usableFromInline
struct PerCPUStackBuffer {
  @usableFromInline
  var words: (SIMD32<UInt64>, SIMD32<UInt64>) = (.zero, .zero)

  @inlinable
  init() {}
}
