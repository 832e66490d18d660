import SystemPackage

// swift-system's `FilePath` wherever the public API of this module takes a path; the `String`
// forms stay for literals and command-line arguments.

extension LoadedProgram {
  /// Pins the program at `path`, as `pin(at:)` with a `String` does.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_PIN.
  public func pin(at path: FilePath) throws(BPFFSError) {
    try pin(at: path.string)
  }

  /// Opens the program pinned at `path`, as `open(pinnedAt:)` with a `String` does.
  ///
  /// The corresponding bpf(2) commands are BPF_OBJ_GET and BPF_OBJ_GET_INFO_BY_FD.
  public static func open(pinnedAt path: FilePath) throws(BPFFSError) -> LoadedProgram {
    try open(pinnedAt: path.string)
  }
}

extension XDPLink {
  /// Pins the bpf_link at `path`, as `pin(at:)` with a `String` does.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_PIN.
  public func pin(at path: FilePath) throws(AttachError) {
    try pin(at: path.string)
  }

  /// Opens the XDP bpf_link pinned at `path`, as `open(pinnedAt:)` with a `String` does.
  ///
  /// The corresponding bpf(2) commands are BPF_OBJ_GET and BPF_OBJ_GET_INFO_BY_FD.
  public static func open(pinnedAt path: FilePath) throws(AttachError) -> XDPLink {
    try open(pinnedAt: path.string)
  }
}

/// Why `BPFObject.init(contentsOf:)` failed: the file could not be read, or is not a BPF
/// object the reader accepts.
public enum BPFObjectFileError: Error, Sendable, CustomStringConvertible {
  /// The file could not be read whole.
  case read(FileReadError)
  /// The bytes are not a BPF object the reader accepts.
  case object(path: String, ObjectError)

  /// "PATH: why".
  public var description: String {
    switch self {
    case .read(let error): return "\(error)"
    case .object(let path, let error): return "\(path): \(error)"
    }
  }
}

extension BPFObject {
  /// Reads and parses the BPF object file at `path` (`clang -target bpf -c` output).
  ///
  /// The corresponding calls are open(2), fstat(2) and read(2).
  public init(contentsOf path: FilePath) throws(BPFObjectFileError) {
    let bytes: [UInt8]
    do { bytes = try FileContents.read(path: path) } catch { throw .read(error) }
    do { try self.init(bytes: bytes) } catch { throw .object(path: path.string, error) }
  }
}
