import Foundation
import Glibc
import Testing
import XDPBlockCore
@testable import XDPKit
import XDPKitTestSupport

/// `xdp-block attach` and the multi-program dispatcher (libxdp's protocol): it joins a
/// dispatcher of xdp-loader, installs one on an empty interface, leaves the other programs
/// alone on `detach`, and cleans up a state whose program another loader removed. In the 6.1
/// VM (Tests/VM/run.sh) every path runs; on a kernel under lockdown, which refuses freplace,
/// the tests assert the fallback to a link and the refusal of libxdp's single program.
@Suite("xdp-block behind a multi-program dispatcher", .kernel, .serialized)
struct XDPBlockDispatcherTests {
  typealias Root = StateSafetyTests.Root

  /// The object with `xdp_mark` (priority 20, chains on XDP_PASS and XDP_DROP; writes its mark
  /// 'A' into the first zero byte after the UDP header), for xdp-loader.
  static let neighbourObject = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("XDPKitObjectTests/Fixtures/multiprog_component.o").path

  /// Whether this kernel refuses freplace programs (lockdown).
  static func lockedDown() throws -> LockdownMode? {
    let mode = try #require(SystemInfo.lockdownMode(), "cannot read \(SystemInfo.lockdownPath): mount securityfs")
    return mode.refusesTrampolines ? mode : nil
  }

  /// One interface (B's veth) under test, its own state root, and the tools.
  final class Fixture {
    let network: TestNetwork
    let root: Root
    var ns: String { network.namespaceB }
    var iface: String { network.interfaceB }
    var on: [String] { ["--iface", iface, "--netns", ns] }

    init() throws {
      network = try TestNetwork()
      root = try Root()
      // No router solicitations or MLD reports from A reach B's counters.
      try network.disableIPv6(on: .a)
    }

    deinit {
      removePins(interface: iface, namespace: ns, root: root.path)
      _ = try? tool("xdp-filter", "unload", iface)
      _ = try? loader("unload", iface, "--all")
      network.destroy()
    }

    func run(_ arguments: [String], _ environment: [String: String] = [:]) throws -> CommandResult {
      try root.run(arguments, environment: environment)
    }

    /// `xdp-loader ARGUMENTS…` in B's namespace: through nsenter, since `ip netns exec`
    /// remounts /sys and so hides bpffs (and the dispatcher's pins) from it.
    @discardableResult
    func loader(_ arguments: String...) throws -> CommandResult {
      try tool("xdp-loader", arguments)
    }

    /// xdp-tools' `name ARGUMENTS…` in B's namespace, through nsenter.
    @discardableResult
    func tool(_ name: String, _ arguments: String...) throws -> CommandResult {
      try tool(name, arguments)
    }

    private func tool(_ name: String, _ arguments: [String]) throws -> CommandResult {
      let path = try Command.locate(name, candidates: ["/usr/sbin/\(name)", "/usr/bin/\(name)"])
      let nsenter = try Command.locate("nsenter", candidates: ["/usr/bin/nsenter", "/bin/nsenter"])
      return try Command.run(nsenter, ["--net=/run/netns/\(ns)", path] + arguments, timeout: .seconds(300))
    }

    /// Loads `xdp_mark` with xdp-loader.
    func loadNeighbour() throws -> CommandResult {
      try loader("load", "-m", "native", iface, XDPBlockDispatcherTests.neighbourObject, "-n", "xdp_mark")
    }

    /// What runs on B's veth.
    func programs() throws -> XDPInterfacePrograms {
      let interface = iface
      return try network.withNamespace(.b) { try XDP.programs(on: .name(interface)) }
    }

    /// What runs on B's veth, in words, for messages.
    var described: String { (try? programs().wording) ?? "unreadable" }

    /// The dispatcher's program id; `nil` without a dispatcher.
    func dispatcherID() throws -> UInt32? {
      guard case .dispatcher(let dispatcher) = try programs() else { return nil }
      return dispatcher.id
    }

    /// The dispatcher's programs as (name, id), in run order; `nil` without a dispatcher.
    func components() throws -> [(name: String, id: UInt32)]? {
      guard case .dispatcher(let dispatcher) = try programs() else { return nil }
      return dispatcher.components.map { ($0.name, $0.id) }
    }

