import CXDPKit
import Glibc
import SystemPackage

/// A directory in a bpf file system, reached by a checked walk and held open: the one place
/// where XDPKit creates, opens, renames and removes pins.
///
/// bpffs is often mounted world-writable (mode 1777, when mounted without `mode=`), so a path
/// string cannot be trusted: another user may have created a directory on it, or a symbolic
/// link. A `BPFFSDirectory` therefore
/// - walks the path from `/` one component at a time with `openat(2)` and `O_NOFOLLOW`, so a
///   symbolic link anywhere on it is refused;
/// - checks each directory with `fstat(2)` on the descriptor it opened: a directory above
///   the target must be owned by root or the effective user, and may be writable by group or
///   others only with the sticky bit (as `/sys/fs/bpf` is); the target directory itself, and
///   every subdirectory opened from it, must be owned by the effective user and not writable
///   by group or others;
/// - creates directories with an explicit mode (0700 unless told otherwise), set with
///   `fchmod(2)` after `mkdirat(2)`, whatever the umask;
/// - creates, opens, renames and removes entries relative to its descriptor (`*at()` calls
///   and `/proc/self/fd/N/NAME` for bpf(2), which takes path strings), never through a path
///   string that could be swapped underneath.
///
/// Pins it creates get mode 0600 (``BPF/pinMode``). Pins it opens must be owned by root or
/// the effective user, and are checked for their kind when one is expected.
public final class BPFFSDirectory: Sendable, CustomStringConvertible {
  /// The path the directory was opened by (for messages; operations use the descriptor).
  public let path: String
  /// The open directory (`O_RDONLY | O_DIRECTORY | O_NOFOLLOW`).
  public let fileDescriptor: BPFFileDescriptor

  /// The mode of directories created here: read, write and search for the owner only.
  public static let directoryMode: mode_t = 0o700

  /// Takes ownership of `fileDescriptor`, an open directory already checked as `path`.
  init(path: String, fileDescriptor: BPFFileDescriptor) {
    self.path = path
    self.fileDescriptor = fileDescriptor
  }

  public var description: String { path }

  // MARK: Opening

  /// Opens the directory at the absolute `path`, checking every component on the way (see
  /// the type's discussion). With `create`, missing directories are created with `mode`.
  ///
  /// - Parameters:
  ///   - path: the directory's absolute path.
  ///   - create: whether to create missing directories (with `mode`).
  ///   - mode: the mode of the directories created.
  ///   - requireBPFFS: whether the directory must be in a bpf file system (default).
  ///   - exclusive: whether the directory itself must be the effective user's alone (owned
  ///     by it, not writable by group or others), as a tool's state directory must be. When
  ///     `false` (the default, for pinning by path) it may also be a root-owned sticky
  ///     directory such as a world-writable `/sys/fs/bpf`: there nobody else can rename or
  ///     remove a pin, and pins that others made are refused when opened by their owner.
  /// - Throws: ``BPFFSError`` naming the first component that fails a check.
  public static func open(
    _ path: String, create: Bool = false, mode: mode_t = directoryMode, requireBPFFS: Bool = true,
    exclusive: Bool = false
  ) throws(BPFFSError) -> BPFFSDirectory {
    guard path.hasPrefix("/") else { throw .invalidPath(path, reason: "not an absolute path") }
    let components = path.split(separator: "/").map(String.init)
    for component in components where component == "." || component == ".." {
      throw .invalidPath(path, reason: "\"\(component)\" components are not allowed")
    }
    var current = BPFFSDirectory(path: "/", fileDescriptor: try openRoot())
    try current.check(strict: false)
    for component in components {
      // Nothing is created outside bpffs: a wrong path leaves no directory behind.
      if create, current.entryType(component) == nil {
        if requireBPFFS, try !current.isInBPFFS() { throw .notInBPFFS(path: current.path) }
        // bpffs refuses such names with a bare EPERM: say why instead.
        if component.utf8.contains(UInt8(ascii: ".")), try current.isInBPFFS() {
          throw .invalidPath(current.pathOf(component), reason: "bpffs does not allow \".\" in names")
        }
      }
      current = try current.child(component, create: create, mode: mode, strict: false)
    }
    if requireBPFFS, try !current.isInBPFFS() { throw .notInBPFFS(path: current.path) }
    if exclusive { try current.check(strict: true) }
    return current
  }

  /// Opens (with `create`, creates with `mode`) the subdirectory `name`, which must be owned
  /// by the effective user and not writable by group or others.
  public func subdirectory(_ name: String, create: Bool = false, mode: mode_t = directoryMode)
    throws(BPFFSError) -> BPFFSDirectory
  {
    try Self.validate(name: name, in: path)
    return try child(name, create: create, mode: mode, strict: true)
  }

