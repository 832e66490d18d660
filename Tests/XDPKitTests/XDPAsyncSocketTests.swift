import Foundation
import Testing
import XDPKit
import XDPKitTestSupport

/// The async API of AF_XDP sockets: batches as an `AsyncSequence`, `send`, and cancellation.
@Suite("AF_XDP async API", .kernel, .serialized)
struct XDPAsyncSocketTests {
  typealias Base = XDPSocketTests

  @Test("echo through batches() and send(_:): every packet reaches the sender again")
  func asyncEcho() async throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let program = try Base.udpProgram()
    let socket = XDPAsyncSocket(try Base.udpSocket(network, program: program))
    let link = try Base.attach(program, network)
    let peer = try UDPPeer(network, side: .a, port: UDPBurst.sourcePort)
    #expect(try peer.send(to: network.ipv4B, port: Base.port, count: Base.burst) == Base.burst)

    let echo = Task {
      var echoed = 0
      for await var batch in socket.batches() {
        for index in 0..<batch.count {
          batch.withUnsafeMutableBytes(ofPacket: index) { bytes in
            _ = UDPFrame.echo(UnsafeRawBufferPointer(bytes), into: bytes)
          }
        }
        echoed += try await socket.send(batch)
        if echoed >= Base.burst { break }
      }
      return echoed
    }
    let watchdog = Task {
      try await Task.sleep(for: .seconds(10))
      echo.cancel()
    }
    let echoed = try await echo.value
    watchdog.cancel()
    #expect(echoed == Base.burst)
    let replies = peer.receive(count: Base.burst)
    #expect(replies.map { UDPFrame.sequence(of: $0) }.sorted() == Array(0..<Base.burst))
    #expect(try socket.statistics().receiveRingFull == 0)
    withExtendedLifetime(link) {}
  }

  @Test("an idle iterator ends when its task is cancelled")
  func cancellation() async throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let program = try Base.udpProgram()
    let socket = XDPAsyncSocket(try Base.udpSocket(network, program: program))
    let reader = Task {
      var batches = 0
      for await _ in socket.batches() { batches += 1 }
      return batches
    }
    try await Task.sleep(for: .milliseconds(120))
    let clock = ContinuousClock()
    let cancelled = clock.now
    reader.cancel()
    #expect(await reader.value == 0)
    // Ends, not hangs: the bound is loose because in the full suite blocking kernel tests can
    // hold the cooperative threads for seconds (observed: 2.9 s). Speed lives in benchmarks.
    #expect(clock.now - cancelled < .seconds(30))
  }
}