    /// A test run of the interface's dispatcher on an IPv4 UDP frame from `source`: the
    /// verdict and the 8 bytes after the UDP header (where xdp_mark writes).
    func testRun(from source: String) throws -> (action: XDPAction?, trail: [UInt8]) {
      let id = try #require(try dispatcherID(), "no dispatcher on \(iface)")
      let program = LoadedProgram(
        fileDescriptor: try BPF.openProgram(id: id), name: "xdp_dispatcher", type: .xdp, sectionName: "xdp",
        expectedAttachType: nil, instructionCount: 0)
      let run = try program.testRun(packet: try Frame.ipv4UDP(from: source))
      return (run.action, Array(run.packet[42..<50]))
    }

    /// The program id `list` reports, or `nil` when `list` fails.
    func listedProgram() throws -> UInt32? {
      let list = try run(["list"] + on)
      guard list.status == 0, let range = list.standardOutput.range(of: "(program id ") else { return nil }
      return UInt32(list.standardOutput[range.upperBound...].prefix { $0.isNumber })
    }

    /// The names in the interface's state directory.
    func stateEntries() throws -> [String] {
      let directory = try root.layout(iface, ns).directory
      return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }
  }

  static let unmarked: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0]
  static let markedA: [UInt8] = [UInt8(ascii: "A"), 0, 0, 0, 0, 0, 0, 0]

  @Test("attach on an empty interface: behind a new dispatcher, or alone through a link where the kernel refuses freplace, and says so")
  func emptyInterface() throws {
    let f = try Fixture()
    let attach = try f.run(["attach", f.iface, "--netns", f.ns, "--block", "192.0.2.1"])
    #expect(attach.status == 0, "\(attach)")
    let layout = try f.root.layout(f.iface, f.ns)
    if let mode = try Self.lockedDown() {
      // Under lockdown: alone, through a pinned link, and the output says why.
      #expect(attach.standardOutput.hasPrefix(
        "the kernel is under lockdown (\(mode)), which refuses freplace (BPF_PROG_TYPE_EXT) programs: "
          + "attached alone, not behind a multi-program dispatcher; other XDP programs cannot join it on this interface\n"),
        "\(attach.standardOutput)")
      guard case .single(let id, "xdp_firewall", .native) = try f.programs() else {
        Issue.record("expected xdp_firewall alone, found \(try f.programs())")
        return
      }
      #expect(attach.standardOutput.contains(
        "attached xdp_firewall (program id \(id)) to \(f.iface) (netns \(f.ns)) in native mode via a pinned bpf_link\n"))
      #expect(FileManager.default.fileExists(atPath: layout.currentDirectory + "/link"))
      let record = try FileManager.default.destinationOfSymbolicLink(atPath: layout.currentDirectory + "/record")
      #expect(!record.contains("hook="), "\(record)")
      let status = try f.run(["status"] + f.on)
      #expect(status.status == 0)
      #expect(status.standardOutput.hasPrefix("xdp_firewall on \(f.iface) (netns \(f.ns)): attached in native mode (program id \(id), link id "))
      #expect(status.standardOutput.contains("bpf_link)\n"))
      #expect(!status.standardOutput.contains("dispatcher"))
      let detach = try f.run(["detach", f.iface, "--netns", f.ns])
      #expect(detach.standardOutput.hasPrefix("detached xdp_firewall (program id \(id)) from \(f.iface) (netns \(f.ns))\n"))
      #expect(try f.programs() == .none)
    } else {
      guard case .dispatcher(let dispatcher) = try f.programs(), dispatcher.components.count == 1 else {
        Issue.record("expected a dispatcher with xdp_firewall, found \(try f.programs())")
        return
      }
      let ours = dispatcher.components[0]
      #expect(ours.name == "xdp_firewall")
      #expect(ours.runConfig == XDPRunConfig(priority: 50, chainCallActions: 1 << XDPAction.pass.rawValue))
      #expect(attach.standardOutput.contains(
        "attached xdp_firewall (program id \(ours.id)) to \(f.iface) (netns \(f.ns)) in native mode behind the "
          + "multi-program dispatcher (program id \(dispatcher.id)), priority 50, chain on XDP_PASS\n"), "\(attach.standardOutput)")
      #expect(!attach.standardOutput.contains("lockdown"))
      #expect(!FileManager.default.fileExists(atPath: layout.currentDirectory + "/link"))
      let record = try FileManager.default.destinationOfSymbolicLink(atPath: layout.currentDirectory + "/record")
      #expect(record.hasSuffix(" hook=dispatcher dispatcher-id=\(dispatcher.id) program-id=\(ours.id)"), "\(record)")
      // It filters: blocked source dropped, another passed.
      #expect(try f.testRun(from: "192.0.2.1").action == .drop)
      #expect(try f.testRun(from: "192.0.2.3").action == .pass)
      let status = try f.run(["status"] + f.on)
      #expect(status.standardOutput.contains(
        "attached in native mode (program id \(ours.id), behind dispatcher id \(dispatcher.id), priority 50, chain on XDP_PASS; no other programs)"),
        "\(status.standardOutput)")
      let detach = try f.run(["detach", f.iface, "--netns", f.ns])
      #expect(detach.standardOutput.hasPrefix(
        "removed xdp_firewall (program id \(ours.id)) from the multi-program dispatcher on \(f.iface) (netns \(f.ns)); its other programs keep running\n"))
      #expect(try f.programs() == .none)
    }
    #expect(try f.stateEntries().isEmpty)
  }

  @Test("attach next to a program that is not a dispatcher refuses with the program's id; --direct next to a dispatcher refuses")
  func refusesSingleProgram() throws {
    let f = try Fixture()
    // A firewall this process attaches alone, through its own bpf_link.
    let other = try LoadedFirewall()
    defer { other.loaded.close() }
    let link = try f.network.withNamespace(.b) { try other.program.attach(to: .name(f.iface), mode: .native, method: .link) }
    let id = try #require(other.programID)
    let refused = try f.run(["attach", f.iface, "--netns", f.ns])
    #expect(refused.status == 1)
    #expect(refused.standardError == """
      error: another XDP program is already attached to \(f.iface) in network namespace \(f.ns) (program id \(id), native mode)
      hint: to put xdp-block in its place, run `xdp-block attach \(f.iface) --netns \(f.ns) --replace`

      """, "\(refused.standardError)")
    #expect(try f.stateEntries().isEmpty)
    try link.detach()

    guard try Self.lockedDown() == nil else { return }
    // --direct needs the interface to itself: not next to a dispatcher.
    #expect(try f.loadNeighbour().succeeded)
    guard case .dispatcher(let dispatcher) = try f.programs() else {
      Issue.record("expected xdp-loader's dispatcher, found \(try f.programs())")
      return
    }
    let direct = try f.run(["attach", f.iface, "--netns", f.ns, "--direct"])
    #expect(direct.status == 1)
    #expect(direct.standardError.hasPrefix(
      "error: a multi-program dispatcher (program id \(dispatcher.id)) runs 1 program(s) on \(f.iface) (netns \(f.ns)): "
        + "--direct needs the interface to itself; attach without --direct to join the dispatcher\n"), "\(direct.standardError)")
  }

  @Test("next to xdp-loader's program: both listed by xdp-loader and xdp-block, both run, each side's unload leaves the other")
  func coexistsWithXDPLoader() throws {
    let f = try Fixture()
    let first = try f.loadNeighbour()
    #expect(first.succeeded, "xdp-loader load: \(first.standardError)")
    if try Self.lockedDown() != nil {
      // libxdp attached xdp_mark alone: xdp-block does not throw it off.
      guard case .single(let id, "xdp_mark", .native) = try f.programs() else {
        Issue.record("expected xdp-loader's program alone, found \(try f.programs())")
        return
      }
      let refused = try f.run(["attach", f.iface, "--netns", f.ns])
      #expect(refused.status == 1)
      #expect(refused.standardError.hasPrefix(
        "error: another XDP program is already attached to \(f.iface) in network namespace \(f.ns) (program id \(id), native mode)\n"))
      #expect(try f.programs() == .single(id: id, name: "xdp_mark", mode: .native))
      return
    }
    guard let before = try f.components(), before.count == 1, before[0].name == "xdp_mark" else {
      Issue.record("expected xdp-loader's dispatcher with xdp_mark, found \(try f.programs())")
      return
    }
    let theirs = before[0].id

    // xdp-block joins, first in line.
    let attach = try f.run(["attach", f.iface, "--netns", f.ns, "--priority", "10", "--block", "192.0.2.1"])
    #expect(attach.status == 0, "\(attach)")
    guard let joined = try f.components(), joined.count == 2 else {
      Issue.record("expected two programs, found \(try f.programs())")
      return
    }
    let ours = joined[0].id
    #expect(joined.map(\.name) == ["xdp_firewall", "xdp_mark"])
    #expect(joined[1].id == theirs)
    #expect(attach.standardOutput.contains("other programs there: xdp_mark (id \(theirs), priority 20)\n"), "\(attach.standardOutput)")

    // Both listed: by xdp-loader…
    let loaderStatus = try f.loader("status", f.iface)
    #expect(loaderStatus.succeeded)
    #expect(loaderStatus.standardOutput.contains("xdp_firewall") && loaderStatus.standardOutput.contains("xdp_mark"),
            "\(loaderStatus.standardOutput)")
    #expect(loaderStatus.standardOutput.contains(" \(ours) ") && loaderStatus.standardOutput.contains(" \(theirs) "))
    // …and by xdp-block, ours marked.
    let status = try f.run(["status"] + f.on)
    #expect(status.status == 0, "\(status)")
    let lines = status.standardOutput.split(separator: "\n").map(String.init)
    #expect(lines.contains("  10    xdp_firewall      \(pad(ours))XDP_PASS            <- xdp-block"), "\(lines)")
    #expect(lines.contains("  20    xdp_mark          \(pad(theirs))XDP_DROP,XDP_PASS"), "\(lines)")
    #expect(status.standardOutput.contains("(program id \(ours), behind dispatcher id "))
    #expect(status.standardOutput.contains("priority 10, chain on XDP_PASS; 1 other program)"))
    let list = try f.run(["list"] + f.on)
    #expect(list.standardOutput.contains("<- xdp-block") && list.standardOutput.contains("xdp_mark"))

    // Both run: a blocked source stops at the firewall; another passes it and gets marked.
    #expect(try f.testRun(from: "192.0.2.1") == (.drop, Self.unmarked))
    #expect(try f.testRun(from: "192.0.2.3") == (.pass, Self.markedA))
    let stats = try f.run(["stats"] + f.on)
    // The whole result in the message: a failure on the 6.1 VM once printed an empty output.
    #expect(CommandLineTests.statsPackets(stats.standardOutput, "XDP_DROP") == 1, "\(stats)")
    #expect(CommandLineTests.statsPackets(stats.standardOutput, "XDP_PASS") == 1, "\(stats)")

    // xdp-loader unloads its program: ours stays and filters.
    #expect(try f.loader("unload", f.iface, "-i", "\(theirs)").succeeded)
    #expect(try f.components()?.map(\.id) == [ours])
    #expect(try f.listedProgram() == ours)
    #expect(try f.testRun(from: "192.0.2.1") == (.drop, Self.unmarked))
    #expect(try f.testRun(from: "192.0.2.3") == (.pass, Self.unmarked))

    // Theirs joins again; xdp-block detaches: theirs stays and runs.
    #expect(try f.loadNeighbour().succeeded)
    let again = try #require(try f.components())
    #expect(again.map(\.name) == ["xdp_firewall", "xdp_mark"])
    let detach = try f.run(["detach", f.iface, "--netns", f.ns])
    #expect(detach.standardOutput.hasPrefix("removed xdp_firewall (program id \(ours)) from the multi-program dispatcher"),
            "status \(detach.status), stderr: \(detach.standardError)")
    #expect(try f.components()?.map(\.id) == [again[1].id])
    #expect(try f.testRun(from: "192.0.2.1") == (.pass, Self.markedA))
    #expect(try f.stateEntries().isEmpty)
  }

  @Test("next to xdp-filter: each filters its own addresses, and detach leaves xdp-filter running")
  func coexistsWithXDPFilter() throws {
    let f = try Fixture()
    let load = try f.tool("xdp-filter", "load", "-m", "native", f.iface)
    #expect(load.succeeded, "xdp-filter load: \(load.standardError)")
    if try Self.lockedDown() != nil {
      // libxdp attached xdp-filter's program alone: xdp-block refuses to throw it off.
      guard case .single(let id, let name, .native) = try f.programs(), name.hasPrefix("xdpfilt_") else {
        Issue.record("expected xdp-filter's program alone, found \(f.described)")
        return
      }
      let refused = try f.run(["attach", f.iface, "--netns", f.ns])
      #expect(refused.standardError.hasPrefix(
        "error: another XDP program is already attached to \(f.iface) in network namespace \(f.ns) (program id \(id), native mode)\n"))
      #expect(try f.tool("xdp-filter", "unload", f.iface).succeeded)
      #expect(try f.programs() == .none)
      return
    }
    #expect(try f.tool("xdp-filter", "ip", "-m", "src", "192.0.2.7").succeeded)
    let filter = try #require(try f.components()?.first, "no dispatcher: \(f.described)")
    #expect(filter.name.hasPrefix("xdpfilt_"), "\(filter)")

    // xdp-block first (priority 1): what it passes goes on to xdp-filter.
    let attach = try f.run(["attach", f.iface, "--netns", f.ns, "--priority", "1", "--block", "192.0.2.1"])
    #expect(attach.status == 0, "\(attach)")
    let ours = try #require(try f.listedProgram())
    #expect(try f.components()?.map(\.id) == [ours, filter.id])
    #expect(try f.testRun(from: "192.0.2.1").action == .drop)  // xdp-block's entry
    #expect(try f.testRun(from: "192.0.2.7").action == .drop)  // xdp-filter's entry
    #expect(try f.testRun(from: "192.0.2.3").action == .pass)
    let stats = try f.run(["stats"] + f.on)
    #expect(CommandLineTests.statsPackets(stats.standardOutput, "XDP_DROP") == 1, "\(stats.standardOutput)")
    #expect(CommandLineTests.statsPackets(stats.standardOutput, "XDP_PASS") == 2, "\(stats.standardOutput)")
    let status = try f.run(["status"] + f.on)
    #expect(status.standardOutput.contains(filter.name) && status.standardOutput.contains("<- xdp-block"), "\(status.standardOutput)")

    #expect(try f.run(["detach", f.iface, "--netns", f.ns]).status == 0)
    #expect(try f.components()?.map(\.id) == [filter.id])
    #expect(try f.testRun(from: "192.0.2.1").action == .pass)
    #expect(try f.testRun(from: "192.0.2.7").action == .drop)
    #expect(try f.tool("xdp-filter", "unload", f.iface).succeeded)
    #expect(try f.programs() == .none)
  }

  @Test("a state whose program another loader removed is stale: add says so, detach cleans it up")
  func removedByAnotherLoader() throws {
    guard try Self.lockedDown() == nil else { return }  // no dispatcher under lockdown: the fallback test covers it
    let f = try Fixture()
    #expect(try f.loadNeighbour().succeeded)
    #expect(try f.run(["attach", f.iface, "--netns", f.ns]).status == 0)
    let ours = try #require(try f.components()?.first { $0.name == "xdp_firewall" }?.id)
    let theirs = try #require(try f.components()?.first { $0.name == "xdp_mark" }?.id)
    #expect(try f.loader("unload", f.iface, "-i", "\(ours)").succeeded)

    let add = try f.run(["add", "192.0.2.9"] + f.on)
    #expect(add.status == 1)
    let dispatcher = try #require(try f.dispatcherID())
    #expect(add.standardError == """
      error: the pinned state of \(f.iface) (netns \(f.ns)) is stale: its program id \(ours) is no longer one of the XDP programs on \(f.iface) (netns \(f.ns)) (now dispatcher id \(dispatcher) with xdp_mark (id \(theirs))); another loader removed it (xdp-loader unload?)
      hint: run `xdp-block detach \(f.iface) --netns \(f.ns)` to remove it, then attach again

      """, "\(add.standardError)")
    let detach = try f.run(["detach", f.iface, "--netns", f.ns])
    #expect(detach.status == 0)
    #expect(detach.standardOutput.hasPrefix("removed stale state of xdp_firewall (program id \(ours)) on \(f.iface) (netns \(f.ns)): its program id"))
    #expect(try f.components()?.map(\.id) == [theirs])
    #expect(try f.stateEntries().isEmpty)
  }

  /// The id padded as the status table pads it.
  private func pad(_ id: UInt32) -> String {
    let text = "\(id)"
    return text.count >= 8 ? text + " " : text + String(repeating: " ", count: 8 - text.count)
  }
}