  private static func openRoot() throws(BPFFSError) -> BPFFileDescriptor {
    let fd = Glibc.open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd < 0 { throw .syscall(path: "/", SyscallError(operation: .file("/"), errno: .current)) }
    return BPFFileDescriptor(adopting: fd)
  }

  private func child(_ name: String, create: Bool, mode: mode_t, strict: Bool) throws(BPFFSError)
    -> BPFFSDirectory
  {
    let childPath = pathOf(name)
    var created = false
    var fd = openat(fileDescriptor.rawValue, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    if fd < 0, Errno.current == .noSuchFileOrDirectory, create {
      if mkdirat(fileDescriptor.rawValue, name, mode) == 0 {
        created = true
      } else if Errno.current != .fileExists {
        throw failure(childPath, .current)
      }
      fd = openat(fileDescriptor.rawValue, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    }
    if fd < 0 {
      let code = Errno.current
      switch entryType(name) {
      case .symbolicLink: throw .symbolicLink(path: childPath)
      case .other: throw .notADirectory(path: childPath)
      default: throw failure(childPath, code)
      }
    }
    let directory = BPFFSDirectory(path: childPath, fileDescriptor: BPFFileDescriptor(adopting: fd))
    // The umask has had its say in mkdirat(2); the mode is set exactly.
    if created, fchmod(fd, mode) != 0 { throw failure(childPath, .current) }
    try directory.check(strict: strict)
    return directory
  }

  /// Checks owner and mode of the open directory.
  private func check(strict: Bool) throws(BPFFSError) {
    let info = try status()
    let user = geteuid()
    if strict {
      guard info.st_uid == user else {
        throw .untrustedOwner(path: path, owner: info.st_uid, effectiveUser: user)
      }
      guard info.st_mode & 0o022 == 0 else { throw .writableByOthers(path: path, mode: info.st_mode) }
    } else {
      guard info.st_uid == user || info.st_uid == 0 else {
        throw .untrustedOwner(path: path, owner: info.st_uid, effectiveUser: user)
      }
      guard info.st_mode & 0o022 == 0 || info.st_mode & mode_t(S_ISVTX) != 0 else {
        throw .writableByOthers(path: path, mode: info.st_mode)
      }
    }
  }

  private func status() throws(BPFFSError) -> stat {
    var info = stat()
    if fstat(fileDescriptor.rawValue, &info) != 0 { throw failure(path, .current) }
    return info
  }

  /// Whether the directory lies in a bpf file system (fstatfs(2) reports BPF_FS_MAGIC).
  public func isInBPFFS() throws(BPFFSError) -> Bool {
    var info = statfs()
    if fstatfs(fileDescriptor.rawValue, &info) != 0 { throw failure(path, .current) }
    return UInt32(truncatingIfNeeded: info.f_type) == UInt32(truncatingIfNeeded: BPF_FS_MAGIC)
  }

  /// Whether the directory has been removed since it was opened (its link count is 0), as
  /// happens when another process removed it while this one waited for its lock.
  public var isRemoved: Bool {
    get throws(BPFFSError) { try status().st_nlink == 0 }
  }

  /// The device and inode of the directory, to tell whether a path still leads to it.
  public var identity: (device: UInt64, inode: UInt64) {
    get throws(BPFFSError) {
      let info = try status()
      return (UInt64(info.st_dev), UInt64(info.st_ino))
    }
  }

  // MARK: Entries

  /// What an entry is, as lstat would say (never following a symbolic link).
  public enum EntryType: Sendable, Equatable {
    /// A directory.
    case directory
    /// A symbolic link.
    case symbolicLink
    /// A pinned object (bpffs shows pins as regular files).
    case pin
    /// Anything else.
    case other
  }

  /// The type of entry `name`, or `nil` if there is none.
  public func entryType(_ name: String) -> EntryType? {
    var info = stat()
    guard fstatat(fileDescriptor.rawValue, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
    switch info.st_mode & S_IFMT {
    case S_IFDIR: return .directory
    case S_IFLNK: return .symbolicLink
    case S_IFREG: return .pin
    default: return .other
    }
  }

  /// The names in the directory, sorted, without `.` and `..`.
  ///
  /// The corresponding calls are openat(2) of `.` and getdents(2) through readdir(3).
  public func entries() throws(BPFFSError) -> [String] {
    let fd = openat(fileDescriptor.rawValue, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd < 0 { throw failure(path, .current) }
    guard let stream = fdopendir(fd) else {
      let code = Errno.current
      _ = Glibc.close(fd)
      throw failure(path, code)
    }
    defer { closedir(stream) }
    var names: [String] = []
    while let entry = readdir(stream) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { BPF.decodeCString($0) }
      if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
  }

  // MARK: Pins

  /// Pins `object` as `name` in this directory with mode 0600 (``BPF/pinMode``).
  ///
  /// Throws ``BPFFSError/exists(path:)`` if `name` is taken.
  ///
  /// The corresponding calls are bpf(2) BPF_OBJ_PIN on `/proc/self/fd/N/NAME` and fchmodat(2).
  public func pin(_ object: BPFFileDescriptor, as name: String) throws(BPFFSError) {
    try Self.validate(name: name, in: path)
    let target = pathOf(name)
    do {
      try BPF.pinObject(object, at: descriptorPath(name))
    } catch {
      if error.errno == .fileExists { throw .exists(path: target) }
      throw .syscall(path: target, error)
    }
    if fchmodat(fileDescriptor.rawValue, name, BPF.pinMode, 0) != 0 {
      let code = Errno.current
      _ = unlinkat(fileDescriptor.rawValue, name, 0)
      throw failure(target, code)
    }
  }

  /// Opens the object pinned as `name`, which must be a pin (not a link or directory) owned
  /// by root or the effective user and, when `kind` is given, an object of that kind.
  ///
  /// Throws ``BPFFSError/noSuchObject(path:)`` if nothing is there and
  /// ``BPFFSError/wrongKind(path:expected:actual:)`` for another kind of object.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_GET.
  public func openPinned(
    _ name: String, kind: BPFObjectKind? = nil, access: BPFObjectAccess = .readWrite
  ) throws(BPFFSError) -> BPFFileDescriptor {
    try Self.validate(name: name, in: path, allowDots: true)
    let target = pathOf(name)
    var info = stat()
    guard fstatat(fileDescriptor.rawValue, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
      let code = Errno.current
      if code == .noSuchFileOrDirectory { throw .noSuchObject(path: target) }
      throw failure(target, code)
    }
    switch info.st_mode & S_IFMT {
    case S_IFLNK: throw .symbolicLink(path: target)
    case S_IFREG: break
    default: throw .invalidPath(target, reason: "not a pinned object")
    }
    let user = geteuid()
    guard info.st_uid == user || info.st_uid == 0 else {
      throw .untrustedOwner(path: target, owner: info.st_uid, effectiveUser: user)
    }
    let fd: BPFFileDescriptor
    do { fd = try BPF.openPinnedObject(at: descriptorPath(name), access: access) } catch {
      if error.errno == .noSuchFileOrDirectory { throw .noSuchObject(path: target) }
      throw .syscall(path: target, error)
    }
    if let kind {
      let actual: BPFObjectKind
      do { actual = try BPF.objectKind(of: fd) } catch { throw .syscall(path: target, error) }
      guard actual == kind else { throw .wrongKind(path: target, expected: kind, actual: actual) }
    }
    return fd
  }

  // MARK: Names

  /// `path/name`, for messages.
  public func pathOf(_ name: String) -> String {
    path.hasSuffix("/") ? path + name : path + "/" + name
  }

  /// A path through procfs that reaches `name` relative to this descriptor, for bpf(2)
  /// commands that take only path strings.
  private func descriptorPath(_ name: String) -> String {
    "/proc/self/fd/\(fileDescriptor.rawValue)/\(name)"
  }

  /// The error for a failed call on `path`.
  func failure(_ path: String, _ code: Errno) -> BPFFSError {
    .syscall(path: path, SyscallError(operation: .file(path), errno: code))
  }

  /// Checks that `name` is one path component bpffs accepts: not empty, no `/`, no NUL,
  /// not `.` or `..`, and (for names to create) no `.` at all, which bpffs reserves.
  static func validate(name: String, in directory: String, allowDots: Bool = false) throws(BPFFSError) {
    let shown = directory.hasSuffix("/") ? directory + name : directory + "/" + name
    guard !name.isEmpty else { throw .invalidPath(shown, reason: "empty name") }
    guard name != "." && name != ".." else { throw .invalidPath(shown, reason: "\"\(name)\" is not a name") }
    guard !name.utf8.contains(UInt8(ascii: "/")), !name.utf8.contains(0) else {
      throw .invalidPath(shown, reason: "a name cannot contain \"/\" or NUL")
    }
    guard allowDots || !name.utf8.contains(UInt8(ascii: ".")) else {
      throw .invalidPath(shown, reason: "bpffs does not allow \".\" in names")
    }
  }

  /// Splits an absolute `path` into its directory and last component.
  public static func split(_ path: String) throws(BPFFSError) -> (directory: String, name: String) {
    guard path.hasPrefix("/"), let slash = path.lastIndex(of: "/") else {
      throw .invalidPath(path, reason: "not an absolute path")
    }
    let name = String(path[path.index(after: slash)...])
    let directory = slash == path.startIndex ? "/" : String(path[..<slash])
    guard !name.isEmpty else { throw .invalidPath(path, reason: "ends in \"/\"") }
    return (directory, name)
  }
}
