import CXDPKit
import Glibc
import SystemPackage

/// How a descriptor opened by path or id may be used from user space (`file_flags` of
/// BPF_OBJ_GET, `open_flags` of BPF_MAP_GET_FD_BY_ID).
public enum BPFObjectAccess: Sendable, Hashable {
  /// Read and write (no flag).
  case readWrite
  /// BPF_F_RDONLY: lookups only.
  case readOnly
  /// BPF_F_WRONLY: updates only.
  case writeOnly

  var flags: UInt32 {
    switch self {
    case .readWrite: 0
    case .readOnly: UInt32(BPF_F_RDONLY)
    case .writeOnly: UInt32(BPF_F_WRONLY)
    }
  }
}

// MARK: - Pinning

extension BPF {
  /// The mode pins get: read and write for the owner only.
  public static let pinMode: mode_t = 0o600

  /// Pins `object` (a map, program, link or BTF) at `path` in a bpf file system, so that it
  /// outlives every descriptor for it until the file is removed.
  ///
  /// The parent directory is reached and checked as ``BPFFSDirectory/open(_:create:mode:requireBPFFS:exclusive:)``
  /// describes (no symbolic links; owned by the effective user and not writable by others, or
  /// a root-owned sticky directory above it such as a world-writable `/sys/fs/bpf`); it must
  /// exist. The pin gets mode 0600 (``pinMode``), whatever the umask. An existing file at
  /// `path` fails with ``BPFFSError/exists(path:)``.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_PIN.
  public static func pin(_ object: BPFFileDescriptor, at path: String) throws(BPFFSError) {
    let (directory, name) = try BPFFSDirectory.split(path)
    try BPFFSDirectory.open(directory).pin(object, as: name)
  }

  /// Opens the object pinned at `path`, reached through checked directories as ``pin(_:at:)``
  /// describes; the pin must be owned by root or the effective user and, when `kind` is
  /// given, be an object of that kind.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_GET.
  public static func openPinned(
    at path: String, kind: BPFObjectKind? = nil, access: BPFObjectAccess = .readWrite
  ) throws(BPFFSError) -> BPFFileDescriptor {
    let (directory, name) = try BPFFSDirectory.split(path)
    return try BPFFSDirectory.open(directory).openPinned(name, kind: kind, access: access)
  }

  /// BPF_OBJ_PIN at a path string, unchecked: only ``BPFFSDirectory`` calls it, with a path
  /// relative to a directory descriptor it checked.
  static func pinObject(_ object: BPFFileDescriptor, at path: String) throws(SyscallError) {
    let result = path.withCString { cPath in
      var attr = bpf_attr()
      attr.pathname = address(cPath)
      attr.bpf_fd = fdField(object.rawValue)
      return invoke(.objectPin, &attr)
    }
    _ = try result.get()
  }

  /// BPF_OBJ_GET at a path string, unchecked: only ``BPFFSDirectory`` calls it.
  static func openPinnedObject(at path: String, access: BPFObjectAccess) throws(SyscallError)
    -> BPFFileDescriptor
  {
    let result = path.withCString { cPath in
      var attr = bpf_attr()
      attr.pathname = address(cPath)
      attr.file_flags = access.flags
      return newDescriptor(.objectGet, &attr)
    }
    return try result.get()
  }

  /// The kind of object `descriptor` refers to, from the name procfs gives its anonymous
  /// inode (`/proc/self/fd/N` reads `anon_inode:bpf-map`, `anon_inode:bpf-prog`,
  /// `anon_inode:bpf_link`, `anon_inode:btf`). BPF_OBJ_GET and BPF_OBJ_GET_INFO_BY_FD accept
  /// every kind, and the type numbers in their info mean different things per kind, so the
  /// kind must be known before the info is trusted.
  ///
  /// The corresponding call is readlink(2) on `/proc/self/fd/N`.
  public static func objectKind(of descriptor: BPFFileDescriptor) throws(SyscallError) -> BPFObjectKind {
    let path = "/proc/self/fd/\(descriptor.rawValue)"
    var buffer = [CChar](repeating: 0, count: 128)
    let count = buffer.withUnsafeMutableBufferPointer { readlink(path, $0.baseAddress!, $0.count) }
    if count < 0 { throw SyscallError(operation: .file(path), errno: .current) }
    let name = buffer.withUnsafeBytes { String(decoding: $0.prefix(count), as: UTF8.self) }
    switch name {
    case "anon_inode:bpf-map": return .map
    case "anon_inode:bpf-prog": return .program
    case "anon_inode:bpf_link", "anon_inode:bpf-link": return .link
    case "anon_inode:btf": return .btf
    default: return .other(name)
    }
  }
}

// MARK: - Descriptors by id

