import Foundation
import Glibc
import Testing
@testable import XDPKit
import XDPKitSys
import XDPKitTestSupport

/// `xdpkit xdp status`: an interface's XDP program, and a dispatcher's programs in run order.
@Suite("xdpkit xdp status", .kernel, .serialized)
struct XDPStatusCommandTests {
  /// Runs `xdpkit ARGUMENTS` in namespace B through nsenter (`ip netns exec` remounts /sys,
  /// which hides bpffs and so a dispatcher's pins).
  static func xdpkit(_ network: TestNetwork, _ arguments: String...) throws -> CommandResult {
    let (nsenter, line) = try commandLine(network, arguments)
    return try Command.run(nsenter, line, timeout: .seconds(120))
  }

  /// nsenter and its arguments to run `xdpkit ARGUMENTS` in namespace B, with LIBXDP_BPFFS
  /// set to `bpffs` when given (through env(1), which execs in place like nsenter: the pid is
  /// the tool's).
  static func commandLine(_ network: TestNetwork, bpffs: String? = nil, _ arguments: [String]) throws
    -> (executable: String, arguments: [String])
  {
    let nsenter = try Command.locate("nsenter", candidates: ["/usr/bin/nsenter", "/bin/nsenter"])
    var line = ["--net=/run/netns/\(network.namespaceB)"]
    if let bpffs {
      line += [try Command.locate("env", candidates: ["/usr/bin/env", "/bin/env"]), "\(DispatcherPins.bpffsVariable)=\(bpffs)"]
    }
    return (nsenter, line + [try PrivilegeTests.toolPath()] + arguments)
  }

  static let header = "Interface       Prio  Program name      Mode     ID     Tag               Chain actions"

  @Test("no program, then a single program: name, mode and id")
  func singleProgram() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let empty = try Self.xdpkit(network, "xdp", "status", network.interfaceB)
    #expect(empty.status == 0)
    #expect(empty.standardOutput == Self.header + "\n" + network.interfaceB.padded(16) + "      <no XDP program>\n")

    let loaded = try TestFixtures.object("xdp_pass").load()
    let link = try network.withNamespace(.b) {
      try loaded.xdpProgram("xdp_pass").attach(to: .name(network.interfaceB), mode: .generic, method: .netlink())
    }
    defer { _ = try? network.withNamespace(.b) { try link.detach() } }
    let id = try loaded.program("xdp_pass").id
    let single = try Self.xdpkit(network, "xdp", "status", network.interfaceB)
    #expect(single.standardOutput == Self.header + "\n" + network.interfaceB.padded(16) + "      xdp_pass          generic  \(id)\n")
    // Without an argument: every interface of the namespace, in index order, one line each.
    let all = try Self.xdpkit(network, "xdp", "status")
    let listed = all.standardOutput.split(separator: "\n").dropFirst().map { String($0.prefix { $0 != " " }) }
    let links = try network.ip(.b, "-o", "link", "show").standardOutput.split(separator: "\n")
      .map { line in String(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces).prefix { $0 != "@" }) }
    #expect(listed == links)
    #expect(all.standardOutput.contains(network.interfaceB.padded(16) + "      xdp_pass          generic  \(id)\n"))
  }

  @Test("xdpkit xdp attach: an unknown chain-call action is refused before anything is loaded")
  func unknownAction() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let result = try Self.xdpkit(network, "xdp", "attach", MultiProgramKillTests.fixture, network.interfaceB,
                                 "--program", "xdp_plain", "--chain-call-actions", "pass,bogus")
    #expect(result.status == 1)
    #expect(result.standardError == "error: --chain-call-actions: unknown action bogus (aborted, drop, pass, tx, redirect)\n")
    #expect(try network.withNamespace(.b) { try XDP.programs(on: .name(network.interfaceB)) } == .none)
  }

  @Test("a dispatcher: its programs in run order with priority, id, tag and chain-call actions")
  func dispatcher() throws {
    let component = XDPComponent(object: try TestFixtures.object("multiprog_component"), program: "xdp_plain")
    if try TrampolineTests.lockdown().refusesTrampolines {
      // No dispatcher can be built here (freplace is refused): covered in the VM.
      #expect(throws: MultiProgramError.self) {
        try DispatcherTestSupport.onVethB { _, veth in _ = try component.attach(to: veth, priority: 10) }
      }
      return
    }
    let network = try TestNetwork()
    defer { network.destroy() }
    let veth = NetworkInterface.name(network.interfaceB)
    let (first, second) = try network.withNamespace(.b) {
      (try component.attach(to: veth, mode: .generic, priority: 30),
       try component.attach(to: veth, priority: 10, chainCallActions: [.pass, .drop]))
    }
    defer { _ = try? network.withNamespace(.b) { for a in [first, second] where !a.isDetached { try? a.detach() } } }
    guard case .dispatcher(let info) = try network.withNamespace(.b, { try XDP.programs(on: veth) }) else {
      Issue.record("no dispatcher")
      return
    }
    let result = try Self.xdpkit(network, "xdp", "status", network.interfaceB)
    let lines = result.standardOutput.split(separator: "\n").map(String.init)
    try #require(lines.count == 4, "\(result.standardOutput)\(result.standardError)")
    #expect(lines[1] == network.interfaceB.padded(16) + "      xdp_dispatcher    generic  " + "\(info.id)".padded(7) + "(protocol version 2)")
    #expect(lines[2] == " =>             10    xdp_plain                  " + "\(second.programID)".padded(7) + info.components[0].tag.padded(18) + "XDP_DROP,XDP_PASS")
    #expect(lines[3] == " =>             30    xdp_plain                  " + "\(first.programID)".padded(7) + info.components[1].tag.padded(18) + "XDP_PASS")
  }
}

