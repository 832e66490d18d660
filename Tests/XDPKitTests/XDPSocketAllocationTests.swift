import CAllocationCounter
import Glibc
import Testing
import XDPKit
import XDPKitTestSupport

/// The batch API's promise, "no heap allocation per packet", measured: the test binary
/// counts every malloc/calloc/realloc/aligned allocation per thread (Tests/CAllocationCounter),
/// and this test counts its own thread's over a steady-state pass of RX (`receive`), echo
/// (`respond`) and TX (`transmit` + `freeTransmitFrames`). The frames come from a UDP burst
/// sent before the counted loop starts, so only the socket's calls are inside it. A first
/// pass warms up (first-use costs of the runtime); the second must allocate nothing at all.
@Suite("AF_XDP batch API allocations", .kernel, .serialized)
struct XDPSocketAllocationTests {
  static let port: UInt16 = 9999
  static let burst = 400

  /// What one pass counted.
  struct Pass {
    var received = 0
    var echoed = 0
    var transmitted = 0
    var receiveAllocations: UInt64 = 0
    var echoAllocations: UInt64 = 0
    var transmitAllocations: UInt64 = 0
  }

  @Test("the counter sees an allocation of this thread")
  func counterWorks() {
    let before = xdpkit_thread_allocations()
    let pointer = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
    let after = xdpkit_thread_allocations()
    pointer.deallocate()
    #expect(after - before == 1)
  }

  @Test("receive, respond and transmit allocate nothing in steady state (0 per packet)")
  func noAllocations() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    var socket = try XDPSocketTests.makeSocket(network) {
      try XDPSocket(interface: .name(network.interfaceB), queue: 0)
    }
    let peer = try UDPPeer(network, side: .a, port: UDPBurst.sourcePort)
    let template = UnsafeMutableRawBufferPointer.allocate(byteCount: 60, alignment: 8)
    defer { template.deallocate() }
    template.initializeMemory(as: UInt8.self, repeating: 0x5a)

    var passes: [Pass] = []
    for _ in 0..<2 {
      var pass = Pass()
      let forReceive = try Self.sendAndWait(peer, network, &socket)
      var before = xdpkit_thread_allocations()
      while pass.received < forReceive {
        let count = socket.receive(limit: 64) { frames in
          var sum = 0
          frames.forEachFrame { _, bytes in sum &+= Int(bytes[0]) &+ bytes.count }
          return sum > 0 ? frames.count : 0
        }
        if count == 0 { break }
        pass.received += count
      }
      pass.receiveAllocations = xdpkit_thread_allocations() - before

      let forEcho = try Self.sendAndWait(peer, network, &socket)
      before = xdpkit_thread_allocations()
      while pass.echoed < forEcho {
        let (received, replies) = try socket.respond(limit: 64) { frame, reply in
          reply.copyMemory(from: frame)
          for i in 0..<6 { reply.swapAt(i, i + 6) }
          return frame.count
        }
        if received == 0 || replies != received { break }
        pass.echoed += replies
      }
      pass.echoAllocations = xdpkit_thread_allocations() - before

      before = xdpkit_thread_allocations()
      while pass.transmitted < Self.burst {
        let queued = try socket.transmit(count: min(64, Self.burst - pass.transmitted)) { _, frame in
          frame.copyMemory(from: UnsafeRawBufferPointer(template))
          return template.count
        }
        if queued == 0 { break }
        pass.transmitted += queued
      }
      var free = 0
      for _ in 0..<100_000 where free != socket.transmitFrameCount { free = try socket.freeTransmitFrames() }
      pass.transmitAllocations = xdpkit_thread_allocations() - before
      #expect(free == socket.transmitFrameCount)
      #expect(pass.received == forReceive && pass.echoed == forEcho && pass.transmitted == Self.burst)
      passes.append(pass)
    }
    let steady = try #require(passes.last)
    #expect(steady.receiveAllocations == 0, "receive: \(steady.receiveAllocations) allocations for \(steady.received) frames")
    #expect(steady.echoAllocations == 0, "respond: \(steady.echoAllocations) allocations for \(steady.echoed) frames")
    #expect(steady.transmitAllocations == 0, "transmit: \(steady.transmitAllocations) allocations for \(steady.transmitted) frames")
  }

  /// Sends a burst from A and waits (bounded) until at least that many frames are in the
  /// socket's RX ring and no more arrive; returns how many are there.
  static func sendAndWait(_ peer: UDPPeer, _ network: TestNetwork, _ socket: inout XDPSocket) throws -> Int {
    #expect(try peer.send(to: network.ipv4B, port: port, count: burst) == burst)
    var pending = 0
    for _ in 0..<500 {
      usleep(10_000)
      let now = socket.pendingReceives()
      if now >= burst && now == pending { break }
      pending = now
    }
    #expect(pending >= burst)
    return pending
  }
}
