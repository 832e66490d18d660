import XDPKitObject
import XDPKitSys

/// A view of an AF_XDP socket map (`BPF_MAP_TYPE_XSKMAP`): an XDP program sends a frame to
/// user space with `bpf_redirect_map(&map, ctx->rx_queue_index, XDP_PASS)`, and the socket in
/// that slot receives it if it is bound to the same interface and queue.
///
/// Slots hold socket descriptors; the kernel does not let user space read them back
/// (BPF_MAP_LOOKUP_ELEM answers `EOPNOTSUPP`), so the view only writes and removes. A
/// socket leaves the map by itself when it is closed.
public struct XSKMap: Sendable {
  /// The map this view writes.
  public let map: BPFMap

  /// The map types this view handles.
  public static var supportedTypes: [BPFMapType] { [.xskMap] }

  /// Makes a view of `map`, checking its type and that keys and values are 4 bytes.
  public init(_ map: BPFMap) throws(MapError) {
    try map.requireType(Self.supportedTypes)
    try map.requireKeySize(4)
    try map.requireValueSize(4)
    self.map = map
  }

  /// The number of slots (`max_entries`): usually at least the interface's queue count.
  public var count: Int { map.maxEntries }

  /// Puts the AF_XDP socket with descriptor `socketDescriptor` into slot `index`. The socket
  /// must be bound already (the kernel answers `ENOTCONN` otherwise); the map takes its own
  /// reference.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  public func set(socketDescriptor: Int32, at index: UInt32) throws(MapError) {
    try map.requireIndex(index)
    try ElementAccess.update(map, key: index, value: socketDescriptor, policy: .any)
  }

  /// Empties slot `index`. Returns whether it held a socket.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_DELETE_ELEM.
  @discardableResult
  public func remove(at index: UInt32) throws(MapError) -> Bool {
    try map.requireIndex(index)
    return try ElementAccess.delete(map, key: index)
  }
}
