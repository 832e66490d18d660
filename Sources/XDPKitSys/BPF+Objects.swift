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
  /// outlives every descriptor for it until the file is removed with unlink(2).
  ///
  /// The kernel creates the pin with mode 0600 minus the caller's umask; this function then
  /// sets the mode to exactly ``pinMode`` with chmod(2). If that fails the pin is removed again
  /// and the error names the path (as ``SyscallOperation/file(_:)``). The parent directory must
  /// exist and be in a bpf file system; an existing file at `path` fails with `EEXIST`.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_PIN.
  public static func pin(_ object: BPFFileDescriptor, at path: String) throws(SyscallError) {
    let result = path.withCString { cPath in
      var attr = bpf_attr()
      attr.pathname = address(cPath)
      attr.bpf_fd = fdField(object.rawValue)
      return invoke(.objectPin, &attr)
    }
    _ = try result.get()
    if Glibc.chmod(path, pinMode) != 0 {
      let code = Errno.current
      _ = Glibc.unlink(path)
      throw SyscallError(operation: .file(path), errno: code)
    }
  }

  /// Opens the object pinned at `path`.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_GET.
  public static func openPinned(
    at path: String, access: BPFObjectAccess = .readWrite
  ) throws(SyscallError) -> BPFFileDescriptor {
    let result = path.withCString { cPath in
      var attr = bpf_attr()
      attr.pathname = address(cPath)
      attr.file_flags = access.flags
      return newDescriptor(.objectGet, &attr)
    }
    return try result.get()
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
