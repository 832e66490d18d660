import SystemPackage
import XDPKitSys

// The value buffer of a per-CPU map: one slot per possible CPU, each slot the value size
// rounded up to 8 bytes, CPU 0 first. Lookups fill the whole buffer, updates read the whole
// buffer. Reads and writes go through a temporary allocation that the standard library
// places on the stack (always for buffers of up to 1 KiB, e.g. a UInt64 on 128 CPUs, and for
// larger ones when the thread's stack has room), so they do not allocate.

@usableFromInline
enum PerCPUAccess {
  /// Looks up `key` and calls `body` with the per-CPU value buffer; `nil` if the key is
  /// absent.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  @inlinable
  static func read<Key: BitwiseCopyable, R>(
    _ map: BPFMap, key: Key, cpus: Int, _ body: (UnsafeRawPointer) -> R
  ) throws(MapError) -> R? {
    let fd = map.fileDescriptor.rawValue
    let result: Result<R?, SyscallError> = ElementAccess.withBytes(
      of: key, byteCount: map.keySize
    ) { k in
      // Not zeroed first: on success the kernel writes every byte of the buffer (each CPU's
      // value rounded up to 8 bytes), and on failure it is not read.
      withUnsafeTemporaryAllocation(byteCount: max(map.valueStride * cpus, 8), alignment: 8) {
        buffer in
        let v = buffer.baseAddress!
        switch BPF.lookupElement(map: fd, key: k, value: v) {
        case .success: return .success(body(UnsafeRawPointer(v)))
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

  /// Combines the values of every CPU for `key`; `nil` if the key is absent.
  @inlinable
  static func reduce<Key: BitwiseCopyable, Value: BitwiseCopyable, Result>(
    _ map: BPFMap, key: Key, cpus: Int, as _: Value.Type, into initial: Result,
    _ combine: (inout Result, Value) -> Void
  ) throws(MapError) -> Result? {
    let stride = map.valueStride
    return try read(map, key: key, cpus: cpus) { buffer in
      var result = initial
      for cpu in 0..<cpus {
        combine(&result, (buffer + cpu * stride).loadUnaligned(as: Value.self))
      }
      return result
    }
  }

  /// The value of every CPU for `key`, CPU 0 first; `nil` if the key is absent.
  @inlinable
  static func values<Key: BitwiseCopyable, Value: BitwiseCopyable>(
    _ map: BPFMap, key: Key, cpus: Int, as _: Value.Type
  ) throws(MapError) -> [Value]? {
    try reduce(map, key: key, cpus: cpus, as: Value.self, into: [Value]()) { values, value in
      if values.isEmpty { values.reserveCapacity(cpus) }
      values.append(value)
    }
  }

  /// Stores a per-CPU buffer that `fill` writes (zeroed beforehand) under `key`.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  @inlinable
  static func write<Key: BitwiseCopyable>(
    _ map: BPFMap, key: Key, cpus: Int, policy: UpdatePolicy,
    _ fill: (UnsafeMutableRawPointer) -> Void
  ) throws(MapError) {
    let fd = map.fileDescriptor.rawValue
    let flags = policy.flags
    let result = ElementAccess.withBytes(of: key, byteCount: map.keySize) { k in
      ElementAccess.withScratch(byteCount: map.valueStride * cpus) { v in
        fill(v)
        return BPF.updateElement(map: fd, key: k, value: UnsafeRawPointer(v), flags: flags)
      }
    }
    if case .failure(let error) = result { throw ElementAccess.updateError(error, map: map) }
  }

  /// Stores `value` for every CPU under `key`.
  @inlinable
  static func writeSame<Key: BitwiseCopyable, Value: BitwiseCopyable>(
    _ map: BPFMap, key: Key, value: Value, cpus: Int, policy: UpdatePolicy
  ) throws(MapError) {
    let stride = map.valueStride
    try write(map, key: key, cpus: cpus, policy: policy) { buffer in
      for cpu in 0..<cpus { (buffer + cpu * stride).storeBytes(of: value, as: Value.self) }
    }
  }

  /// Stores `values[cpu]` for each CPU under `key`; `values` must have one value per CPU.
  @inlinable
  static func writeEach<Key: BitwiseCopyable, Value: BitwiseCopyable>(
    _ map: BPFMap, key: Key, values: [Value], cpus: Int, policy: UpdatePolicy
  ) throws(MapError) {
    guard values.count == cpus else {
      throw .cpuCountMismatch(map: map.name, expected: cpus, actual: values.count)
    }
    let stride = map.valueStride
    try write(map, key: key, cpus: cpus, policy: policy) { buffer in
      for cpu in 0..<cpus { (buffer + cpu * stride).storeBytes(of: values[cpu], as: Value.self) }
    }
  }
}
