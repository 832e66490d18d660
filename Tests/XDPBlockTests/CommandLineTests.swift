import Foundation
import Glibc
import Testing
import XDPBlockCore
import XDPKit
import XDPKitTestSupport
import XDPPrograms

/// The built `xdp-block` executable, run as child processes against interfaces of a
/// ``TestNetwork`` (through `--netns`), as a user would run it.
@Suite("xdp-block command line", .kernel, .serialized)
struct CommandLineTests {
  /// The hit count `list` prints for `entry`, or `nil` if it does not list it.
  static func listedHits(_ output: String, _ entry: String) -> UInt64? {
    for line in output.split(separator: "\n") {
      let fields = line.split(separator: " ")
      if fields.count == 3, fields[0] == entry { return UInt64(fields[2]) }
    }
    return nil
  }

  /// The packets `stats` prints for `action` ("XDP_DROP").
  static func statsPackets(_ output: String, _ action: String) -> UInt64? {
    for line in output.split(separator: "\n") {
      let fields = line.split(separator: " ")
      if fields.count == 3, fields[0] == action { return UInt64(fields[1]) }
    }
    return nil
  }

  @Test("attach, add, list, stats, remove, detach: separate processes, one firewall")
  func persistentCommands() throws {
    let network = try TestNetwork()
    let (ns, iface) = (network.namespaceB, network.interfaceB)
    defer {
      removePins(interface: iface, namespace: ns)
      network.destroy()
    }
    try network.addAddress("192.0.2.3/24", on: .a)
    try network.disableIPv6(on: .a)
    let layout = try PinLayout(interface: iface, namespace: ns)

    // Alone through a link (--direct), as on a kernel that refuses freplace: the same test
    // passes in the 6.1 VM. XDPBlockDispatcherTests covers the dispatcher.
    let attach = try Tool.run(["attach", iface, "--netns", ns, "--log-events", "--direct"])
    #expect(attach.status == 0, "\(attach.standardError)")
    #expect(attach.standardOutput.contains("attached xdp_firewall (program id "))
    #expect(attach.standardOutput.contains("state pinned in \(layout.directory)"))
    let state = try network.xdpState(.b)
    #expect(state.isAttached)
    let id = try #require(state.programID)
    #expect(attach.standardOutput.contains("program id \(id))"))
    for name in ["link", "program", "BLOCKLIST", "BLOCKLIST6", "CIDR4", "CIDR6", "EVENTS", "EVENT_BUDGET", "STATS"] {
      #expect(FileManager.default.fileExists(atPath: layout.currentDirectory + "/" + name), "\(name) pinned")
    }

    // A second attach refuses: xdp-block is there already.
    let again = try Tool.run(["attach", iface, "--netns", ns])
    #expect(again.status == 1)
    #expect(again.standardError.contains("xdp-block is already attached to \(iface)"))

    let add = try Tool.run(["add", "192.0.2.1", "198.51.100.0/24", "2001:db8::/48", "--iface", iface, "--netns", ns])
    #expect(add.status == 0, "\(add.standardError)")
    #expect(add.standardOutput.contains("blocked 192.0.2.1 (exact)"))
    #expect(add.standardOutput.contains("blocked 198.51.100.0/24 (prefix)"))
    let duplicate = try Tool.run(["add", "192.0.2.1", "--iface", iface, "--netns", ns])
    #expect(duplicate.status == 0)
    #expect(duplicate.standardOutput.contains("192.0.2.1 is already blocked"))

    let receiver = try network.countingReceiver(in: .b, port: 7101, address: network.ipv4B)
    try network.sendUDP(from: .a, to: network.ipv4B, count: 30, port: 7101, source: "192.0.2.1")
    try network.sendUDP(from: .a, to: network.ipv4B, count: 20, port: 7101, source: "192.0.2.3")
    #expect(receiver.count() == 20)

    // The drop events wait in the pinned ring buffer for a reader.
    let log = try Tool.run(["log", "--iface", iface, "--netns", ns, "--duration", "0.5"])
    #expect(log.status == 0, "\(log.standardError)")
    #expect(log.standardOutput.components(separatedBy: "SRC: 192.0.2.1, ACTION: 1 (drop), REASON: exact").count - 1 == 30)

    let list = try Tool.run(["list", "--iface", iface, "--netns", ns])
    #expect(list.status == 0, "\(list.standardError)")
    #expect(list.standardOutput.contains("attached in native mode (program id \(id)"))
    #expect(Self.listedHits(list.standardOutput, "192.0.2.1") == 30)
    #expect(Self.listedHits(list.standardOutput, "198.51.100.0/24") == 0)
    #expect(Self.listedHits(list.standardOutput, "2001:db8::/48") == 0)

    let stats = try Tool.run(["stats", "--iface", iface, "--netns", ns])
    #expect(stats.status == 0, "\(stats.standardError)")
    #expect(Self.statsPackets(stats.standardOutput, "XDP_DROP") == 30)
    #expect(Self.statsPackets(stats.standardOutput, "XDP_PASS") == 20)
    #expect(stats.standardOutput.contains("blocklist: 1 addresses, 2 prefixes"))

    let remove = try Tool.run(["remove", "192.0.2.1", "--iface", iface, "--netns", ns])
    #expect(remove.status == 0, "\(remove.standardError)")
    #expect(remove.standardOutput.contains("unblocked 192.0.2.1"))
    let missing = try Tool.run(["remove", "192.0.2.1", "--iface", iface, "--netns", ns])
    #expect(missing.status == 1)
    #expect(missing.standardError.contains("not in the blocklist: 192.0.2.1"))
    #expect(Self.listedHits(try Tool.run(["list", "--iface", iface, "--netns", ns]).standardOutput, "192.0.2.1") == nil)
    receiver.reset()
    try network.sendUDP(from: .a, to: network.ipv4B, count: 10, port: 7101, source: "192.0.2.1")
    #expect(receiver.count() == 10)

    let detach = try Tool.run(["detach", iface, "--netns", ns])
    #expect(detach.status == 0, "\(detach.standardError)")
    #expect(detach.standardOutput.contains("detached xdp_firewall (program id \(id)) from \(iface)"))
    #expect(try !network.waitForXDPState(.b) { !$0.isAttached }.isAttached)
    #expect(!FileManager.default.fileExists(atPath: layout.directory))
    #expect(!FileManager.default.fileExists(atPath: layout.root + "/netns/" + ns))

    let after = try Tool.run(["list", "--iface", iface, "--netns", ns])
    #expect(after.status == 1)
    #expect(after.standardError.contains("xdp-block is not attached to \(iface)"))
  }

