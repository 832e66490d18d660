import Foundation
import Glibc
import Testing
import XDPBlockCore
import XDPKitTestSupport

/// `--iface` may be omitted when xdp-block is attached to exactly one interface: the pinned
/// state says which. With none or several, the error says so and names the candidates.
@Suite("xdp-block: --iface omitted")
struct InterfaceDefaultTests {
  /// A directory tree shaped like the pinned state (no bpffs needed to list it).
  final class Tree {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("xdp-block-tree-\(UUID().uuidString)").path

    /// Makes `components` under the root, with a `current` entry when `published`.
    func add(_ components: [String], published: Bool = true) throws {
      let directory = ([root] + components).joined(separator: "/")
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      if published { try FileManager.default.createSymbolicLink(atPath: directory + "/current", withDestinationPath: "state-1") }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }
  }

  @Test("the attached interfaces are those with published state, names unescaped, host first")
  func listsPublished() throws {
    let tree = Tree()
    try tree.add(["host", "ens9%2e100"])
    try tree.add(["host", "veth1"])
    try tree.add(["host", "stale0"], published: false)
    try tree.add(["netns", "blue", "veth0"])
    try tree.add(["netns", "a%25b", "veth9"])
    let found = PinLayout.attached(root: tree.root).map(\.interfaceDescription)
    #expect(found == ["ens9.100", "veth1", "veth9 (netns a%b)", "veth0 (netns blue)"])
    #expect(PinLayout.attached(namespace: "blue", root: tree.root).map(\.interfaceDescription) == ["veth0 (netns blue)"])
    #expect(PinLayout.attached(namespace: "", root: tree.root).map(\.interfaceDescription) == ["ens9.100", "veth1"])
    #expect(PinLayout.attached(root: tree.root + "/none").isEmpty)
  }

  @Test("resolve: the one attached interface; none and several are errors that name them")
  func resolves() throws {
    let tree = Tree()
    #expect(throws: Never.self) { try PinLayout.resolve(interface: "veth3", namespace: nil, root: tree.root) }
    do {
      _ = try PinLayout.resolve(interface: nil, namespace: nil, root: tree.root)
      Issue.record("resolved with nothing attached")
    } catch {
      #expect(error.description == "no --iface given, and xdp-block is attached to no interface: nothing pinned under \(tree.root)")
      #expect(error.hint == "attach it with `xdp-block attach IFACE`, or name the interface with --iface")
    }
    try tree.add(["netns", "blue", "veth0"])
    let one = try PinLayout.resolve(interface: nil, namespace: nil, root: tree.root)
    #expect(one == (try PinLayout(interface: "veth0", namespace: "blue", root: tree.root)))
    do {
      _ = try PinLayout.resolve(interface: nil, namespace: "green", root: tree.root)
      Issue.record("resolved in a namespace with nothing attached")
    } catch {
      #expect(error.description == "no --iface given, and xdp-block is attached to no interface in network namespace green: nothing pinned under \(tree.root)")
    }
    try tree.add(["host", "eth1"])
    do {
      _ = try PinLayout.resolve(interface: nil, namespace: nil, root: tree.root)
      Issue.record("resolved with two attached")
    } catch {
      #expect(error.description == "no --iface given, and xdp-block is attached to 2 interfaces: eth1, veth0 (netns blue)")
      #expect(error.hint == "name one: --iface eth1, or --iface veth0 --netns blue")
    }
    #expect(try PinLayout.resolve(interface: nil, namespace: "blue", root: tree.root).interfaceDescription == "veth0 (netns blue)")
  }
}

/// The same through the tool: attach, then add/list/stats/log/remove without `--iface`.
@Suite("xdp-block commands without --iface", .kernel, .serialized)
struct InterfaceDefaultCommandTests {
  @Test("one attached interface is used; a second makes the commands name both")
  func commandsWithoutInterface() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let root = try StateSafetyTests.Root()
    let (ns, iface) = (network.namespaceB, network.interfaceB)

    let none = try root.run(["list"])
    #expect(none.status == 1)
    #expect(none.standardError == """
      error: no --iface given, and xdp-block is attached to no interface: nothing pinned under \(root.path)
      hint: attach it with `xdp-block attach IFACE`, or name the interface with --iface

      """)

    let attach = try root.run(["attach", iface, "--netns", ns, "--direct", "--log-events"])
    #expect(attach.status == 0, "\(attach.standardError)")
    defer { _ = try? root.run(["detach", iface, "--netns", ns]) }

    let add = try root.run(["add", "192.0.2.1"])
    #expect(add.status == 0, "\(add.standardError)")
    #expect(add.standardOutput == "blocked 192.0.2.1 (exact)\n")
    try network.disableIPv6(on: .a)
    try network.sendUDP(from: .a, to: network.ipv4B, count: 3, port: 7104, source: "192.0.2.1")

    let list = try root.run(["list"])
    #expect(list.status == 0, "\(list.standardError)")
    #expect(list.standardOutput.hasPrefix("xdp_firewall on \(iface) (netns \(ns)): "), "\(list.standardOutput)")
    #expect(CommandLineTests.listedHits(list.standardOutput, "192.0.2.1") == 3, "\(list.standardOutput)")
    let stats = try root.run(["stats"])
    #expect(stats.status == 0, "\(stats.standardError)")
    #expect(CommandLineTests.statsPackets(stats.standardOutput, "XDP_DROP") == 3, "\(stats.standardOutput)")
    let log = try root.run(["log", "--duration", "0.5"])
    #expect(log.status == 0, "\(log.standardError)")
    #expect(log.standardOutput.components(separatedBy: "SRC: 192.0.2.1, ACTION: 1 (drop), REASON: exact").count - 1 == 3)

    // Without --duration, log reads until SIGTERM cancels it (Interruption), and exits 0.
    let follow = try BackgroundTool(["log"], environment: root.environment)
    try network.sendUDP(from: .a, to: network.ipv4B, count: 2, port: 7104, source: "192.0.2.1")
    #expect(follow.waitForOutput(containing: "SRC: 192.0.2.1"), "\(follow.output)\(follow.errors)")
    follow.send(SIGTERM)
    #expect(follow.wait() == 0, "\(follow.errors)")
    #expect(follow.output.components(separatedBy: "SRC: 192.0.2.1, ACTION: 1 (drop), REASON: exact").count - 1 == 2)

    // A second interface: the commands refuse and name both.
    let other = try root.run(["attach", network.interfaceA, "--netns", network.namespaceA, "--direct"])
    #expect(other.status == 0, "\(other.standardError)")
    defer { _ = try? root.run(["detach", network.interfaceA, "--netns", network.namespaceA]) }
    let candidates = [(network.namespaceA, network.interfaceA), (ns, iface)].sorted { $0 < $1 }
    let ambiguous = try root.run(["remove", "192.0.2.1"])
    #expect(ambiguous.status == 1)
    #expect(ambiguous.standardError == """
      error: no --iface given, and xdp-block is attached to 2 interfaces: \
      \(candidates.map { "\($0.1) (netns \($0.0))" }.joined(separator: ", "))
      hint: name one: \(candidates.map { "--iface \($0.1) --netns \($0.0)" }.joined(separator: ", or "))

      """)
    // --netns alone narrows it to one.
    let remove = try root.run(["remove", "192.0.2.1", "--netns", ns])
    #expect(remove.status == 0, "\(remove.standardError)")
    #expect(remove.standardOutput == "unblocked 192.0.2.1\n")
  }
}
