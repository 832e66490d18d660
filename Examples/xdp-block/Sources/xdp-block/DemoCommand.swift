import ArgumentParser
import XDPBlockCore
import XDPKitToolSupport

/// `xdp-block demo`: the firewall end to end on a private network.
struct Demo: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show the firewall at work on a private pair of network namespaces (needs no interface).",
    discussion: """
      Creates two network namespaces joined by a veth pair (xb-demo-PID-a with 192.0.2.1 and \
      192.0.2.3, xb-demo-PID-b with 192.0.2.2), attaches the firewall to the receiving end, \
      blocks 192.0.2.1, sends a bounded burst of UDP datagrams from both sender addresses, and \
      reports the counters, the drop events and what arrived. Then it detaches and deletes both \
      namespaces, also on failure or Ctrl-C. Exits 0 only if the blocked source was dropped and \
      the allowed one passed. Touches none of the host's interfaces or routes.
      """)

  @Option(help: "Datagrams to send from each source address (1-10000).")
  var count = 100

  @Option(help: "Attach mode: auto (native, falling back to generic), native or generic.")
  var mode: ModeOption = .auto

  func validate() throws {
    guard (1...10_000).contains(count) else { throw ValidationError("--count must be in 1...10000") }
  }

  func run() throws {
    try perform {
      let demo = XDPBlockCore.Demo(count: count, mode: mode.mode, logger: ConsoleLog.notices())
      let outcome = runBlocking { await Interruption.run { try demo.run { say($0) } } }
      if let signal = outcome.signal, case .failure(XDPBlockError.interrupted) = outcome.result {
        throw XDPBlockError.failed("interrupted by \(signal); cleaned up")
      }
      if !(try outcome.result.get()).succeeded { throw ExitCode.failure }
    }
  }
}
