import Foundation
import Testing
import XDPKit
import XDPKitTestSupport

/// AF_XDP sockets on a namespaced veth pair: the burst goes from A (a UDP socket, port 7777)
/// to B's port 9999, where an ``XDPSocket`` bound to B's veth, queue 0, receives it (veth does
/// native XDP and AF_XDP in copy mode).
@Suite("AF_XDP sockets", .kernel, .serialized)
struct XDPSocketTests {
  static let port: UInt16 = 9999
  static let burst = 100

  /// The user's own program of Fixtures/XSKPrograms.c: only UDP to 9999 reaches the socket.
  static func udpProgram() throws -> LoadedObject {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/XSKPrograms.o").path
    let bytes = try #require(FileManager.default.contents(atPath: path))
    return try BPFObject(bytes: [UInt8](bytes)).load()
  }

  /// Makes a socket inside B's namespace (a non-copyable value cannot be returned through
  /// the generic `withNamespace`, so it leaves the closure through an optional).
  static func makeSocket(
    _ network: TestNetwork, _ make: () throws -> XDPSocket
  ) throws -> XDPSocket {
    var made: XDPSocket? = nil
    try network.withNamespace(.b) { made = try make() }
    guard let socket = made.take() else { throw XDPSocketError.noSuchInterface(network.interfaceB) }
    return socket
  }

  /// A socket on B's veth with `configuration`, put into `program`'s SOCKETS map.
  static func udpSocket(
    _ network: TestNetwork, program: LoadedObject,
    _ configuration: XDPSocketConfiguration = XDPSocketConfiguration()
  ) throws -> XDPSocket {
    let map = try program.xskMap("SOCKETS")
    return try makeSocket(network) {
      try XDPSocket(
        interface: .name(network.interfaceB), queue: 0, configuration: configuration,
        redirect: .xskMap(map))
    }
  }

  /// Attaches the UDP-only program to B's veth, natively.
  static func attach(_ program: LoadedObject, _ network: TestNetwork) throws -> XDPLink {
    try network.withNamespace(.b) {
      try program.xdpProgram("udp_to_socket").attach(to: .name(network.interfaceB), mode: .native)
    }
  }

  /// Receives until `count` test frames are in or `limit` passes; returns them parsed.
  static func receive(
    _ socket: inout XDPSocket, count: Int, limit: Duration = .seconds(5)
  ) throws -> [UDPFrame] {
    var frames: [UDPFrame] = []
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: limit)
    while frames.count < count, clock.now < deadline {
      _ = try socket.waitForReceive(timeout: .milliseconds(50))
      socket.receive { batch in
        batch.forEachFrame { _, bytes in
          if let frame = UDPFrame(bytes), frame.destinationPort == port { frames.append(frame) }
        }
      }
    }
    return frames
  }

  @Test("the default program delivers a burst with exact contents, in copy mode")
  func receiveBurst() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    var socket = try Self.makeSocket(network) {
      try XDPSocket(interface: .name(network.interfaceB), queue: 0)
    }
    #expect(socket.mode == .copy)
    #expect(socket.queue == 0)
    #expect(socket.redirectProgram?.mode == .native)
    let peer = try UDPPeer(network, side: .a, port: UDPBurst.sourcePort)
    #expect(try peer.send(to: network.ipv4B, port: Self.port, count: Self.burst, payloadSize: 48) == Self.burst)
    let frames = try Self.receive(&socket, count: Self.burst)
    #expect(frames.count == Self.burst)
    let sequences = frames.map(\.sequence)
    #expect(sequences.sorted() == Array(0..<Self.burst))
    for (frame, sequence) in zip(frames, sequences) {
      #expect(frame.payload == UDPPeer.payload(sequence, size: 48))
      #expect(frame.sourceIP == [192, 0, 2, 1] && frame.destinationIP == [192, 0, 2, 2])
      #expect(frame.sourcePort == UDPBurst.sourcePort)
      #expect(frame.sourceMAC == [0x02, 0x58, 0x4b, 0, 0, 0x0a])
      #expect(frame.destinationMAC == [0x02, 0x58, 0x4b, 0, 0, 0x0b])
    }
    let statistics = try socket.statistics()
    #expect(statistics.receiveDropped == 0 && statistics.receiveRingFull == 0)
  }

  @Test("echo: every frame goes back with swapped addresses and reaches the sender")
  func echo() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let program = try Self.udpProgram()
    var socket = try Self.udpSocket(network, program: program)
    let link = try Self.attach(program, network)
    let peer = try UDPPeer(network, side: .a, port: UDPBurst.sourcePort)
    #expect(try peer.send(to: network.ipv4B, port: Self.port, count: Self.burst) == Self.burst)
    var echoed = 0
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .seconds(5))
    while echoed < Self.burst, clock.now < deadline {
      _ = try socket.waitForReceive(timeout: .milliseconds(50))
      let (received, sent) = try socket.respond { frame, reply in UDPFrame.echo(frame, into: reply) }
      #expect(received == sent)
      echoed += sent
    }
    #expect(echoed == Self.burst)
    // Every transmitted frame completes: all frames of the TX side are free again.
    var free = 0
    for _ in 0..<200 where free != socket.transmitFrameCount {
      free = try socket.freeTransmitFrames()
      usleep(5_000)
    }
    #expect(free == socket.transmitFrameCount)
    let replies = peer.receive(count: Self.burst)
    #expect(replies.count == Self.burst)
    let missing = Set(0..<Self.burst).subtracting(replies.compactMap { reply in
      (0..<Self.burst).first { UDPPeer.payload($0, size: 32) == reply }
    })
    #expect(missing.isEmpty, "replies missing for sequences \(missing.sorted())")
    withExtendedLifetime(link) {}
  }
}
