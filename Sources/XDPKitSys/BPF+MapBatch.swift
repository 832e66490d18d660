import CXDPKit
import SystemPackage

/// The `elem_flags` of the batch commands.
///
/// Unlike BPF_MAP_UPDATE_ELEM, the batch commands accept no `BPF_NOEXIST` or `BPF_EXIST`
/// (the kernel answers `EINVAL`): a batch update stores every element as `BPF_ANY` does.
public struct MapBatchFlags: OptionSet, Hashable, Sendable {
  public var rawValue: UInt64
  public init(rawValue: UInt64) { self.rawValue = rawValue }

  /// BPF_F_LOCK: take each value's `bpf_spin_lock` while copying.
  public static let lock = Self(rawValue: UInt64(BPF_F_LOCK))
}

/// What a batch lookup returned.
public struct MapBatchResult: Sendable, Hashable {
  /// How many elements the kernel copied into the key and value buffers (its `count`).
  public var count: Int
  /// Whether the map has no elements after these: the kernel answered `ENOENT`, which for a
  /// batch lookup means "done", not failure. The next-batch token is then meaningless.
  public var isComplete: Bool

  public init(count: Int, isComplete: Bool) {
    self.count = count
    self.isComplete = isComplete
  }
}

/// A failed batch command, with the number of elements it processed before failing.
///
/// The count is the kernel's `count` after the call. When the kernel refuses the call before
/// looking at any element (bad flags, bad descriptor: usually `EINVAL`, `EBADF`), it leaves
/// `count` as it was passed, so the count is then the number requested.
public struct MapBatchError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The failed call.
  public var syscall: SyscallError
  /// Elements the kernel had processed when it stopped.
  public var processedCount: Int

  public init(syscall: SyscallError, processedCount: Int) {
    self.syscall = syscall
    self.processedCount = processedCount
  }

  public var description: String { "\(syscall) after \(processedCount) elements" }
}

// Batch tokens: `inBatch`/`outBatch` are opaque cursors that the kernel writes and reads back.
// Their size depends on the map: hash maps use a 4-byte bucket index, other maps a key. A
// buffer of max(key size, 4) bytes fits either; pass `nil` as `inBatch` to start at the
// beginning and the previous `outBatch` to continue.
//
// Buffers: `keys` holds `count` keys of the map's key size back to back, `values` holds `count`
// values of the map's value size (for per-CPU maps: the value size rounded up to 8, times the
// number of possible CPUs, per element).

extension BPF {
  /// Copies up to `count` elements, starting after the cursor `inBatch` (`nil`: the first
  /// element), into `keys` and `values`, and writes the cursor for the next call into
  /// `outBatch`.
  ///
  /// Reaching the end of the map is not an error: the result's ``MapBatchResult/isComplete``
  /// is then `true` and its count may be anything from 0 to `count`. Hash maps fail with
  /// `ENOSPC` when one bucket holds more than `count` elements.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_BATCH.
  public static func lookupBatch(
    map fd: Int32, after inBatch: UnsafeRawPointer?, next outBatch: UnsafeMutableRawPointer,
    keys: UnsafeMutableRawPointer, values: UnsafeMutableRawPointer, count: Int,
    flags: MapBatchFlags = []
  ) throws(MapBatchError) -> MapBatchResult {
    try batchLookup(
      .mapLookupBatch, map: fd, after: inBatch, next: outBatch, keys: keys, values: values,
      count: count, flags: flags)
  }

  /// Like ``lookupBatch(map:after:next:keys:values:count:flags:)``, and removes the elements
  /// it returns.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_AND_DELETE_BATCH.
  public static func lookupAndDeleteBatch(
    map fd: Int32, after inBatch: UnsafeRawPointer?, next outBatch: UnsafeMutableRawPointer,
    keys: UnsafeMutableRawPointer, values: UnsafeMutableRawPointer, count: Int,
    flags: MapBatchFlags = []
  ) throws(MapBatchError) -> MapBatchResult {
    try batchLookup(
      .mapLookupAndDeleteBatch, map: fd, after: inBatch, next: outBatch, keys: keys,
      values: values, count: count, flags: flags)
  }

  private static func batchLookup(
    _ command: BPFCommand, map fd: Int32, after inBatch: UnsafeRawPointer?,
    next outBatch: UnsafeMutableRawPointer, keys: UnsafeMutableRawPointer,
    values: UnsafeMutableRawPointer, count: Int, flags: MapBatchFlags
  ) throws(MapBatchError) -> MapBatchResult {
    var attr = bpf_attr()
    attr.batch.map_fd = fdField(fd)
    attr.batch.in_batch = address(inBatch)
    attr.batch.out_batch = address(outBatch)
    attr.batch.keys = address(keys)
    attr.batch.values = address(values)
    attr.batch.count = UInt32(clamping: max(count, 0))
    attr.batch.elem_flags = flags.rawValue
    let result = invoke(command, &attr)
    let processed = Int(attr.batch.count)
    switch result {
    case .success:
      return MapBatchResult(count: processed, isComplete: false)
    case .failure(let error) where error.errno == .noSuchFileOrDirectory:
      return MapBatchResult(count: processed, isComplete: true)
    case .failure(let error):
      throw MapBatchError(syscall: error, processedCount: processed)
    }
  }

  /// Stores `count` elements: the keys in `keys`, the values in `values`. Returns how many
  /// the kernel stored (all of them, when it does not throw).
  ///
  /// Every element is stored as with `BPF_ANY`: created or replaced. On failure the error
  /// says how many elements were stored before the one that failed (for example `E2BIG` for
  /// an index beyond an array map, or for a new key that does not fit into a full hash map).
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_BATCH.
  public static func updateBatch(
    map fd: Int32, keys: UnsafeRawPointer, values: UnsafeRawPointer, count: Int,
    flags: MapBatchFlags = []
  ) throws(MapBatchError) -> Int {
    var attr = bpf_attr()
    attr.batch.map_fd = fdField(fd)
    attr.batch.keys = address(keys)
    attr.batch.values = address(values)
    attr.batch.count = UInt32(clamping: max(count, 0))
    attr.batch.elem_flags = flags.rawValue
    let result = invoke(.mapUpdateBatch, &attr)
    let processed = Int(attr.batch.count)
    if case .failure(let error) = result {
      throw MapBatchError(syscall: error, processedCount: processed)
    }
    return processed
  }

  /// Removes the `count` elements whose keys are in `keys`. Returns how many were removed.
  ///
  /// A key that is not in the map fails the call with `ENOENT`; the error says how many keys
  /// before it were removed.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_DELETE_BATCH.
  public static func deleteBatch(
    map fd: Int32, keys: UnsafeRawPointer, count: Int
  ) throws(MapBatchError) -> Int {
    var attr = bpf_attr()
    attr.batch.map_fd = fdField(fd)
    attr.batch.keys = address(keys)
    attr.batch.count = UInt32(clamping: max(count, 0))
    let result = invoke(.mapDeleteBatch, &attr)
    let processed = Int(attr.batch.count)
    if case .failure(let error) = result {
      throw MapBatchError(syscall: error, processedCount: processed)
    }
    return processed
  }
}
