import XDPKitObject
import XDPKitSys

/// An entry of a ``DevMap`` or ``DevMapHash``: the interface frames are redirected to, and the
/// program (of attach type `BPF_XDP_DEVMAP`, section `xdp/devmap`) that runs on each frame
/// before it is sent, if any.
public struct DevMapEntry: Sendable, Hashable {
  /// The target interface's index (`ifindex`), in the namespace of the interface the
  /// redirecting program is attached to.
  public var interfaceIndex: Int32
  /// The kernel id of the entry's program (`bpf_prog.id`), `nil` for none.
  public var programID: UInt32?

  /// Creates an entry.
  public init(interfaceIndex: Int32, programID: UInt32? = nil) {
    self.interfaceIndex = interfaceIndex
    self.programID = programID
  }

  /// The entry of a slot read back.
  init(slot: (number: UInt32, programID: UInt32?)) {
    self.init(interfaceIndex: Int32(bitPattern: slot.number), programID: slot.programID)
  }
}

/// A view of a device map (`BPF_MAP_TYPE_DEVMAP`): an array of interfaces that an XDP program
/// sends frames to with `bpf_redirect_map(&map, index, flags)`.
///
/// Values are `struct bpf_devmap_val` (8 bytes: the ifindex and an optional program that
/// runs on the frame before it leaves, kernel 5.8+) or, for maps defined with a 4-byte value,
/// the ifindex alone. Keys are indices below ``count``.
public struct DevMap: Sendable {
  let slots: RedirectMapSlots

  /// The map this view reads and writes.
  public var map: BPFMap { slots.map }

  /// The map types this view handles.
  public static var supportedTypes: [BPFMapType] { [.devMap] }

  /// Makes a view of `map`, checking its type, the 4-byte key and a 4- or 8-byte value.
  public init(_ map: BPFMap) throws(MapError) {
    slots = try RedirectMapSlots(map, types: Self.supportedTypes, indexed: true)
  }

  /// The number of slots (`max_entries`).
  public var count: Int { map.maxEntries }

  /// Whether entries can carry a program (the value is `struct bpf_devmap_val`).
  public var supportsPrograms: Bool { slots.supportsPrograms }

  /// Sends frames redirected to slot `index` out of interface `interfaceIndex`, running
  /// `program` (of attach type `BPF_XDP_DEVMAP`) on each first, if given. A program on a map
  /// with 4-byte values throws ``MapError/valueSizeMismatch(map:expected:actual:)``.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  public func set(
    interfaceIndex: Int32, program: BPFFileDescriptor? = nil, at index: UInt32
  ) throws(MapError) {
    try slots.set(UInt32(bitPattern: interfaceIndex), program: program, key: index)
  }

  /// The entry in slot `index`, `nil` if the slot is empty.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  public func entry(at index: UInt32) throws(MapError) -> DevMapEntry? {
    try slots.entry(index).map(DevMapEntry.init(slot:))
  }

  /// Empties slot `index`; frames redirected to it then take the fallback action in the low
  /// bits of the `bpf_redirect_map` flags. Emptying an empty slot is not an error (the kernel
  /// does not tell the two apart for device arrays).
  ///
  /// The corresponding bpf(2) command is BPF_MAP_DELETE_ELEM.
  public func remove(at index: UInt32) throws(MapError) {
    _ = try slots.remove(index)
  }
}

/// A view of a hashed device map (`BPF_MAP_TYPE_DEVMAP_HASH`, kernel 5.4+): like ``DevMap``,
/// but keyed by any 32-bit number (an ifindex, typically) instead of a dense index.
public struct DevMapHash: Sendable {
  let slots: RedirectMapSlots

  /// The map this view reads and writes.
  public var map: BPFMap { slots.map }

  /// The map types this view handles.
  public static var supportedTypes: [BPFMapType] { [.devMapHash] }

  /// Makes a view of `map`, checking its type, the 4-byte key and a 4- or 8-byte value.
  public init(_ map: BPFMap) throws(MapError) {
    slots = try RedirectMapSlots(map, types: Self.supportedTypes, indexed: false)
  }

  /// The most entries the map holds (`max_entries`).
  public var capacity: Int { map.maxEntries }

  /// Whether entries can carry a program (the value is `struct bpf_devmap_val`).
  public var supportsPrograms: Bool { slots.supportsPrograms }

  /// Sends frames redirected to `key` out of interface `interfaceIndex`, running `program`
  /// (of attach type `BPF_XDP_DEVMAP`) on each first, if given.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  public func set(
    interfaceIndex: Int32, program: BPFFileDescriptor? = nil, forKey key: UInt32
  ) throws(MapError) {
    try slots.set(UInt32(bitPattern: interfaceIndex), program: program, key: key)
  }

  /// The entry under `key`, `nil` if there is none.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  public func entry(forKey key: UInt32) throws(MapError) -> DevMapEntry? {
    try slots.entry(key).map(DevMapEntry.init(slot:))
  }

  /// Removes the entry under `key`. Returns whether there was one.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_DELETE_ELEM.
  @discardableResult
  public func remove(forKey key: UInt32) throws(MapError) -> Bool {
    try slots.remove(key)
  }
}
