import Foundation
import Glibc
import Testing
import XDPBlockCore
import XDPKit
import XDPKitTestSupport

/// `attach` refuses when its pins would not outlive it, judged on the root it pins in and
/// against the initial mount namespace — never against a parent that may share a private one.
@Suite("xdp-block attach: pins that would not outlive the command", .kernel, .serialized)
struct PersistenceCheckTests {
  typealias Fixture = StateRecoveryTests.Fixture

  private static let hint = "hint: run xdp-block in the host's mount namespace (for an interface in a network namespace, "
    + "use --netns NAME rather than `ip netns exec`), with XDP_BLOCK_BPFFS_ROOT and LIBXDP_BPFFS in the host's bpffs\n"

  @Test("a private bpffs mounted where XDP_BLOCK_BPFFS_ROOT points is refused, not only one at /sys/fs/bpf")
  func privateBPFFSAtTheRoot() throws {
    let f = try Fixture()
    let mount = FileManager.default.temporaryDirectory.appendingPathComponent("xdpkit-private-bpffs-\(getpid())").path
    try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
    defer { rmdir(mount) }
    let result = try Command.run("/usr/bin/unshare", [
      "-m", "--propagation", "private", "sh", "-c",
      "mount -t bpf -o mode=0700 bpf \(mount) && exec env XDP_BLOCK_BPFFS_ROOT=\(mount)/xdp-block LIBXDP_BPFFS=\(mount) "
        + "\(try Tool.path) attach \(f.iface) --netns \(f.ns) --direct",
    ])
    #expect(result.status == 1, "\(result)")
    #expect(result.standardError == "error: pins under \(mount)/xdp-block would not outlive this command: the bpffs at "
      + "\(mount) belongs to this process's private mount namespace, not to the host's\n" + Self.hint)
    #expect(try f.attachedProgram() == nil)
  }

  @Test("under `ip netns exec … sh -c`, whose parent shares the private mount namespace, attach refuses")
  func parentInThePrivateNamespace() throws {
    let f = try Fixture()
    let ip = try Command.ipPath()
    let result = try Command.run(ip, [
      "netns", "exec", f.ns, "sh", "-c",
      "env XDP_BLOCK_BPFFS_ROOT=\(f.root.path) \(try Tool.path) attach \(f.iface) --direct; echo status $?",
    ])
    #expect(result.standardOutput == "status 1\n", "\(result)")
    #expect(result.standardError == "error: pins under \(f.root.path) would not outlive this command: no bpffs is mounted "
      + "at /sys/fs/bpf and this process runs in a private mount namespace\n" + Self.hint)
    #expect(try f.attachedProgram() == nil)
  }

  @Test("where no process of the initial mount namespace can be read, attach refuses and names the override")
  func initialNamespaceUnreadable() throws {
    let f = try Fixture()
    // uid 65534 with the capabilities attach needs but not CAP_SYS_PTRACE: /proc/1/ns/mnt and
    // the kernel threads' namespaces are closed to it, as PID 1 is in some sandboxes.
    let capabilities = "+sys_admin,+bpf,+net_admin,+perfmon"
    let asNobody = [
      "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=\(capabilities)",
      "--ambient-caps=\(capabilities)", "--", "env", "XDP_BLOCK_BPFFS_ROOT=\(f.root.path)",
    ]
    let arguments = ["attach", f.iface, "--netns", f.ns, "--direct"]
    let refused = try Command.run("/usr/bin/env", asNobody + [try Tool.path] + arguments)
    #expect(refused.status == 1, "\(refused)")
    #expect(refused.standardError == "error: pins under \(f.root.path) would not outlive this command: the initial mount "
      + "namespace cannot be compared with this process's (neither /proc/1/ns/mnt nor a kernel thread's can be read), "
      + "so it cannot tell whether the bpffs there is the host's; set XDP_BLOCK_ASSUME_PERSISTENT_BPFFS=1 if it is\n"
      + Self.hint)
    // Vouched for, the check lets it through to the next one: uid 65534 cannot reach bpffs.
    let vouched = try Command.run(
      "/usr/bin/env", asNobody + ["XDP_BLOCK_ASSUME_PERSISTENT_BPFFS=1", try Tool.path] + arguments)
    #expect(vouched.status == 1, "\(vouched)")
    #expect(!vouched.standardError.contains("would not outlive"), "\(vouched.standardError)")
    #expect(vouched.standardError.hasPrefix("error: refusing to use xdp-block's state: "), "\(vouched.standardError)")
    #expect(try f.attachedProgram() == nil)
  }
}
