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
         .userRingBuffer: true
    default: false
    }
  }

  /// BPF_F_NO_PREALLOC.
  static let noPreallocate: UInt32 = 1

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
