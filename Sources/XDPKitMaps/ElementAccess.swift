import SystemPackage
import XDPKitObject
import XDPKitSys

// Single-element access shared by the typed views. Everything here works on stack memory:
// a key or value is passed to the kernel straight from the Swift value when its size equals
// its stride, and otherwise through a zeroed temporary of stride bytes (so that tail padding,
// which the kernel hashes and compares like any other key byte, is always zero). Results are
// read back from a temporary allocation, which the standard library places on the stack for
// the sizes maps use (and for larger ones whenever the thread's stack has room).

@usableFromInline
enum ElementAccess {
  /// Calls `body` with the address of `byteCount` bytes holding `value`, zero-padded to
  /// `max(byteCount, MemoryLayout<T>.stride)` bytes.
  @inlinable @inline(__always)
  static func withBytes<T: BitwiseCopyable, R>(
    of value: T, byteCount: Int, _ body: (UnsafeRawPointer) -> R
  ) -> R {
    if MemoryLayout<T>.size == MemoryLayout<T>.stride && byteCount <= MemoryLayout<T>.size {
      return withUnsafeBytes(of: value) { body($0.baseAddress!) }
    }
    let count = max(byteCount, MemoryLayout<T>.stride)
    return withUnsafeTemporaryAllocation(
      byteCount: count, alignment: max(MemoryLayout<T>.alignment, 8)
    ) { buffer in
      buffer.initializeMemory(as: UInt8.self, repeating: 0)
      buffer.baseAddress!.storeBytes(of: value, as: T.self)
      return body(UnsafeRawPointer(buffer.baseAddress!))
    }
  }

  /// Calls `body` with a zeroed scratch buffer of at least `byteCount` bytes, aligned to 8.
  @inlinable @inline(__always)
  static func withScratch<R>(byteCount: Int, _ body: (UnsafeMutableRawPointer) -> R) -> R {
    withUnsafeTemporaryAllocation(byteCount: max(byteCount, 8), alignment: 8) { buffer in
      buffer.initializeMemory(as: UInt8.self, repeating: 0)
      return body(buffer.baseAddress!)
    }
  }

  /// Looks up `key` and returns the value the kernel wrote, `nil` if the key is absent.
  /// `valueByteCount` is what the kernel writes (the value size); `Value`'s stride must not
  /// be smaller.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  @inlinable
  static func lookup<Key: BitwiseCopyable, Value: BitwiseCopyable>(
    _ map: BPFMap, key: Key, as _: Value.Type
  ) throws(MapError) -> Value? {
    let fd = map.fileDescriptor.rawValue
    let result: Result<Value?, SyscallError> = withBytes(of: key, byteCount: map.keySize) { k in
      withScratch(byteCount: max(map.valueSize, MemoryLayout<Value>.stride)) { v in
        switch BPF.lookupElement(map: fd, key: k, value: v) {
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

  /// Whether `key` is in the map: a lookup into a scratch buffer of `valueByteCount` bytes
  /// (the whole per-CPU buffer for per-CPU maps).
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  @inlinable
  static func contains<Key: BitwiseCopyable>(
    _ map: BPFMap, key: Key, valueByteCount: Int
  ) throws(MapError) -> Bool {
    let fd = map.fileDescriptor.rawValue
    let result = withBytes(of: key, byteCount: map.keySize) { k in
      withScratch(byteCount: valueByteCount) { v in BPF.lookupElement(map: fd, key: k, value: v) }
    }
    switch result {
    case .success: return true
    case .failure(let error) where error.errno == .noSuchFileOrDirectory: return false
    case .failure(let error): throw .syscall(map: map.name, error)
    }
  }

  /// Stores `value` under `key` with `policy`, mapping the kernel's refusals to
  /// ``MapError/full(map:)``, ``MapError/keyExists(map:)`` and ``MapError/keyNotFound(map:)``.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  @inlinable
  static func update<Key: BitwiseCopyable, Value: BitwiseCopyable>(
    _ map: BPFMap, key: Key, value: Value, policy: UpdatePolicy
  ) throws(MapError) {
    let fd = map.fileDescriptor.rawValue
    let flags = policy.flags
    let result = withBytes(of: key, byteCount: map.keySize) { k in
      withBytes(of: value, byteCount: map.valueSize) { v in
        BPF.updateElement(map: fd, key: k, value: v, flags: flags)
      }
    }
    if case .failure(let error) = result { throw updateError(error, map: map) }
  }

  /// Stores the `valueByteCount` bytes at `value` under `key`.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  @inlinable
  static func update<Key: BitwiseCopyable>(
    _ map: BPFMap, key: Key, rawValue value: UnsafeRawPointer, policy: UpdatePolicy
  ) throws(MapError) {
    let fd = map.fileDescriptor.rawValue
    let flags = policy.flags
    let result = withBytes(of: key, byteCount: map.keySize) { k in
      BPF.updateElement(map: fd, key: k, value: value, flags: flags)
    }
    if case .failure(let error) = result { throw updateError(error, map: map) }
  }

  /// Removes `key`; `false` if it was not there.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_DELETE_ELEM.
  @inlinable
  static func delete<Key: BitwiseCopyable>(_ map: BPFMap, key: Key) throws(MapError) -> Bool {
    let fd = map.fileDescriptor.rawValue
    let result = withBytes(of: key, byteCount: map.keySize) { k in
      BPF.deleteElement(map: fd, key: k)
    }
    switch result {
    case .success: return true
    case .failure(let error) where error.errno == .noSuchFileOrDirectory: return false
    case .failure(let error): throw .syscall(map: map.name, error)
    }
  }

  /// The error for a failed BPF_MAP_UPDATE_ELEM (or one element of BPF_MAP_UPDATE_BATCH).
  @inlinable
  static func updateError(_ error: SyscallError, map: BPFMap) -> MapError {
    // `==`, not `switch`: a `case .x:` pattern on an Errno picks swift-system's
    // `~=(Errno, any Error)`, which boxes the errno into an allocated error.
    let code = error.errno
    if code == .argListTooLong { return .full(map: map.name) }
    if code == .fileExists { return .keyExists(map: map.name) }
    if code == .noSuchFileOrDirectory { return .keyNotFound(map: map.name) }
    return .syscall(map: map.name, error)
  }
}

// MARK: - Checks made once, when a view is created

extension BPFMap {
  /// Throws ``MapError/wrongType(map:expected:actual:)`` unless the map's type is one of
  /// `types`.
  func requireType(_ types: [BPFMapType]) throws(MapError) {
    guard types.contains(type) else {
      throw .wrongType(map: name, expected: types, actual: type)
    }
  }

  /// Throws ``MapError/keySizeMismatch(map:expected:actual:)`` unless the key size is `size`.
  func requireKeySize(_ size: Int) throws(MapError) {
    guard keySize == size else {
      throw .keySizeMismatch(map: name, expected: keySize, actual: size)
    }
  }

  /// Throws ``MapError/valueSizeMismatch(map:expected:actual:)`` unless the value size is
  /// `size`.
  func requireValueSize(_ size: Int) throws(MapError) {
    guard valueSize == size else {
      throw .valueSizeMismatch(map: name, expected: valueSize, actual: size)
    }
  }
}
