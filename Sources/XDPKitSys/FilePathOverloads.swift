import Glibc
import SystemPackage

// swift-system's `FilePath` wherever the public API of this module takes a path. The `String`
// forms stay: paths are mostly literals and command-line arguments, and the checks (absolute,
// no `.` or `..` components) are the same for both.

extension BPF {
  /// Pins `object` at `path`, as `pin(_:at:)` with a `String` does.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_PIN.
  public static func pin(_ object: BPFFileDescriptor, at path: FilePath) throws(BPFFSError) {
    try pin(object, at: path.string)
  }

  /// Opens the object pinned at `path`, as `openPinned(at:kind:access:)` with a `String` does.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_GET.
  public static func openPinned(
    at path: FilePath, kind: BPFObjectKind? = nil, access: BPFObjectAccess = .readWrite
  ) throws(BPFFSError) -> BPFFileDescriptor {
    try openPinned(at: path.string, kind: kind, access: access)
  }
}

extension BPFFSDirectory {
  /// The directory's path as a `FilePath`.
  public var filePath: FilePath { FilePath(path) }

  /// Opens (or with `create`, creates) the directory at `path`, as
  /// `open(_:create:mode:requireBPFFS:exclusive:)` with a `String` does.
  public static func open(
    _ path: FilePath, create: Bool = false, mode: mode_t = directoryMode, requireBPFFS: Bool = true,
    exclusive: Bool = false
  ) throws(BPFFSError) -> BPFFSDirectory {
    try open(path.string, create: create, mode: mode, requireBPFFS: requireBPFFS, exclusive: exclusive)
  }
}

extension FileContents {
  /// The bytes of the file at `path`, as `read(path:requireRegularFile:)` with a `String` reads them.
  public static func read(path: FilePath, requireRegularFile: Bool = true) throws(FileReadError) -> [UInt8] {
    try read(path: path.string, requireRegularFile: requireRegularFile)
  }
}

extension KernelBTF {
  /// The BTF at `path`, as `load(path:)` with a `String` reads and caches it.
  public static func load(path: FilePath) throws(KernelBTFError) -> KernelBTF {
    try load(path: path.string)
  }
}
