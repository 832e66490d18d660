import Testing
@testable import XDPKit
import XDPKitSys
import XDPKitTestSupport

/// `xdpkit xdp status`: an interface's XDP program, and a dispatcher's programs in run order.
@Suite("xdpkit xdp status", .kernel, .serialized)
struct XDPStatusCommandTests {
  static let header = "Interface       Prio  Program name      Mode     ID     Tag               Chain actions"

  @Test("no program, then a single program: name, mode and id")
  func singleProgram() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let tool = try PrivilegeTests.toolPath()
    let empty = try network.run(in: .b, tool, "xdp", "status", network.interfaceB, timeout: .seconds(60))
    #expect(empty.status == 0)
    #expect(empty.standardOutput == Self.header + "\n" + network.interfaceB.padded(16) + "      <no XDP program>\n")

    let loaded = try TestFixtures.object("xdp_pass").load()
    let link = try network.withNamespace(.b) {
      try loaded.xdpProgram("xdp_pass").attach(to: .name(network.interfaceB), mode: .generic, method: .netlink())
    }
    defer { _ = try? network.withNamespace(.b) { try link.detach() } }
    let id = try loaded.program("xdp_pass").id
    let single = try network.run(in: .b, tool, "xdp", "status", network.interfaceB, timeout: .seconds(60))
    #expect(single.standardOutput == Self.header + "\n" + network.interfaceB.padded(16) + "      xdp_pass          generic  \(id)\n")
    // Without an argument: every interface of the namespace, lo included.
    let all = try network.run(in: .b, tool, "xdp", "status", timeout: .seconds(60))
    #expect(all.standardOutput.contains("\nlo                    <no XDP program>\n"))
    #expect(all.standardOutput.contains("xdp_pass          generic  \(id)\n"))
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
    let result = try network.run(in: .b, try PrivilegeTests.toolPath(), "xdp", "status", network.interfaceB, timeout: .seconds(60))
    let lines = result.standardOutput.split(separator: "\n").map(String.init)
    #expect(lines.count == 4)
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
