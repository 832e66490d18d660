import ArgumentParser
import Foundation
import XDPKit

/// The AF_XDP demo: a private namespace pair, a bounded UDP burst from one side, an
/// `XDPSocket` on the other that receives every frame in Swift, swaps its Ethernet, IPv4 and
/// UDP addresses and sends it back; the sender counts the echoes.
@main
struct AFXDPDemo: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "af-xdp-demo",
    abstract: "Echo a UDP burst through an AF_XDP socket in Swift, between two private network namespaces.",
    discussion: """
      Needs root (CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN). Creates two network namespaces joined \
      by a veth pair (192.0.2.1 and 192.0.2.2), attaches XDPKit's AF_XDP redirect program to the \
      receiving end, and deletes everything again when done.
      """)

  @Option(help: "Datagrams to send (1...1000000).")
  var count = 10_000

  @Option(help: "UDP payload bytes per datagram (4...1400).")
  var payload = 64

  func validate() throws {
    guard (1...1_000_000).contains(count) else { throw ValidationError("--count must be 1...1000000") }
    guard (4...1400).contains(payload) else { throw ValidationError("--payload must be 4...1400") }
  }

  func run() async throws {
    guard geteuid() == 0 else {
      throw DemoError("af-xdp-demo needs root: it creates network namespaces and attaches XDP")
    }
    let network = try DemoNamespaces()
    defer { network.destroy() }

    var made: XDPSocket? = nil
    try withNetworkNamespace(named: network.receiver) {
      made = try XDPSocket(interface: .name(network.receiverInterface), queue: 0)
    }
    guard let bound = made.take() else { throw DemoError("no socket") }
    print("AF_XDP socket on \(network.receiverInterface) queue 0: \(bound.mode) mode,"
      + " \(bound.frameCount) frames of \(bound.frameSize) bytes,"
      + " redirect program attached in \(bound.redirectProgram?.mode.description ?? "no") mode")
    let socket = XDPAsyncSocket(bound)

    let echo = Task {
      var echoed = 0
      for await var batch in socket.batches() {
        for index in 0..<batch.count { batch.withUnsafeMutableBytes(ofPacket: index, swapAddresses) }
        echoed += try await socket.send(batch)
      }
      return echoed
    }

    let sender = try DemoSender(namespace: network.sender, address: network.senderAddress, port: 7777)
    let clock = ContinuousClock()
    let start = clock.now
    let sent = sender.send(
      count: count, size: payload, to: network.receiverAddress, port: 9999, window: 1024)
    let echoes = sender.waitForEchoes(sent)
    let elapsed = clock.now - start
    sender.close()
    echo.cancel()
    let echoed = try await echo.value
    let statistics = try socket.statistics()

    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print("\(echoes) of \(count) echoed (\(sent) sent, \(echoed) sent back by the socket)"
      + " in \(String(format: "%.3f", seconds)) s: \(Int(Double(echoes) / max(seconds, 1e-9))) packets/s")
    print("socket statistics: \(statistics)")
    if echoes != count { throw ExitCode(1) }
  }
}

/// Swaps the Ethernet, IPv4 and UDP source and destination of an IPv4 UDP frame in place;
/// leaves other frames alone. The checksums stay valid: a swap does not change the sums.
func swapAddresses(_ frame: UnsafeMutableRawBufferPointer) {
  guard frame.count >= 42, frame[12] == 0x08, frame[13] == 0x00, frame[14] == 0x45,
    frame[23] == 17
  else { return }
  for (a, b, length) in [(0, 6, 6), (26, 30, 4), (34, 36, 2)] {
    for i in 0..<length { frame.swapAt(a + i, b + i) }
  }
}
