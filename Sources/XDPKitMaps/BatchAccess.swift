import SystemPackage
import XDPKitSys

// Batch commands (BPF_MAP_LOOKUP_BATCH, BPF_MAP_UPDATE_BATCH, BPF_MAP_DELETE_BATCH) over raw
// buffers, with the per-element fallback for maps and kernels that do not support them.
//
// The kernel rejects a batch command on a map type without batch support with ENOTSUPP (524,
// a kernel-internal errno that leaks to user space) or EOPNOTSUPP, and a kernel older than
// 5.6 rejects the command itself with EINVAL. When the first call of an operation fails that
// way, the operation is redone one element at a time with the single-element commands; any
// other failure is thrown. The batch commands take no BPF_NOEXIST or BPF_EXIST, so updates
// with another policy than `.any` always go element by element.
//
// Unlike single-element access, batches allocate: the keys and values are gathered into heap
// buffers of up to `chunkSize` elements.

extension MapBatchError {
  /// Whether the failure means "this map (or kernel) has no batch support", so that the
  /// operation can be redone with single-element commands. The kernel refuses such calls
  /// before touching any element (and leaves the count as passed), so redoing is safe;
  /// `EINVAL` is included for kernels that do not know the command at all, and for an
  /// update, whose elements are idempotent, also covers an element the kernel refused: the
  /// single-element redo then reports that element's own error.
  var meansUnsupported: Bool {
    let code = syscall.errno
    return code.rawValue == 524 || code == .notSupportedOnSocket || code == .notSupported
      || code == .invalidArgument
  }
}

@usableFromInline
enum BatchAccess {
  /// Elements per batch call: bounds the heap buffers and the time spent in one call.
  @usableFromInline
  static let chunkSize = 4096

  /// The batch size of a lookup when the caller names none: as many elements of
  /// `elementBytes` (key and value) as fit 64 KiB, at least 256 and at most 4,096.
  @usableFromInline
  static func defaultBatchSize(elementBytes: Int) -> Int {
    min(max((64 << 10) / max(elementBytes, 1), 256), 4096)
  }

  /// A heap buffer of `count` zeroed bytes (at least 8), aligned to 8; the caller frees it.
  @usableFromInline
  static func allocateZeroed(_ count: Int) -> UnsafeMutableRawPointer {
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 8), alignment: 8)
    buffer.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 8))
    return buffer
  }

  /// Reads every element with BPF_MAP_LOOKUP_BATCH, `batchSize` at a time, calling `consume`
  /// with each batch's keys (`keySize` apart) and values (`valueByteCount` apart) and the
  /// number of elements in it. Returns `false`, having consumed nothing, if the map has no
  /// batch lookup.
  ///
  /// A hash map answers `ENOSPC` when one of its buckets holds more elements than the batch
  /// has room for; the batch size is then doubled and the call repeated.
  @usableFromInline
  static func lookupAll(
    _ map: BPFMap, valueByteCount: Int, batchSize: Int,
    _ consume: (UnsafeRawPointer, UnsafeRawPointer, Int) -> Void
  ) throws(MapError) -> Bool {
    let fd = map.fileDescriptor.rawValue
    let tokenSize = max(map.keySize, 4)
    let inToken = allocateZeroed(tokenSize)
    let outToken = allocateZeroed(tokenSize)
    defer {
      inToken.deallocate()
      outToken.deallocate()
    }
    var size = max(batchSize, 1)
    var keys = allocateZeroed(size * map.keySize)
    var values = allocateZeroed(size * valueByteCount)
    defer {
      keys.deallocate()
      values.deallocate()
    }
    var first = true
    var total = 0
    while true {
      let result: MapBatchResult
      do {
        result = try BPF.lookupBatch(
          map: fd, after: first ? nil : UnsafeRawPointer(inToken), next: outToken,
          keys: keys, values: values, count: size)
      } catch {
        if error.syscall.errno == .noSpace && error.processedCount == 0 && size < Int(Int32.max / 2) {
          size *= 2
          keys.deallocate()
          values.deallocate()
          keys = allocateZeroed(size * map.keySize)
          values = allocateZeroed(size * valueByteCount)
          continue
        }
        if first && total == 0 && error.meansUnsupported { return false }
        throw .batchFailed(completed: total, cause: .syscall(map: map.name, error.syscall))
      }
      consume(UnsafeRawPointer(keys), UnsafeRawPointer(values), result.count)
      total += result.count
      if result.isComplete { return true }
      inToken.copyMemory(from: outToken, byteCount: tokenSize)
      first = false
    }
  }

  /// Stores `count` elements whose keys are at `keys` (`keySize` apart) and values at
  /// `values` (`valueByteCount` apart) with BPF_MAP_UPDATE_BATCH, or with BPF_MAP_UPDATE_ELEM
  /// per element when the policy is not `.any` or the map has no batch update.
  /// `completedBefore` is added to the count in errors.
  @usableFromInline
  static func update(
    _ map: BPFMap, keys: UnsafeRawPointer, values: UnsafeRawPointer, count: Int,
    valueByteCount: Int, policy: UpdatePolicy, completedBefore: Int
  ) throws(MapError) {
    let fd = map.fileDescriptor.rawValue
    if policy == .any {
      do {
        _ = try BPF.updateBatch(map: fd, keys: keys, values: values, count: count)
        return
      } catch where error.meansUnsupported {
        // Redo with the single-element commands below.
      } catch {
        let cause = ElementAccess.updateError(error.syscall, map: map)
        throw .batchFailed(completed: completedBefore + error.processedCount, cause: cause)
      }
    }
    for index in 0..<count {
      let result = BPF.updateElement(
        map: fd, key: keys + index * map.keySize, value: values + index * valueByteCount,
        flags: policy.flags)
      if case .failure(let error) = result {
        let cause = ElementAccess.updateError(error, map: map)
        throw .batchFailed(completed: completedBefore + index, cause: cause)
      }
    }
  }

  /// Removes the `count` keys at `keys` (`keySize` apart) with BPF_MAP_DELETE_BATCH, falling
  /// back to BPF_MAP_DELETE_ELEM per key. Keys that are not in the map are skipped. Returns
  /// how many were removed.
  @usableFromInline
  static func delete(_ map: BPFMap, keys: UnsafeRawPointer, count: Int) throws(MapError) -> Int {
    let fd = map.fileDescriptor.rawValue
    var removed = 0
    var start = 0
    var batchWorks = true
    while start < count && batchWorks {
      do {
        removed += try BPF.deleteBatch(
          map: fd, keys: keys + start * map.keySize, count: count - start)
        return removed
      } catch where error.syscall.errno == .noSuchFileOrDirectory {
        // The kernel stops at the first absent key, having removed the ones before it.
        removed += error.processedCount
        start += error.processedCount + 1
      } catch where removed == 0 && error.meansUnsupported {
        batchWorks = false
      } catch {
        throw .batchFailed(
          completed: removed + error.processedCount, cause: .syscall(map: map.name, error.syscall))
      }
    }
    if batchWorks { return removed }
    for index in 0..<count {
      switch BPF.deleteElement(map: fd, key: keys + index * map.keySize) {
      case .success: removed += 1
      case .failure(let error) where error.errno == .noSuchFileOrDirectory: continue
      case .failure(let error):
        throw .batchFailed(completed: removed, cause: .syscall(map: map.name, error))
      }
    }
    return removed
  }
}