extension BPF {
  /// Opens the program with kernel id `id`; `ENOENT` if there is none.
  ///
  /// The corresponding bpf(2) command is BPF_PROG_GET_FD_BY_ID.
  public static func openProgram(id: UInt32) throws(SyscallError) -> BPFFileDescriptor {
    var attr = bpf_attr()
    attr.prog_id = id
    return try newDescriptor(.programGetFDByID, &attr).get()
  }

  /// Opens the map with kernel id `id`; `ENOENT` if there is none.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_GET_FD_BY_ID.
  public static func openMap(
    id: UInt32, access: BPFObjectAccess = .readWrite
  ) throws(SyscallError) -> BPFFileDescriptor {
    var attr = bpf_attr()
    attr.map_id = id
    attr.open_flags = access.flags
    return try newDescriptor(.mapGetFDByID, &attr).get()
  }

  /// Opens the link with kernel id `id`; `ENOENT` if there is none.
  ///
  /// The corresponding bpf(2) command is BPF_LINK_GET_FD_BY_ID.
  public static func openLink(id: UInt32) throws(SyscallError) -> BPFFileDescriptor {
    var attr = bpf_attr()
    attr.link_id = id
    return try newDescriptor(.linkGetFDByID, &attr).get()
  }

  /// Opens the BTF object with kernel id `id`; `ENOENT` if there is none.
  ///
  /// The corresponding bpf(2) command is BPF_BTF_GET_FD_BY_ID.
  public static func openBTF(id: UInt32) throws(SyscallError) -> BPFFileDescriptor {
    var attr = bpf_attr()
    attr.btf_id = id
    return try newDescriptor(.btfGetFDByID, &attr).get()
  }
}

// MARK: - Iterating ids

extension BPF {
  /// The smallest program id greater than `id` (0: the first), or `nil` after the last.
  ///
  /// The corresponding bpf(2) command is BPF_PROG_GET_NEXT_ID.
  public static func nextProgramID(after id: UInt32) throws(SyscallError) -> UInt32? {
    try nextID(.programGetNextID, after: id)
  }

  /// The smallest map id greater than `id` (0: the first), or `nil` after the last.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_GET_NEXT_ID.
  public static func nextMapID(after id: UInt32) throws(SyscallError) -> UInt32? {
    try nextID(.mapGetNextID, after: id)
  }

  /// The smallest link id greater than `id` (0: the first), or `nil` after the last.
  ///
  /// The corresponding bpf(2) command is BPF_LINK_GET_NEXT_ID.
  public static func nextLinkID(after id: UInt32) throws(SyscallError) -> UInt32? {
    try nextID(.linkGetNextID, after: id)
  }

  /// The smallest BTF object id greater than `id` (0: the first), or `nil` after the last.
  ///
  /// The corresponding bpf(2) command is BPF_BTF_GET_NEXT_ID.
  public static func nextBTFID(after id: UInt32) throws(SyscallError) -> UInt32? {
    try nextID(.btfGetNextID, after: id)
  }

  /// The ids of every program loaded in the kernel, ascending: a snapshot that objects may
  /// join or leave while it is taken.
  ///
  /// The corresponding bpf(2) command is BPF_PROG_GET_NEXT_ID, issued until `ENOENT`.
  public static func allProgramIDs() throws(SyscallError) -> [UInt32] {
    try allIDs(.programGetNextID)
  }

  /// The ids of every map in the kernel, ascending.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_GET_NEXT_ID, issued until `ENOENT`.
  public static func allMapIDs() throws(SyscallError) -> [UInt32] {
    try allIDs(.mapGetNextID)
  }

  /// The ids of every link in the kernel, ascending.
  ///
  /// The corresponding bpf(2) command is BPF_LINK_GET_NEXT_ID, issued until `ENOENT`.
  public static func allLinkIDs() throws(SyscallError) -> [UInt32] {
    try allIDs(.linkGetNextID)
  }

  /// The ids of every BTF object in the kernel (vmlinux, modules, programs), ascending.
  ///
  /// The corresponding bpf(2) command is BPF_BTF_GET_NEXT_ID, issued until `ENOENT`.
  public static func allBTFIDs() throws(SyscallError) -> [UInt32] {
    try allIDs(.btfGetNextID)
  }

  private static func nextID(_ command: BPFCommand, after id: UInt32) throws(SyscallError)
    -> UInt32?
  {
    // Ids run from 1 to INT_MAX - 1; the kernel refuses to search from INT_MAX or above
    // (EINVAL), and there is nothing there to find.
    if id >= UInt32(Int32.max) { return nil }
    var attr = bpf_attr()
    attr.start_id = id
    switch invoke(command, &attr) {
    case .success: return attr.next_id
    case .failure(let error) where error.errno == .noSuchFileOrDirectory: return nil
    case .failure(let error): throw error
    }
  }

  private static func allIDs(_ command: BPFCommand) throws(SyscallError) -> [UInt32] {
    var ids: [UInt32] = []
    var current: UInt32 = 0
    while let next = try nextID(command, after: current) {
      ids.append(next)
      current = next
    }
    return ids
  }
}
