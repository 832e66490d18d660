import Foundation
import Glibc
import Synchronization
import Testing
import XDPBlockCore
import XDPKit
import XDPKitTestSupport

/// xdp-block's pinned state on a shared host: what another user, an interrupted command or a
/// second xdp-block can do to it. Each test uses its own state root (XDP_BLOCK_BPFFS_ROOT) so
/// that attacks on it stay away from the other tests.
@Suite("xdp-block state on a shared host", .kernel, .serialized)
struct StateSafetyTests {
  /// A fresh root under /sys/fs/bpf for one test, removed afterwards without following links.
  final class Root {
    let path: String
    private static let counter = Mutex(0)

    init() throws {
      try mountBPFFSIfNeeded()
      let n = Self.counter.withLock { value -> Int in
        value += 1
        return value
      }
      path = "/sys/fs/bpf/xdpkit-state-\(getpid())-\(n)"
    }

    var environment: [String: String] { ["XDP_BLOCK_BPFFS_ROOT": path] }

    func layout(_ interface: String, _ namespace: String?) throws -> PinLayout {
      try PinLayout(interface: interface, namespace: namespace, root: path)
    }

    /// Runs xdp-block with this root.
    func run(_ arguments: [String], environment extra: [String: String] = [:], prefix: [String] = [])
      throws -> CommandResult
    {
      try Tool.run(arguments, environment: environment.merging(extra) { $1 }, prefix: prefix)
    }

    deinit {
      let (directory, name) = (try? BPFFSDirectory.split(path)) ?? ("/", "")
      _ = try? BPFFSDirectory.open(directory).removeTree(name)
    }
  }

  /// The entries of a state or interface directory, by lstat.
  private func names(_ path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
  }

  private func mode(_ path: String) -> mode_t? {
    var info = stat()
    return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
  }

  // MARK: Another user

