import XDPKitObject
import XDPKitSys

/// The value layout shared by `struct bpf_devmap_val` and `struct bpf_cpumap_val`: a 32-bit
/// number (the ifindex, or the CPU queue size) followed by a union of the program's descriptor
/// (written) and its id (read back). Maps created with a 4-byte value hold the number only.
struct RedirectMapValue: BitwiseCopyable, Equatable {
  /// `ifindex` or `qsize`.
  var number: UInt32
  /// `bpf_prog.fd` when written (-1 or 0: no program), `bpf_prog.id` when read.
  var program: Int32

  /// The value size of maps whose entries can carry a program.
  static let sizeWithProgram = 8
  /// The value size of maps whose entries carry the number only.
  static let sizeWithoutProgram = 4

  /// Checks that `map` has a 4-byte key and a 4- or 8-byte value.
  static func check(_ map: BPFMap) throws(MapError) {
    try map.requireKeySize(4)
    guard map.valueSize == sizeWithProgram || map.valueSize == sizeWithoutProgram else {
      throw .valueSizeMismatch(map: map.name, expected: map.valueSize, actual: sizeWithProgram)
    }
  }

  /// Stores `number` (and `program`, if any) under `key`. A program on a map whose values
  /// have no room for one throws ``MapError/valueSizeMismatch(map:expected:actual:)`` with
  /// `actual` 8, the size of the value with a program, before any call.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  static func store(
    _ map: BPFMap, key: UInt32, number: UInt32, program: BPFFileDescriptor?
  ) throws(MapError) {
    if map.valueSize == sizeWithoutProgram {
      if program != nil {
        throw .valueSizeMismatch(map: map.name, expected: map.valueSize, actual: sizeWithProgram)
      }
      try ElementAccess.update(map, key: key, value: number, policy: .any)
      return
    }
    // The kernel reads `bpf_prog.fd` and treats a value <= 0 as "no program".
    let value = RedirectMapValue(number: number, program: program?.rawValue ?? -1)
    try withExtendedLifetime(program) { () throws(MapError) in
      try ElementAccess.update(map, key: key, value: value, policy: .any)
    }
  }

  /// The value under `key`, `nil` if absent; a program id of 0 reads as `nil`.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  static func load(_ map: BPFMap, key: UInt32) throws(MapError) -> (UInt32, UInt32?)? {
    if map.valueSize == sizeWithoutProgram {
      return try ElementAccess.lookup(map, key: key, as: UInt32.self).map { ($0, nil) }
    }
    guard let value = try ElementAccess.lookup(map, key: key, as: RedirectMapValue.self) else {
      return nil
    }
    let id = UInt32(bitPattern: value.program)
    return (value.number, id == 0 ? nil : id)
  }
}

/// What the views of the maps with these values (``DevMap``, ``DevMapHash``, ``CPUMap``)
/// share: the checks when the view is made, and set, read and remove by a 32-bit key, which
/// for the array-like maps is first checked to be an index below `max_entries`.
struct RedirectMapSlots: Sendable {
  /// The map the view reads and writes.
  let map: BPFMap
  /// Whether keys are indices below `max_entries` (DEVMAP, CPUMAP), not any number (DEVMAP_HASH).
  let indexed: Bool

  /// Checks `map`'s type against `types`, its 4-byte key and its 4- or 8-byte value.
  init(_ map: BPFMap, types: [BPFMapType], indexed: Bool) throws(MapError) {
    try map.requireType(types)
    try RedirectMapValue.check(map)
    self.map = map
    self.indexed = indexed
  }

  /// Whether entries can carry a program (8-byte values).
  var supportsPrograms: Bool { map.valueSize == RedirectMapValue.sizeWithProgram }

  /// Stores `number` and `program` under `key`; see ``RedirectMapValue/store(_:key:number:program:)``.
  func set(_ number: UInt32, program: BPFFileDescriptor?, key: UInt32) throws(MapError) {
    if indexed { try map.requireIndex(key) }
    try RedirectMapValue.store(map, key: key, number: number, program: program)
  }

  /// The number and program id under `key`, `nil` if absent.
  func entry(_ key: UInt32) throws(MapError) -> (number: UInt32, programID: UInt32?)? {
    if indexed { try map.requireIndex(key) }
    return try RedirectMapValue.load(map, key: key).map { (number: $0.0, programID: $0.1) }
  }

  /// Removes the entry under `key`. Returns what the kernel says: whether there was one (the
  /// array-like maps answer alike for both).
  func remove(_ key: UInt32) throws(MapError) -> Bool {
    if indexed { try map.requireIndex(key) }
    return try ElementAccess.delete(map, key: key)
  }
}

extension BPFMap {
  /// Throws ``MapError/indexOutOfRange(map:index:count:)`` unless `index` is below
  /// `max_entries`: the check of the array-like redirect maps, made before any call.
  func requireIndex(_ index: UInt32) throws(MapError) {
    guard Int(index) < maxEntries else {
      throw .indexOutOfRange(map: name, index: index, count: maxEntries)
    }
  }
}
