import Foundation
import Testing
import XDPKit
import XDPKitTestSupport

/// Two AF_XDP sockets sharing one UMEM, on two interfaces: the owner on B's veth (traffic from
/// A), the second on the end of another veth pair that sits in A (traffic from B through the
/// pair's other end, 198.51.100.0/24).
@Suite("AF_XDP shared UMEM", .kernel, .serialized)
struct XDPSharedUMEMTests {
  typealias Base = XDPSocketTests

  /// Adds veth c (in B, 198.51.100.1) – d (in A, 198.51.100.2) with static neighbours.
  static func addCrossPair(_ network: TestNetwork) throws -> (c: String, d: String) {
    let c = network.interfaceB + "c", d = network.interfaceB + "d"
    let macC = "02:58:4b:00:01:0c", macD = "02:58:4b:00:01:0d"
    try network.ip(
      .b, "link", "add", c, "address", macC, "type", "veth", "peer", "name", d, "address", macD,
      "netns", network.namespaceA)
    try network.ip(.b, "addr", "add", "198.51.100.1/24", "dev", c)
    try network.ip(.a, "addr", "add", "198.51.100.2/24", "dev", d)
    try network.ip(.b, "neigh", "replace", "198.51.100.2", "lladdr", macD, "dev", c, "nud", "permanent")
    try network.ip(.a, "neigh", "replace", "198.51.100.1", "lladdr", macC, "dev", d, "nud", "permanent")
    try network.ip(.b, "link", "set", c, "up")
    try network.ip(.a, "link", "set", d, "up")
    usleep(200_000)
    return (c, d)
  }

  @Test("two sockets on two interfaces share a UMEM; each receives its own burst exactly")
  func twoSockets() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let (_, d) = try Self.addCrossPair(network)
    let ownerProgram = try Base.udpProgram()
    var owner = try Base.udpSocket(network, program: ownerProgram, .init(frameCount: 1024, fillRingSize: 256))
    let ownerLink = try Base.attach(ownerProgram, network)
    #expect(try owner.freeTransmitFrames() == 768)

    #expect(throws: XDPSocketError.notEnoughFrames(requested: 1000, available: 768)) {
      try network.withNamespace(.a) {
        _ = try XDPSocket(interface: .name(d), queue: 0, sharingUMEMOf: &owner, frames: 1000, redirect: .none)
      }
    }
    let secondProgram = try Base.udpProgram()
    let map = try secondProgram.xskMap("SOCKETS")
    var made: XDPSocket? = nil
    let secondLink = try network.withNamespace(.a) { () throws -> XDPLink in
      made = try XDPSocket(
        interface: .name(d), queue: 0, sharingUMEMOf: &owner, frames: 256,
        configuration: .init(fillRingSize: 64), redirect: .xskMap(map))
      return try secondProgram.xdpProgram("udp_to_socket").attach(to: .name(d), mode: .native)
    }
    guard var second = made.take() else {
      Issue.record("the sharing socket was not made")
      return
    }
    #expect(try owner.freeTransmitFrames() == 768 - 256)
    #expect(second.frameCount == 256 && second.frameSize == owner.frameSize)
    #expect(second.transmitFrameCount == 256 - 64)
    #expect(second.mode == owner.mode)

    let fromA = try UDPPeer(network, side: .a, port: UDPBurst.sourcePort)
    let fromB = try UDPPeer(network, side: .b, port: UDPBurst.sourcePort, address: "198.51.100.1")
    #expect(try fromA.send(to: network.ipv4B, port: Base.port, count: 50) == 50)
    #expect(try fromB.send(to: "198.51.100.2", port: Base.port, count: 60) == 60)
    let ownerFrames = try Base.receive(&owner, count: 50)
    let secondFrames = try Base.receive(&second, count: 60)
    #expect(ownerFrames.map(\.sequence) == Array(0..<50))
    #expect(ownerFrames.allSatisfy { $0.sourceIP == [192, 0, 2, 1] })
    #expect(secondFrames.map(\.sequence) == Array(0..<60))
    #expect(secondFrames.allSatisfy { $0.sourceIP == [198, 51, 100, 1] && $0.destinationIP == [198, 51, 100, 2] })
    for statistics in [try owner.statistics(), try second.statistics()] {
      #expect(statistics.receiveDropped == 0 && statistics.receiveRingFull == 0)
      #expect(statistics.receiveInvalidDescriptors == 0 && statistics.fillRingEmpty == 0)
    }
    withExtendedLifetime((ownerLink, secondLink)) {}
  }
}