extension String {
  /// The string followed by spaces up to `width` characters (at least one space).
  func padded(_ width: Int) -> String {
    count >= width ? self + " " : self + String(repeating: " ", count: width - count)
  }
}

/// Processes killed in the middle of adding a program (`xdpkit xdp attach`, SIGKILL at a
/// different moment each round) leave the interface with a dispatcher that tells the truth:
/// listed without error, its programs pinned, the one added before still first, and later
/// changes work.
@Suite("Multi-program state after SIGKILL", .kernel, .serialized)
struct MultiProgramKillTests {
  static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../XDPKitObjectTests/Fixtures/multiprog_component.o").standardized.path

  @Test("SIGKILL during xdpkit xdp attach, six times: the dispatcher stays consistent")
  func killedDuringAttach() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let veth = NetworkInterface.name(network.interfaceB)
    if try TrampolineTests.lockdown().refusesTrampolines {
      let refused = try XDPStatusCommandTests.xdpkit(network, "xdp", "attach", Self.fixture, network.interfaceB, "--program", "xdp_plain")
      #expect(refused.status == 1)
      #expect(refused.standardError.contains("lockdown"), "\(refused.standardError)")
      #expect(try network.withNamespace(.b) { try XDP.programs(on: veth) } == .none)
      return
    }
    // Pins of its own, which the unmount removes: a killed process may leave a dispatcher
    // pinned but never attached, and the names of pin directories do not say which test's they are.
    try DispatcherTestSupport.withPrivatePins { bpffs in try killRounds(network, bpffs: bpffs) }
  }

  private func killRounds(_ network: TestNetwork, bpffs: String) throws {
    let veth = NetworkInterface.name(network.interfaceB)
    let firstLine = try XDPStatusCommandTests.commandLine(network, bpffs: bpffs, [
      "xdp", "attach", Self.fixture, network.interfaceB, "--program", "xdp_plain", "--priority", "10", "--mode", "generic",
      "--chain-call-actions", "drop,XDP_PASS",
    ])
    let first = try Command.run(firstLine.executable, firstLine.arguments, timeout: .seconds(120))
    try #require(first.status == 0, "\(first.standardError)")
    defer {
      // Remove every program left; their pins go with the mount.
      _ = try? network.withNamespace(.b) {
        if case .dispatcher(let info) = try XDP.programs(on: veth) {
          for component in info.components { try? XDP.removeProgram(id: component.id, from: veth) }
        }
      }
    }
    var killedRunning = 0
    for round in 0..<6 {
      let line = try XDPStatusCommandTests.commandLine(network, bpffs: bpffs, [
        "xdp", "attach", Self.fixture, network.interfaceB, "--program", "xdp_plain", "--priority", "\(20 + round)",
      ])
      let process = try BackgroundProcess(line.executable, line.arguments)
      // A different moment each round: from right after exec to well into the change.
      usleep(UInt32(round) * 150_000 + 20_000)
      if process.isRunning { killedRunning += 1 }
      process.send(SIGKILL)
      _ = process.waitForExit(timeout: .seconds(60))

      let listed = try network.withNamespace(.b) { try XDP.programs(on: veth) }
      guard case .dispatcher(let info) = listed else {
        Issue.record("round \(round): expected a dispatcher, found \(listed)")
        return
      }
      let attachment = try network.withNamespace(.b) { try XDP.attachment(on: veth) }
      #expect(attachment.programID == info.id, "round \(round)")
      #expect(info.components.first?.runConfig == XDPRunConfig(priority: 10, chainCallActions: 1 << 1 | 1 << 2), "round \(round)")
      #expect(info.components.map(\.runConfig.priority) == info.components.map(\.runConfig.priority).sorted())
      for component in info.components {
        #expect((try? BPF.openProgram(id: component.id)) != nil, "round \(round): program \(component.id)")
      }
    }
    #expect(killedRunning > 0, "no process was killed while running: the test did not test anything")
    // Changes still work: one more program added and removed, by the library.
    let added = try network.withNamespace(.b) {
      try XDPComponent(object: try TestFixtures.object("multiprog_component"), program: "xdp_plain").attach(to: veth, priority: 99)
    }
    guard case .dispatcher(let info) = try network.withNamespace(.b, { try XDP.programs(on: veth) }) else {
      Issue.record("no dispatcher after the last attach")
      return
    }
    #expect(info.components.last?.id == added.programID)
    try network.withNamespace(.b) { try added.detach() }
  }
}
