import Glibc
import XDPKitObject

/// What the kernel requires of some map types that their C declarations commonly leave out or
/// get "wrong" (in the way every other loader accepts): applied to a map definition before it
/// is created.
enum MapFixups {
  /// Whether `type` is a local-storage map: the kernel wants `max_entries` 0 and
  /// BPF_F_NO_PREALLOC.
  static func isLocalStorage(_ type: BPFMapType) -> Bool {
    switch type {
    case .skStorage, .inodeStorage, .taskStorage, .cgrpStorage: true
    default: false
    }
  }

  /// Whether BPF_MAP_CREATE of `type` refuses BTF key/value type ids (their kernel code
  /// rejects any BTF, or their key and value are not data): such maps are created without
  /// them on the first try rather than after an error.
  static func refusesBTFKeyValue(_ type: BPFMapType) -> Bool {
    switch type {
    case .programArray, .perfEventArray, .stackTrace, .cgroupArray, .arrayOfMaps, .hashOfMaps, .ringBuffer,
         .userRingBuffer, .queue, .stack: true
    default: false
    }
  }

  /// BPF_F_NO_PREALLOC.
  static let noPreallocate: UInt32 = 1

  /// The size a ring buffer of `requested` bytes is created with: the smallest power-of-2
  /// multiple of `pageSize` that holds it, which the kernel requires (libbpf rounds the same
  /// way). 0 (left to ``LoadOptions/maxEntries``) and sizes that cannot be rounded within 32
  /// bits stay as they are, for the loader's or the kernel's error.
  static func ringSize(_ requested: UInt32, pageSize: UInt64) -> UInt32 {
    guard requested != 0, pageSize != 0, pageSize & (pageSize - 1) == 0 else { return requested }
    var size = pageSize
    while size < UInt64(requested) { size <<= 1 }
    return size <= UInt64(UInt32.max) ? UInt32(size) : requested
  }

  /// `definition` as it must be created, with what was changed, for the load's notes.
  static func apply(to definition: BPFMapDefinition) -> (BPFMapDefinition, [String]) {
    var fixed = definition
    var changes: [String] = []
    if isLocalStorage(definition.type) {
      if fixed.maxEntries != 0 {
        changes.append("max_entries \(fixed.maxEntries) → 0 (local storage has no fixed size)")
        fixed.maxEntries = 0
      }
      if fixed.flags & noPreallocate == 0 {
        changes.append("added BPF_F_NO_PREALLOC (required for local storage)")
        fixed.flags |= noPreallocate
      }
    }
    switch definition.type {
    case .ringBuffer, .userRingBuffer:
      // Declared with __type(key, …)/__type(value, …) by habit; the ring has neither.
      if fixed.keySize != 0 || fixed.valueSize != 0 {
        changes.append("key/value sizes \(fixed.keySize)/\(fixed.valueSize) → 0/0 (a ring buffer has no keys or values)")
        fixed.keySize = 0
        fixed.valueSize = 0
      }
      let size = ringSize(fixed.maxEntries, pageSize: UInt64(max(getpagesize(), 1)))
      if size != fixed.maxEntries {
        changes.append("max_entries \(fixed.maxEntries) → \(size) (a ring's size must be a power of 2 and a multiple of the page size)")
        fixed.maxEntries = size
      }
    case .perfEventArray:
      // Slots hold perf event descriptors: 4-byte keys and values whatever the declaration says.
      if fixed.keySize != 4 || fixed.valueSize != 4 {
        changes.append("key/value sizes \(fixed.keySize)/\(fixed.valueSize) → 4/4 (perf event array slots are CPU → perf event fd)")
        fixed.keySize = 4
        fixed.valueSize = 4
      }
    default: break
    }
    if refusesBTFKeyValue(definition.type) {
      fixed.keyTypeID = nil
      fixed.valueTypeID = nil
    }
    return (fixed, changes)
  }
}
