import SystemPackage

/// The kind of kernel object a BPF file descriptor refers to.
public enum BPFObjectKind: Sendable, Hashable, CustomStringConvertible {
  /// A map (`anon_inode:bpf-map`).
  case map
  /// A program (`anon_inode:bpf-prog`).
  case program
  /// A link (`anon_inode:bpf_link` or `anon_inode:bpf-link`).
  case link
  /// A BTF object (`anon_inode:btf`).
  case btf
  /// Something that is not a BPF object; the associated text is what procfs calls it.
  case other(String)

  /// "map", "program", "link", "BTF object", or "non-BPF file (…)".
  public var description: String {
    switch self {
    case .map: "map"
    case .program: "program"
    case .link: "link"
    case .btf: "BTF object"
    case .other(let name): "non-BPF file (\(name))"
    }
  }
}

/// Why a path in a bpf file system was not used: each case names the path and the reason,
/// so that a refused directory says which one and why.
public enum BPFFSError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The path or name cannot be used: not absolute, a `.` or `..` component, a name with a
  /// dot (bpffs refuses those), an empty name.
  case invalidPath(String, reason: String)
  /// A component is a symbolic link. Pins are never reached through one.
  case symbolicLink(path: String)
  /// A component that must be a directory is not.
  case notADirectory(path: String)
  /// The directory is not in a bpf file system (statfs(2) does not report BPF_FS_MAGIC), so
  /// nothing can be pinned in it.
  case notInBPFFS(path: String)
  /// The directory or pin is owned by `owner`, who is not the effective user (nor root, for a
  /// directory above the state directory or a pin).
  case untrustedOwner(path: String, owner: UInt32, effectiveUser: UInt32)
  /// The directory can be written by group or others (`mode`), so someone else could add,
  /// rename or remove what is in it.
  case writableByOthers(path: String, mode: UInt32)
  /// Nothing exists at `path`.
  case noSuchObject(path: String)
  /// Something exists at `path` already.
  case exists(path: String)
  /// The object pinned at `path` is a `actual`, not the `expected` kind.
  case wrongKind(path: String, expected: BPFObjectKind, actual: BPFObjectKind)
  /// Another process held the lock on `path` for longer than the wait allowed.
  case lockTimeout(path: String)
  /// A call failed on `path`.
  case syscall(path: String, SyscallError)

  /// The error number, where a call failed with one.
  public var errno: Errno? {
    if case .syscall(_, let error) = self { return error.errno }
    return nil
  }

  /// The path the error concerns.
  public var path: String {
    switch self {
    case .invalidPath(let path, _), .symbolicLink(let path), .notADirectory(let path),
      .notInBPFFS(let path), .untrustedOwner(let path, _, _), .writableByOthers(let path, _),
      .noSuchObject(let path), .exists(let path), .wrongKind(let path, _, _),
      .lockTimeout(let path), .syscall(let path, _):
      return path
    }
  }

  public var description: String {
    switch self {
    case .invalidPath(let path, let reason):
      return "\(path): \(reason)"
    case .symbolicLink(let path):
      return "\(path): is a symbolic link; pins and their directories are never reached through one"
    case .notADirectory(let path):
      return "\(path): not a directory"
    case .notInBPFFS(let path):
      return "\(path): not in a bpf file system (mount one with `mount -t bpf -o mode=0700 bpf /sys/fs/bpf`)"
    case .untrustedOwner(let path, let owner, let user):
      return "\(path): owned by uid \(owner), not by uid \(user); refusing to trust it"
    case .writableByOthers(let path, let mode):
      return "\(path): mode \(String(mode & 0o7777, radix: 8)) lets group or others write it; refusing to trust it"
    case .noSuchObject(let path):
      return "\(path): nothing pinned there"
    case .exists(let path):
      return "\(path): exists already"
    case .wrongKind(let path, let expected, let actual):
      return "\(path): the pinned object is a \(actual), not a \(expected)"
    case .lockTimeout(let path):
      return "\(path): locked by another process"
    case .syscall(let path, let error):
      return "\(path): \(error.errno) (errno \(error.errno.rawValue))"
    }
  }
}
