import SystemPackage
import XDPKitSys

extension BPFMap {
  /// Opens the map pinned at `path`, as `open(pinnedAt:access:)` with a `String` does.
  ///
  /// The corresponding bpf(2) commands are BPF_OBJ_GET and BPF_OBJ_GET_INFO_BY_FD.
  public static func open(pinnedAt path: FilePath, access: BPFObjectAccess = .readWrite) throws(MapError) -> BPFMap {
    try open(pinnedAt: path.string, access: access)
  }

  /// Pins the map at `path`, as `pin(at:)` with a `String` does.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_PIN.
  public func pin(at path: FilePath) throws(MapError) {
    try pin(at: path.string)
  }
}
