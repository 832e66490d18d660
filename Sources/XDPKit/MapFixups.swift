import XDPKitObject

/// What the kernel requires of some map types that their C declarations commonly leave out or
/// get "wrong" (in the way every other loader accepts): applied to a map definition before it
/// is created.
enum MapFixups {
  /// Local-storage maps: the kernel wants `max_entries` 0 and BPF_F_NO_PREALLOC.
  static let localStorageTypes: Set<BPFMapType> = [.skStorage, .inodeStorage, .taskStorage, .cgrpStorage]

  /// Map types whose BPF_MAP_CREATE refuses BTF key/value type ids (their kernel code
  /// rejects any BTF, or their key and value are not data): created without them on the
  /// first try rather than after an error.
  static let typesWithoutBTFKeyValue: Set<BPFMapType> = [
    .programArray, .perfEventArray, .stackTrace, .cgroupArray, .arrayOfMaps, .hashOfMaps,
    .ringBuffer, .userRingBuffer,
  ]

  /// BPF_F_NO_PREALLOC.
  static let noPreallocate: UInt32 = 1

  /// `definition` as it must be created, with what was changed, for the load's notes.
  static func apply(to definition: BPFMapDefinition) -> (BPFMapDefinition, [String]) {
    var fixed = definition
    var changes: [String] = []
    if localStorageTypes.contains(definition.type) {
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
    case .perfEventArray:
      // Slots hold perf event descriptors: 4-byte keys and values whatever the declaration says.
      if fixed.keySize != 4 || fixed.valueSize != 4 {
        changes.append("key/value sizes \(fixed.keySize)/\(fixed.valueSize) → 4/4 (perf event array slots are CPU → perf event fd)")
        fixed.keySize = 4
        fixed.valueSize = 4
      }
    default: break
    }
    if typesWithoutBTFKeyValue.contains(definition.type) {
      fixed.keyTypeID = nil
      fixed.valueTypeID = nil
    }
    return (fixed, changes)
  }
}