  @Test("an unprivileged user's directory and symbolic links are refused; root's victim survives")
  func symlinkAttack() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let (ns, iface) = (network.namespaceB, network.interfaceB)
    // A world-writable sticky parent, as /sys/fs/bpf is when bpffs is mounted without mode=.
    let shared = "/sys/fs/bpf/xdpkit-shared-\(getpid())"
    #expect(mkdir(shared, 0o755) == 0)
    #expect(chmod(shared, 0o1777) == 0)
    defer { _ = try? BPFFSDirectory.open("/sys/fs/bpf").removeTree("xdpkit-shared-\(getpid())") }
    let victim = FileManager.default.temporaryDirectory.appendingPathComponent("xdpkit-victim-\(getpid())").path
    try FileManager.default.createDirectory(atPath: victim + "/\(iface)", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: victim) }

    let root = shared + "/xdp-block"
    let attacker = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    let canTraverse = (mode("/sys/fs/bpf") ?? 0) & 0o001 != 0
    if canTraverse {
      // As uid 65534: the directory root will use, and a link in it to root's victim.
      let setup = try Command.run("/usr/bin/env", attacker + [
        "sh", "-c", "mkdir -p \(root)/netns && ln -s \(victim) \(root)/netns/\(ns)",
      ])
      #expect(setup.status == 0, "\(setup)")
    } else {
      // bpffs is mode 0700 here, so no other user can reach it: make the same files as root
      // and give them to uid 65534.
      #expect(mkdir(root, 0o755) == 0 && mkdir(root + "/netns", 0o755) == 0)
      #expect(symlink(victim, root + "/netns/\(ns)") == 0)
      for path in [root, root + "/netns", root + "/netns/\(ns)"] { #expect(lchown(path, 65534, 65534) == 0) }
    }
    let environment = ["XDP_BLOCK_BPFFS_ROOT": root]
    for command in [["detach", iface, "--netns", ns], ["attach", iface, "--netns", ns], ["list", "--iface", iface, "--netns", ns]] {
      let result = try Tool.run(command, environment: environment)
      #expect(result.status == 1, "\(command)")
      #expect(result.standardError.contains(
        "refusing to use xdp-block's state: \(root): owned by uid 65534, not by uid 0; refusing to trust it"),
        "\(command): \(result.standardError)")
    }
    #expect(FileManager.default.fileExists(atPath: victim + "/\(iface)"))
    #expect(try !network.xdpState(.b).isAttached)

    // The root itself a link to the victim: refused as a link.
    let linked = shared + "/linked"
    if canTraverse {
      #expect(try Command.run("/usr/bin/env", attacker + ["ln", "-s", victim, linked]).status == 0)
    } else {
      #expect(symlink(victim, linked) == 0)
    }
    let viaLink = try Tool.run(["detach", iface], environment: ["XDP_BLOCK_BPFFS_ROOT": linked])
    #expect(viaLink.status == 1)
    #expect(viaLink.standardError.contains("\(linked): is a symbolic link"), "\(viaLink.standardError)")
    #expect(FileManager.default.fileExists(atPath: victim + "/\(iface)"))
  }

  @Test("under umask 000 every directory is 0700 and every pin 0600")
  func umaskZero() throws {
    let network = try TestNetwork()
    let root = try Root()
    let (ns, iface) = (network.namespaceB, network.interfaceB)
    defer {
      removePins(interface: iface, namespace: ns, root: root.path)
      network.destroy()
    }
    let attach = try Command.run("/bin/sh", [
      // --direct: the link is pinned too (behind a dispatcher there is none), also in the VM.
      "-c", "umask 000; exec env XDP_BLOCK_BPFFS_ROOT=\(root.path) \(try Tool.path) attach \(iface) --netns \(ns) --direct",
    ])
    #expect(attach.status == 0, "\(attach)")
    let layout = try root.layout(iface, ns)
    let state = try FileManager.default.destinationOfSymbolicLink(atPath: layout.currentDirectory)
    for directory in [root.path, root.path + "/netns", root.path + "/netns/\(ns)", layout.directory, layout.directory + "/" + state] {
      #expect(mode(directory) == 0o700, "\(directory)")
    }
    for pin in ["link", "program", "BLOCKLIST", "BLOCKLIST6", "CIDR4", "CIDR6", "EVENTS", "EVENT_BUDGET", "STATS"] {
      #expect(mode(layout.directory + "/" + state + "/" + pin) == 0o600, "\(pin)")
    }
  }

  // MARK: Names

  @Test("a host interface called netns-X and namespace X's interface keep separate state")
  func namespaceNameCollision() throws {
    let network = try TestNetwork()
    let root = try Root()
    let short = "xc\(String(getpid(), radix: 36))"
    let ip = try Command.ipPath()
    try Command.check(ip, ["netns", "add", short])
    defer { _ = try? Command.run(ip, ["netns", "delete", short]) }
    try Command.check(ip, ["-n", short, "link", "add", "xcv0", "type", "veth", "peer", "name", "xcv1"])
    try Command.check(ip, ["-n", short, "link", "set", "xcv0", "up"])
    try Command.check(ip, ["-n", short, "link", "set", "xcv1", "up"])
    // In namespace A (the tool's "host" for this test, entered with nsenter), an interface
    // named like X's directory under the old layout.
    let lookalike = "netns-\(short)"
    try Command.check(ip, ["-n", network.namespaceA, "link", "add", lookalike, "type", "veth", "peer", "name", "xcpeer"])
    try Command.check(ip, ["-n", network.namespaceA, "link", "set", lookalike, "up"])
    try Command.check(ip, ["-n", network.namespaceA, "link", "set", "xcpeer", "up"])
    let inA = ["nsenter", "--net=/var/run/netns/\(network.namespaceA)", "--"]
    defer {
      _ = try? root.run(["detach", lookalike], prefix: inA)
      _ = try? root.run(["detach", "xcv0", "--netns", short])
      network.destroy()
    }

    #expect(try root.run(["attach", "xcv0", "--netns", short, "--block", "192.0.2.8"]).status == 0)
    let host = try root.run(["attach", lookalike, "--block", "192.0.2.7"], prefix: inA)
    #expect(host.status == 0, "\(host)")
    #expect(host.standardOutput.contains("state pinned in \(root.path)/host/\(lookalike)"))
    let detach = try root.run(["detach", lookalike], prefix: inA)
    #expect(detach.status == 0, "\(detach)")

    let list = try root.run(["list", "--iface", "xcv0", "--netns", short])
    #expect(list.status == 0, "\(list)")
    #expect(list.standardOutput.contains("192.0.2.8"))
    #expect(list.standardOutput.contains("attached in"))
  }

  @Test("--netns must name a namespace: a path or a regular file is refused with the reason")
  func namespaceArguments() throws {
    let root = try Root()
    let path = try root.run(["attach", "veth0", "--netns", "../../proc/1/ns/net"])
    #expect(path.status == 1)
    #expect(path.standardError.contains("invalid network namespace name \"../../proc/1/ns/net\""), "\(path.standardError)")
    #expect(!path.standardError.contains("ip netns add"))
    let file = "xkfile-\(getpid())"
    try FileManager.default.createDirectory(atPath: "/var/run/netns", withIntermediateDirectories: true)
    #expect(FileManager.default.createFile(atPath: "/var/run/netns/\(file)", contents: Data()))
    defer { unlink("/var/run/netns/\(file)") }
    let regular = try root.run(["attach", "veth0", "--netns", file])
    #expect(regular.status == 1)
    #expect(regular.standardError.contains("/var/run/netns/\(file) is not a network namespace: a regular file"),
            "\(regular.standardError)")
    #expect(!FileManager.default.fileExists(atPath: root.path))
  }
}
