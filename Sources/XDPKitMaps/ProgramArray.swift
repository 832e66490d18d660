import SystemPackage
import XDPKitObject
import XDPKitSys

/// A view of a program array (`BPF_MAP_TYPE_PROG_ARRAY`): the jump table of tail calls. Each
/// of its ``count`` slots is empty or holds a program, which `bpf_tail_call(ctx, map, index)`
/// jumps to.
///
/// User space writes a slot with a program's descriptor and reads back the program's id. The
/// kernel empties every slot when the last user-space reference to the map goes away (the
/// last descriptor closed and no pin left), so keep the map open or pinned while its tail
/// calls are in use.
public struct ProgramArray: Sendable {
  /// The map this view reads and writes.
  public let map: BPFMap

  /// The map types this view handles.
  public static var supportedTypes: [BPFMapType] { [.programArray] }

  /// Makes a view of `map`, checking its type and that keys and values are 4 bytes.
  public init(_ map: BPFMap) throws(MapError) {
    try map.requireType(Self.supportedTypes)
    try map.requireKeySize(4)
    try map.requireValueSize(4)
    self.map = map
  }

  /// The number of slots (`max_entries`).
  public var count: Int { map.maxEntries }

  /// Puts `program` into slot `index`, replacing what was there. The program must be of the
  /// type of the programs that tail-call through the map.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  public func set(_ program: BPFFileDescriptor, at index: UInt32) throws(MapError) {
    try set(programFD: program.rawValue, at: index)
  }

  /// Puts the program with descriptor `programFD` into slot `index`. The descriptor must stay
  /// open for the duration of the call; the map takes its own reference to the program.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  public func set(programFD: Int32, at index: UInt32) throws(MapError) {
    try checkIndex(index)
    try ElementAccess.update(map, key: index, value: programFD, policy: .any)
  }

  /// The id of the program in slot `index`, or `nil` if the slot is empty.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  public func programID(at index: UInt32) throws(MapError) -> UInt32? {
    try checkIndex(index)
    return try ElementAccess.lookup(map, key: index, as: UInt32.self)
  }

  /// Empties slot `index`. Returns whether it held a program.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_DELETE_ELEM.
  @discardableResult
  public func remove(at index: UInt32) throws(MapError) -> Bool {
    try checkIndex(index)
    return try ElementAccess.delete(map, key: index)
  }

  /// The indices of the slots that hold a program, ascending.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM, once per slot.
  public func occupiedIndices() throws(MapError) -> [UInt32] {
    var indices: [UInt32] = []
    for index in 0..<UInt32(clamping: count) where try programID(at: index) != nil {
      indices.append(index)
    }
    return indices
  }

  private func checkIndex(_ index: UInt32) throws(MapError) {
    guard Int(index) < count else {
      throw .indexOutOfRange(map: map.name, index: index, count: count)
    }
  }
}
