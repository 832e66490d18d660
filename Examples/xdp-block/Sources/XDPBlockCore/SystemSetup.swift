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

  /// Mounts bpffs at `path` (`/sys/fs/bpf`) unless one is mounted there already, as
  /// `mount -t bpf bpf /sys/fs/bpf` would.
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

  /// Runs `body` with the calling thread in network namespace `namespace` (a name under
  /// /var/run/netns, as `ip netns add` makes), or directly when `namespace` is `nil`.
  ///
  /// Only the network calls belong inside: interface lookups, attach, query, detach, sockets.
  /// Throws ``XDPBlockError/noSuchNamespace(_:)`` when there is no such namespace.
  public static func inNetworkNamespace<R>(_ namespace: String?, _ body: () throws -> R) throws -> R {
    guard let namespace else { return try body() }
    guard PinLayout.isValidComponent(namespace),
      FileManager.default.fileExists(atPath: "\(namedNetworkNamespaceDirectory)/\(namespace)")
    else { throw XDPBlockError.noSuchNamespace(namespace) }
    return try withNetworkNamespace(named: namespace, body)
  }
}