  @Test("attach refuses another program and suggests --replace; --replace takes over")
  func replaceForeignProgram() throws {
    let network = try TestNetwork()
    let (ns, iface) = (network.namespaceB, network.interfaceB)
    defer {
      removePins(interface: iface, namespace: ns)
      network.destroy()
    }
    // Someone else's program, attached through netlink.
    let pass = try BPFObject(bytes: XDPPrograms.pass).load()
    defer { pass.close() }
    let other = try pass.xdpProgram("xdp_pass")
    _ = try network.withNamespace(.b) {
      try other.attach(to: .name(iface), mode: .generic, method: .netlink(replacing: .nothing))
    }
    let otherID = try other.program.id
    #expect(try network.xdpState(.b).programID == otherID)

    let refused = try Tool.run(["attach", iface, "--netns", ns])
    #expect(refused.status == 1)
    #expect(refused.standardError.contains(
      "another XDP program is already attached to \(iface) in network namespace \(ns) (program id \(otherID), generic mode)"),
      "\(refused.standardError)")
    #expect(refused.standardError.contains("run `xdp-block attach \(iface) --netns \(ns) --replace`"))
    #expect(try network.xdpState(.b).programID == otherID)

    let replaced = try Tool.run(["attach", iface, "--netns", ns, "--replace", "--mode", "generic", "--block", "192.0.2.1"])
    #expect(replaced.status == 0, "\(replaced.standardError)")
    #expect(replaced.standardOutput.contains("replaced program id \(otherID)"))
    #expect(replaced.standardOutput.contains("in generic mode"))
    #expect(replaced.standardOutput.contains("blocked 192.0.2.1 (exact)"))
    let state = try network.xdpState(.b)
    #expect(state.mode == .generic)
    #expect(state.programID != otherID)

    // --replace over xdp-block itself reloads in place, keeping the entries.
    let reload = try Tool.run(["attach", iface, "--netns", ns, "--replace", "--log-events"])
    #expect(reload.status == 0, "\(reload.standardError)")
    #expect(reload.standardOutput.contains("kept 1 entry of the previous program"))
    #expect(Self.listedHits(try Tool.run(["list", "--iface", iface, "--netns", ns]).standardOutput, "192.0.2.1") == 0)
    #expect(try network.xdpState(.b).isAttached)

    #expect(try Tool.run(["detach", iface, "--netns", ns]).status == 0)
    #expect(try !network.waitForXDPState(.b) { !$0.isAttached }.isAttached)
  }

  @Test("detach still cleans up after the interface's namespace is gone")
  func detachAfterNamespaceGone() throws {
    let network = try TestNetwork()
    let (ns, iface) = (network.namespaceB, network.interfaceB)
    defer {
      removePins(interface: iface, namespace: ns)
      network.destroy()
    }
    #expect(try Tool.run(["attach", iface, "--netns", ns, "--block", "192.0.2.1"]).status == 0)
    network.destroy()
    let layout = try PinLayout(interface: iface, namespace: ns)
    // The state no longer tells the truth: the commands that would act on it refuse, naming why.
    for command in [["list"], ["stats"], ["add", "192.0.2.9"]] {
      let result = try Tool.run(command + ["--iface", iface, "--netns", ns])
      #expect(result.status == 1)
      #expect(result.standardError.contains(
        "the pinned state of \(iface) (netns \(ns)) is stale: network namespace \(ns) no longer exists"),
        "\(command): \(result.standardError)")
    }
    let detach = try Tool.run(["detach", iface, "--netns", ns])
    #expect(detach.status == 0, "\(detach.standardError)")
    #expect(detach.standardOutput.contains("removed stale state of xdp_firewall (program id "))
    #expect(detach.standardOutput.contains("on \(iface) (netns \(ns)): network namespace \(ns) no longer exists"))
    #expect(!FileManager.default.fileExists(atPath: layout.directory))
  }

  @Test("run: live counters, --log events, and SIGTERM detaches and exits 0")
  func foregroundRun() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    try network.addAddress("192.0.2.3/24", on: .a)
    try network.disableIPv6(on: .a)
    // B neither answers with ICMP (a socket is bound) nor asks ARP for 192.0.2.3: no reply
    // traffic adds packets to what B's firewall counts.
    try network.addPeerNeighbour("192.0.2.3", on: .b)
    let receiver = try network.countingReceiver(in: .b, port: 7102, address: network.ipv4B)
    let run = try BackgroundTool([
      "run", "--iface", network.interfaceB, "--netns", network.namespaceB, "--block", "192.0.2.1",
      "--block", "198.51.100.0/24", "--log", "--duration", "60",
    ])
    #expect(run.waitForOutput(containing: "attached xdp_firewall"), "\(run.output)\(run.errors)")
    // The next line may come a moment later (much later in the VM suite): wait for it.
    #expect(run.waitForOutput(containing: "blocking: "), "\(run.output)\(run.errors)")
    #expect(run.output.contains("blocking: 192.0.2.1 (exact), 198.51.100.0/24 (prefix)"))
    #expect(try network.xdpState(.b).isAttached)

    try network.sendUDP(from: .a, to: network.ipv4B, count: 5, port: 7102, source: "192.0.2.1")
    try network.sendUDP(from: .a, to: network.ipv4B, count: 7, port: 7102, source: "192.0.2.3")
    #expect(run.waitForOutput(containing: "SRC: 192.0.2.1, ACTION: 1 (drop), REASON: exact"))
    #expect(receiver.count() == 7)
    #expect(run.waitForOutput(containing: "passed 7 pkts"), "\(run.output)")
    #expect(run.output.contains("dropped 5 pkts"))

    run.send(SIGTERM)
    #expect(run.wait() == 0, "\(run.errors)")
    #expect(run.output.contains("detached from \(network.interfaceB) (netns \(network.namespaceB)) on SIGTERM: passed 7 packets, dropped 5 packets"))
    #expect(run.output.components(separatedBy: "SRC: 192.0.2.1, ACTION: 1 (drop), REASON: exact").count - 1 == 5)
    #expect(try !network.xdpState(.b).isAttached)
  }

  @Test("run killed with SIGKILL leaves no program on the interface (bpf_link)")
  func killedRunLeavesNothing() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let run = try BackgroundTool([
      "run", "--iface", network.interfaceB, "--netns", network.namespaceB, "--block", "192.0.2.1", "--duration", "60",
    ])
    #expect(run.waitForOutput(containing: "attached xdp_firewall"), "\(run.output)\(run.errors)")
    #expect(try network.xdpState(.b).isAttached)
    run.send(SIGKILL)
    #expect(run.wait() == 128 + SIGKILL)
    #expect(try !network.waitForXDPState(.b) { !$0.isAttached }.isAttached)
  }

  @Test("run --duration exits 0 by itself")
  func runDuration() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    try network.disableIPv6(on: .a)
    let result = try Tool.run(
      ["run", "--iface", network.interfaceB, "--netns", network.namespaceB, "--duration", "1.5"], timeout: .seconds(30))
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardOutput.contains("passed 0 pkts"))
    #expect(result.standardOutput.contains("detached from \(network.interfaceB)"))
    #expect(try !network.xdpState(.b).isAttached)
  }

  @Test("errors a user will hit: clear message, non-zero exit")
  func errors() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let ns = network.namespaceB

    let noInterface = try Tool.run(["attach", "xbnosuch0", "--netns", ns])
    #expect(noInterface.status == 1)
    #expect(noInterface.standardError.contains("interface xbnosuch0 not found in network namespace \(ns)"))
    let noRunInterface = try Tool.run(["run", "--iface", "xbnosuch0", "--netns", ns, "--duration", "1"])
    #expect(noRunInterface.status == 1)
    #expect(noRunInterface.standardError.contains("interface xbnosuch0 not found"))

    // A bridge the test creates in its own namespace has no native XDP: a clear hint, and auto
    // mode falls back to generic by itself.
    let bridge = "xbbridge0"
    try network.addBridge(bridge, on: .b)
    let native = try Tool.run(["run", "--iface", bridge, "--netns", ns, "--mode", "native", "--duration", "1"])
    #expect(native.status == 1)
    #expect(native.standardError.contains("\(bridge) does not support native XDP"), "\(native.standardError)")
    #expect(native.standardError.contains("try --mode generic"))
    let auto = try Tool.run(["run", "--iface", bridge, "--netns", ns, "--duration", "0.5"])
    #expect(auto.status == 0, "\(auto.standardError)")
    #expect(auto.standardOutput.contains("in generic mode via bpf_link"))
    #expect(auto.standardError.contains("falling back to generic mode"))

    let noNamespace = try Tool.run(["attach", "veth0", "--netns", "xb-no-such-namespace"])
    #expect(noNamespace.status == 1)
    #expect(noNamespace.standardError.contains("no network namespace named xb-no-such-namespace"))

    for bad in ["192.0.2.1/24", "192.0.2.300", "2001:db8::/129", "not-an-address"] {
      let invalid = try Tool.run(["run", "--iface", network.interfaceB, "--netns", ns, "--block", bad])
      #expect(invalid.status == 1)
      #expect(invalid.standardError.contains("invalid address or prefix \"\(bad)\""), "\(invalid.standardError)")
    }
    #expect(try !network.xdpState(.b).isAttached)

    let notAttached = try Tool.run(["add", "192.0.2.1", "--iface", network.interfaceB, "--netns", ns])
    #expect(notAttached.status == 1)
    #expect(notAttached.standardError.contains("xdp-block is not attached to \(network.interfaceB)"))
    let notAttachedDetach = try Tool.run(["detach", network.interfaceB, "--netns", ns])
    #expect(notAttachedDetach.status == 1)

    // A program attached by someone else stops `run` too, with the --replace hint's cousin.
    let pass = try BPFObject(bytes: XDPPrograms.pass).load()
    defer { pass.close() }
    let link = try network.withNamespace(.b) {
      try pass.xdpProgram("xdp_pass").attach(to: .name(network.interfaceB), mode: .auto, method: .link)
    }
    defer { try? link.detach() }
    let busy = try Tool.run(["run", "--iface", network.interfaceB, "--netns", ns, "--duration", "1"])
    #expect(busy.status == 1)
    #expect(busy.standardError.contains("another XDP program is already attached"))
    // …and --replace cannot take a program held by another process's bpf_link.
    let held = try Tool.run(["attach", network.interfaceB, "--netns", ns, "--replace"])
    #expect(held.status == 1)
    #expect(held.standardError.contains("attached through a bpf_link by another program"), "\(held.standardError)")
    removePins(interface: network.interfaceB, namespace: ns)
  }

  @Test("without root, every kernel command says what it needs and exits non-zero")
  func withoutRoot() throws {
    // setpriv (util-linux) drops to nobody with no capabilities at all.
    let setpriv = try Command.locate("setpriv", candidates: ["/usr/bin/setpriv", "/bin/setpriv"])
    let unprivileged = ["--reuid", "65534", "--regid", "65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"]
    let tool = try Tool.path
    for arguments in [["demo"], ["attach", "veth0"], ["run", "--iface", "veth0"], ["list", "--iface", "veth0"]] {
      let result = try Command.run(setpriv, unprivileged + [tool] + arguments)
      #expect(result.status == 1, "\(arguments): \(result.standardError)")
      #expect(result.standardError.contains("xdp-block \(arguments[0]) needs root (CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN)"),
              "\(result.standardError)")
    }
  }

  @Test("demo: runs on its own namespaces, reports drops and passes, cleans up, exits 0")
  func demo() throws {
    let result = try Tool.run(["demo"], timeout: .seconds(60))
    #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
    let output = result.standardOutput
    #expect(output.contains("dropped 100 packets"))
    #expect(output.contains("passed 100 packets"))
    #expect(output.contains("receiver got 0 of 100 from 192.0.2.1 (blocked) and 100 of 100 from 192.0.2.3 (allowed)"))
    #expect(output.contains("drop events from the EVENTS ring buffer: 100"))
    #expect(output.contains("SRC: 192.0.2.1, ACTION: 1 (drop), REASON: exact"))
    #expect(output.contains("result: OK"))
    #expect(output.contains("cleaned up: deleted network namespaces"))
    let left = (try? FileManager.default.contentsOfDirectory(atPath: namedNetworkNamespaceDirectory)) ?? []
    #expect(left.filter { $0.hasPrefix(DemoNetwork.namePrefix) }.isEmpty, "\(left)")
  }
}
