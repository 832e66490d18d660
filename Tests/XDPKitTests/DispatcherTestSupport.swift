import Testing
@testable import XDPKit
import XDPKitSys
import XDPKitTestSupport

/// What the multi-program suites share.
enum DispatcherTestSupport {
  /// Runs `body` inside namespace B of a fresh ``TestNetwork`` with B's veth.
  static func onVethB(_ body: (TestNetwork, NetworkInterface) throws -> Void) throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    try network.withNamespace(.b) { try body(network, .name(network.interfaceB)) }
  }

  /// A test run of the installed dispatcher on an IPv4 UDP frame with 18 zero payload bytes.
  static func testRun(dispatcherID: UInt32) throws -> TestRun {
    let fd = try BPF.openProgram(id: dispatcherID)
    let program = LoadedProgram(fileDescriptor: fd, name: "xdp_dispatcher", type: .xdp, sectionName: "xdp",
                                expectedAttachType: nil, instructionCount: 0)
    return try program.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1)))
  }

  /// The `runs` counters of the components.
  static func runs(of components: [XDPComponentAttachment]) throws -> [UInt64] {
    try components.map { try $0.object.global("runs", as: UInt64.self) }
  }
}
