import Foundation
import Glibc
import SystemPackage
import XDPKit

/// The process's privileges, bpffs and network namespaces: what the commands check or set up
/// before they touch the kernel.
public enum SystemSetup {
  // MARK: Privileges

  /// Capabilities by bit number (linux/capability.h).
  static let capabilityBits: [(name: String, bit: Int)] = [
    ("CAP_NET_ADMIN", 12), ("CAP_SYS_ADMIN", 21), ("CAP_BPF", 39),
  ]

  /// The effective capability set of this process (CapEff of /proc/self/status), or `nil`
  /// when it cannot be read.
  static func effectiveCapabilities() -> UInt64? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
      return UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
    }
    return nil
  }

  /// The capabilities `xdp-block` needs and this process lacks: CAP_NET_ADMIN, and CAP_BPF
  /// (CAP_SYS_ADMIN stands in for it on any kernel), plus CAP_SYS_ADMIN when
  /// `needsSysAdmin` (entering network namespaces, mounting bpffs).
  public static func missingCapabilities(needsSysAdmin: Bool) -> [String] {
    guard let effective = effectiveCapabilities() else { return geteuid() == 0 ? [] : ["root"] }
    func has(_ bit: Int) -> Bool { effective & (1 << UInt64(bit)) != 0 }
    var missing: [String] = []
    if !has(12) { missing.append("CAP_NET_ADMIN") }
    if !has(21) && (needsSysAdmin || !has(39)) { missing.append("CAP_SYS_ADMIN") }
    if !has(39) && !has(21) { missing.append("CAP_BPF") }
    return missing
  }

  /// Throws ``XDPBlockError/needsRoot(command:missing:)`` unless the process has what
  /// `command` needs.
  public static func requirePrivileges(for command: String, needsSysAdmin: Bool) throws(XDPBlockError) {
    let missing = missingCapabilities(needsSysAdmin: needsSysAdmin)
    if !missing.isEmpty { throw .needsRoot(command: command, missing: missing) }
  }

  // MARK: bpffs

  /// Mounts bpffs at `path` (`/sys/fs/bpf`, mode 0700) unless one is mounted there already.
  ///
  /// The corresponding calls are statfs(2) and mount(2).
  public static func mountBPFFileSystemIfNeeded(at path: String = "/sys/fs/bpf") throws(XDPBlockError) {
    do {
      try SystemInfo.mountBPFFSIfNeeded(at: path)
    } catch {
      if error.errno == .notPermitted || error.errno == .permissionDenied {
        throw .permissionDenied(operation: "mount bpffs at \(path)", detail: "\(error.errno)")
      }
      throw .failed("mount bpffs at \(path): \(error.errno)")
    }
  }

  // MARK: Network namespaces

  /// The nsfs magic number (linux/magic.h NSFS_MAGIC).
  private static let nsfsMagic: UInt32 = 0x6e73_6673

  /// The inode of network namespace `namespace` (`/var/run/netns/NAME`), or of this
  /// process's own network namespace when `nil`: what tells one namespace from a later one
  /// of the same name.
  ///
  /// Throws ``XDPBlockError/invalidNamespaceName(_:)`` for a name that is not one name under
  /// /var/run/netns, ``XDPBlockError/noSuchNamespace(_:)`` when nothing is there and
  /// ``XDPBlockError/notANamespace(_:reason:)`` when what is there is not a namespace.
  public static func namespaceInode(_ namespace: String?) throws(XDPBlockError) -> UInt64 {
    guard let namespace else {
      guard let inode = inodeOf("/proc/self/ns/net") else {
        throw .failed("read /proc/self/ns/net: \(Errno.current)")
      }
      return inode
    }
    guard PinLayout.isValidComponent(namespace) else { throw .invalidNamespaceName(namespace) }
    let path = "\(namedNetworkNamespaceDirectory)/\(namespace)"
    var info = stat()
    guard lstat(path, &info) == 0 else {
      let code = Errno.current
      if code == .noSuchFileOrDirectory { throw .noSuchNamespace(namespace) }
      throw .failed("look at \(path): \(code)")
    }
    if info.st_mode & S_IFMT == S_IFLNK { throw .notANamespace(namespace, reason: "it is a symbolic link") }
    let magic: UInt32
    do { magic = try SystemInfo.fileSystemMagic(path: path) } catch { throw .failed("look at \(path): \(error.errno)") }
    guard magic == nsfsMagic else {
      let kind = info.st_mode & S_IFMT == S_IFREG ? "a regular file" : "not a namespace file"
      throw .notANamespace(namespace, reason: "\(kind), not a namespace mounted by `ip netns add`")
    }
    return UInt64(info.st_ino)
  }

  /// Runs `body` with the calling thread in network namespace `namespace` (a name under
  /// /var/run/netns, as `ip netns add` makes), or directly when `namespace` is `nil`.
  ///
  /// Only the network calls belong inside: interface lookups, attach, query, detach, sockets.
  /// The namespace is checked first, as ``namespaceInode(_:)`` does.
  public static func inNetworkNamespace<R>(_ namespace: String?, _ body: () throws -> R) throws -> R {
    guard let namespace else { return try body() }
    _ = try namespaceInode(namespace)
    return try withNetworkNamespace(named: namespace, body)
  }

  /// The index of `interface` in `namespace` (the host's when `nil`), or `nil` if there is
  /// no such interface there.
  public static func interfaceIndex(_ interface: String, namespace: String?) throws(XDPBlockError) -> Int32? {
    do {
      return try inNetworkNamespace(namespace) { () -> Int32? in
        let index = if_nametoindex(interface)
        return index == 0 ? nil : Int32(bitPattern: index)
      }
    } catch let error as XDPBlockError {
      throw error
    } catch {
      throw .failed("enter network namespace \(namespace ?? "?"): \(error)")
    }
  }
}
