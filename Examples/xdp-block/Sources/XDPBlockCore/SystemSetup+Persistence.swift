import Glibc
import SystemPackage
import XDPKit

/// Whether pins outlive the command that makes them: a bpffs mounted in a private mount
/// namespace (`unshare -m`, `ip netns exec`, a sandbox) goes away with the namespace, and
/// every pin in it with it — the firewall would leave the interface, or never be found again.
extension SystemSetup {
  /// The environment variable that vouches for the bpffs when the initial mount namespace
  /// cannot be compared (see ``requirePersistentBPFFS(roots:)``): set to 1, the check trusts
  /// that the bpffs holding the roots is the host's.
  public static let assumePersistentVariable = "XDP_BLOCK_ASSUME_PERSISTENT_BPFFS"

  /// The mount point bpffs is mounted at when none is there: `/sys/fs/bpf`.
  static let defaultBPFFSMount = "/sys/fs/bpf"

  /// The bpffs mount point libxdp's dispatcher pins live under: `LIBXDP_BPFFS` when set and
  /// not empty, otherwise `/sys/fs/bpf` (its pins go in `xdp` below it).
  public static var dispatcherBPFFSRoot: String {
    if let value = getenv("LIBXDP_BPFFS"), value.pointee != 0 { return String(cString: value) }
    return defaultBPFFSMount
  }

  /// Makes sure pins made under each of `roots` (the state root, the dispatcher's bpffs)
  /// outlive this process: mounts bpffs at /sys/fs/bpf (mode 0700) when a root is under it
  /// and none is mounted, but refuses with ``XDPBlockError/bpffsNotPersistent(path:reason:)``
  /// when this process runs in a mount namespace that is not the initial one and the file
  /// system holding a root is not the one the initial namespace sees there (or none is
  /// mounted).
  ///
  /// The initial mount namespace is read from PID 1, or where PID 1 is hidden (its
  /// /proc/1/ns/mnt unreadable, as in some sandboxes) from a kernel thread — PID 2,
  /// kthreadd, which always lives in the initial namespaces. When neither can be read, the
  /// check refuses rather than trust a parent process, which may share a private namespace:
  /// set ``assumePersistentVariable`` to 1 to vouch for the bpffs. A bpffs that is the same
  /// file system as the initial namespace's (as a container's bind mount of the host's
  /// /sys/fs/bpf is) is accepted.
  public static func requirePersistentBPFFS(roots: [String]) throws(XDPBlockError) {
    for root in roots { try requirePersistentBPFFS(root: root) }
  }

  private static func requirePersistentBPFFS(root: String) throws(XDPBlockError) {
    let mount = root == defaultBPFFSMount || root.hasPrefix(defaultBPFFSMount + "/") ? defaultBPFFSMount : nil
    // The directory the pins would land in: the root, or its nearest existing parent.
    var existing = root
    while !existing.isEmpty, existing != "/", deviceOf(existing) == nil {
      existing = String(existing[..<(existing.lastIndex(of: "/") ?? existing.startIndex)])
    }
    if existing.isEmpty { existing = "/" }
    // Under /sys/fs/bpf, the mount point is what counts (the root may not exist yet).
    let checked = mount.map { existing.count < $0.count ? $0 : existing } ?? existing
    let mounted = (try? SystemInfo.isBPFFS(path: checked)) == true

    guard let ours = inodeOf("/proc/self/ns/mnt") else {
      throw .bpffsNotPersistent(path: root, reason: "/proc/self/ns/mnt cannot be read: \(Errno.current)")
    }
    guard let reference = initialNamespaceProcess else {
      if let value = getenv(assumePersistentVariable), String(cString: value) == "1" {
        if !mounted, let mount { try mountBPFFileSystemIfNeeded(at: mount) }
        return
      }
      throw .bpffsNotPersistent(
        path: root,
        reason: "the initial mount namespace cannot be compared with this process's (neither /proc/1/ns/mnt nor a "
          + "kernel thread's can be read), so it cannot tell whether the bpffs there is the host's; set "
          + "\(assumePersistentVariable)=1 if it is")
    }
    guard reference.namespace != ours else {
      if !mounted, let mount { try mountBPFFileSystemIfNeeded(at: mount) }
      return
    }
    guard mounted else {
      throw .bpffsNotPersistent(
        path: root, reason: "no bpffs is mounted at \(checked) and this process runs in a private mount namespace")
    }
    let here = deviceOf(checked)
    if here == nil || here != deviceOf("/proc/\(reference.pid)/root" + checked) {
      throw .bpffsNotPersistent(
        path: root, reason: "the bpffs at \(checked) belongs to this process's private mount namespace, not to the host's")
    }
  }

  /// A process of the initial mount namespace whose namespace can be read, with that
  /// namespace's inode: PID 1, else kthreadd (PID 2, a kernel thread: parent 0 and PF_KTHREAD
  /// in /proc/2/stat); `nil` when neither can be read.
  private static var initialNamespaceProcess: (pid: Int32, namespace: UInt64)? {
    if let namespace = inodeOf("/proc/1/ns/mnt") { return (1, namespace) }
    guard isKernelThread(2), let namespace = inodeOf("/proc/2/ns/mnt") else { return nil }
    return (2, namespace)
  }

  /// Whether `/proc/PID/stat` describes a kernel thread: parent 0 and PF_KTHREAD (0x200000)
  /// in its flags (fields 4 and 9).
  private static func isKernelThread(_ pid: Int32) -> Bool {
    guard let stat = try? FileContents.read(path: "/proc/\(pid)/stat", requireRegularFile: false) else { return false }
    // The name (field 2) is in parentheses and may hold spaces: count fields after the last ")".
    guard let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return false }
    let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
    // fields[0] is the state (field 3), fields[1] the parent (4), fields[6] the flags (9).
    guard fields.count > 6, fields[1] == "0", let flags = UInt64(fields[6]) else { return false }
    return flags & 0x0020_0000 != 0
  }

  static func inodeOf(_ path: String) -> UInt64? {
    var info = stat()
    return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
  }

  private static func deviceOf(_ path: String) -> UInt64? {
    var info = stat()
    return stat(path, &info) == 0 ? UInt64(info.st_dev) : nil
  }
}
