import Foundation
import Glibc
import Testing
import XDPKit
import XDPKitTestSupport

/// Program logs on the console: `xdpkit load --attach --log-level` and the xdp-firewall
/// example, with real packets between two namespaces.
@Suite("program logs on the console", .kernel, .serialized)
struct ProgramLogCommandTests {
  /// An executable built next to this test bundle (`.build/debug/NAME`).
  static func executable(_ name: String) throws -> String {
    let directory = URL(fileURLWithPath: try PrivilegeTests.toolPath()).deletingLastPathComponent()
    return try Command.locate("\(name) (build it with `swift build`)", candidates: [directory.appendingPathComponent(name).path])
  }

  /// Lines of `output` that contain `text`.
  static func lines(_ output: String, containing text: String) -> [Substring] {
    output.split(separator: "\n").filter { $0.contains(text) }
  }

  @Test("xdp-firewall logs the blocked and the allowed source with their actions; SIGINT detaches")
  func firewallExample() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    try network.addAddress("192.0.2.3/24", on: .a)
    let firewall = try BackgroundProcess(try Command.ipPath(), [
      "netns", "exec", network.namespaceB, try Self.executable("xdp-firewall"),
      "--iface", network.interfaceB, "--block", "192.0.2.1", "--log-level", "info",
    ])
    defer { firewall.stop() }
    #expect(firewall.waitForOutput(containing: "Waiting for Ctrl-C..."), "\(firewall.standardOutput)\(firewall.standardError)")
    let attached = try network.withNamespace(.b) { try XDP.attachment(on: .name(network.interfaceB)) }
    #expect(attached.isAttached)

    let receiver = try network.countingReceiver(in: .b, port: 7101, address: network.ipv4B)
    #expect(try network.sendUDP(from: .a, to: network.ipv4B, count: 3, port: 7101, source: "192.0.2.1") == 3)
    #expect(try network.sendUDP(from: .a, to: network.ipv4B, count: 2, port: 7101, source: "192.0.2.3") == 2)
    #expect(receiver.count() == 2)
    #expect(firewall.waitForOutput(containing: "SRC: 192.0.2.3, ACTION: 2"))
    let output = firewall.standardOutput
    #expect(Self.lines(output, containing: "] SRC: 192.0.2.1, ACTION: 1").count == 3, "\(output)")
    #expect(Self.lines(output, containing: "] SRC: 192.0.2.3, ACTION: 2").count == 2, "\(output)")
    #expect(Self.lines(output, containing: "SRC: ").allSatisfy { $0.contains(" INFO  xdp_firewall] SRC: ") }, "\(output)")

    firewall.send(SIGINT)
    #expect(firewall.waitForExit() == 0, "\(firewall.standardError)")
    #expect(firewall.standardOutput.contains("Exiting..."))
    let after = try network.withNamespace(.b) { try XDP.attachment(on: .name(network.interfaceB)) }
    #expect(!after.isAttached)
  }

  @Test("xdp-firewall takes its level from LOG_LEVEL: at warning no packet line is written; SIGTERM detaches")
  func firewallLogLevelFromEnvironment() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let firewall = try BackgroundProcess(try Command.ipPath(), [
      "netns", "exec", network.namespaceB, "env", "LOG_LEVEL=warning", try Self.executable("xdp-firewall"),
      "--iface", network.interfaceB, "--block", "198.51.100.9",
    ])
    defer { firewall.stop() }
    // Nothing is printed at warning: watch the interface instead. (The address blocked is not
    // the sender's: BLOCKLIST is filled just after the attach, which this cannot see.)
    var attached = false
    for _ in 0..<500 where !attached {
      attached = try network.withNamespace(.b) { try XDP.attachment(on: .name(network.interfaceB)) }.isAttached
      if !attached { usleep(20_000) }
    }
    #expect(attached, "\(firewall.standardError)")
    let receiver = try network.countingReceiver(in: .b, port: 7103, address: network.ipv4B)
    #expect(try network.sendUDP(from: .a, to: network.ipv4B, count: 2, port: 7103) == 2)
    #expect(receiver.count() == 2)
    firewall.send(SIGTERM)
    #expect(firewall.waitForExit() == 0, "\(firewall.standardError)")
    #expect(firewall.standardOutput == "", "\(firewall.standardOutput)")
    #expect(!(try network.withNamespace(.b) { try XDP.attachment(on: .name(network.interfaceB)) }.isAttached))
  }

  @Test("xdp-firewall --mode native on a device without native XDP (a bridge): the error hints at --mode generic")
  func nativeModeHint() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let dummy = network.interfaceB + "r"
    try network.addBridge(dummy, on: .b)
    let result = try Command.run(try Command.ipPath(), [
      "netns", "exec", network.namespaceB, try Self.executable("xdp-firewall"), "--iface", dummy, "--mode", "native",
    ], timeout: .seconds(60))
    #expect(result.status == 1)
    let lines = result.standardError.split(separator: "\n")
    #expect(lines.first?.hasPrefix("error: failed to attach the XDP program to \(dummy) in native mode: ") == true, "\(result.standardError)")
    #expect(lines.last == "hint: try --mode generic", "\(result.standardError)")
  }

  @Test("xdpkit load --attach prints the program's records at --log-level and up")
  func loadAttachLogLevel() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/LogProgram.o").path
    for (level, expected) in [("info", 2), ("warning", 0)] {
      let tool = try BackgroundProcess(try Command.ipPath(), [
        "netns", "exec", network.namespaceB, try PrivilegeTests.toolPath(), "load", fixture,
        "--program", "log_one", "--attach", network.interfaceB, "--log-level", level,
      ])
      defer { tool.stop() }
      #expect(tool.waitForOutput(containing: "holding the attachment"), "\(tool.standardOutput)\(tool.standardError)")
      #expect(try network.sendUDP(from: .a, to: network.ipv4B, count: 2, port: 7102) == 2)
      if expected > 0 { tool.waitForOutput(containing: "] run \(expected - 1)") } else { usleep(300_000) }
      tool.send(SIGTERM)
      #expect(tool.waitForExit() == 0, "\(tool.standardError)")
      let runs = Self.lines(tool.standardOutput, containing: " INFO  log_one] run ")
      // The program logs every frame; the namespace may add one of its own (an ARP request or
      // IPv6 neighbour discovery), so the two sent frames' records are required and more are
      // allowed at info, while at warning there must be none at all.
      if expected == 0 {
        #expect(runs.isEmpty, "--log-level \(level): \(tool.standardOutput)")
      } else {
        #expect(runs.count >= expected && runs.count <= expected + 2, "--log-level \(level): \(tool.standardOutput)")
        for n in 0..<expected {
          #expect(runs.contains { $0.contains("] run \(n)") }, "--log-level \(level): \(tool.standardOutput)")
        }
      }
      #expect(tool.standardOutput.hasSuffix("detached\n"))
    }
  }
}
