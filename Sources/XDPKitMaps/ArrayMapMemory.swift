import Glibc
import SystemPackage
import XDPKitSys

/// The values of an array map created with BPF_F_MMAPABLE, mmap(2)ed: element `i` is at
/// `base + i * elementStride`, shared with every program and process that uses the map.
///
/// Owned by the ``BPFMap`` (made on first use, kept in its `memory`) and unmapped once,
/// when the map goes: pointers into it are valid for as long as the map is.
final class ArrayMapMemory: @unchecked Sendable {
  /// The first byte of element 0.
  let base: UnsafeMutableRawPointer
  /// The distance between elements: the value size rounded up to 8, as the kernel stores them.
  let elementStride: Int
  /// The mapped length, whole pages.
  let length: Int
  /// Whether the mapping is writable (not for a frozen map or a descriptor opened read-only).
  let isWritable: Bool

  private init(base: UnsafeMutableRawPointer, elementStride: Int, length: Int, isWritable: Bool) {
    self.base = base
    self.elementStride = elementStride
    self.length = length
    self.isWritable = isWritable
  }

  deinit { _ = munmap(base, length) }

  /// Maps every element of array map `map`: read-write, or read-only where the kernel refuses
  /// a writable shared mapping (`EPERM` for a frozen map, `EACCES` for a read-only
  /// descriptor).
  ///
  /// The corresponding call is `mmap(NULL, round_up(max_entries * round_up(value_size, 8),
  /// page_size), PROT_READ [| PROT_WRITE], MAP_SHARED, fd, 0)`.
  static func map(_ map: BPFMap) -> Result<ArrayMapMemory, SyscallError> {
    let page = Int(getpagesize())
    let stride = (map.valueSize + 7) / 8 * 8
    let length = max((map.maxEntries * stride + page - 1) / page * page, page)
    let descriptor = map.fileDescriptor.rawValue
    var address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0)
    var writable = true
    if address == nil || address == MAP_FAILED {
      let code = Errno.current
      guard code == .notPermitted || code == .permissionDenied else {
        return .failure(SyscallError(operation: .mmap, errno: code))
      }
      address = mmap(nil, length, PROT_READ, MAP_SHARED, descriptor, 0)
      writable = false
    }
    guard let address, address != MAP_FAILED else {
      return .failure(SyscallError(operation: .mmap, errno: .current))
    }
    return .success(ArrayMapMemory(base: address, elementStride: stride, length: length, isWritable: writable))
  }
}

extension BPFMap {
  /// Whether the map was created with BPF_F_MMAPABLE (its values can be mmapped).
  public var isMappable: Bool { flags & MapCreateFlags.mmapable.rawValue != 0 }

  /// The map's mmapped values, mapped on the first call and kept until the map goes.
  ///
  /// Throws ``MapError/notMappable(map:reason:)`` for a map that is not an array created with
  /// BPF_F_MMAPABLE, and ``MapError/syscall(map:_:)`` when mmap(2) fails.
  func mappedMemory() throws(MapError) -> ArrayMapMemory {
    guard type == .array else { throw .notMappable(map: name, reason: "it is a \(type) map, not an array") }
    guard isMappable else { throw .notMappable(map: name, reason: "it was created without BPF_F_MMAPABLE") }
    return try memory.withLock { slot throws(MapError) -> ArrayMapMemory in
      if let memory = slot { return memory }
      switch ArrayMapMemory.map(self) {
      case .success(let memory):
        slot = memory
        return memory
      case .failure(let error):
        throw .syscall(map: name, error)
      }
    }
  }
}
