import Foundation
import Glibc
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import XDPBlockCore
import XDPKit
import XDPKitTestSupport

/// `xdp-block run`'s lifecycle: the firewall is attached inside an `XDPService` and detached
/// at graceful shutdown (a signal to the tool, the end of `--duration`) or when the task
/// running the group is cancelled.
@Suite("xdp-block run: attached by XDPService, detached on signals and cancellation", .kernel, .serialized)
struct RunLifecycleTests {
  @Test("a signal right after the attach exits 0, detached, and the tool says which signal", arguments: [SIGTERM, SIGINT])
  func signalDetaches(signal: Int32) throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    try network.disableIPv6(on: .a)  // no router or neighbour solicitation reaches B's counters
    let run = try BackgroundTool([
      "run", "--iface", network.interfaceB, "--netns", network.namespaceB, "--block", "192.0.2.1", "--duration", "120",
    ])
    #expect(run.waitForOutput(containing: "attached xdp_firewall"), "\(run.output)\(run.errors)")
    let attached = try network.xdpState(.b)
    #expect(attached.isAttached)
    // The signals are trapped before the group starts: one that arrives at once is a
    // graceful shutdown, never the default action.
    run.send(signal)
    #expect(run.wait() == 0, "\(run.errors)")
    let name = signal == SIGTERM ? "SIGTERM" : "SIGINT"
    let lines = run.output.split(separator: "\n").map(String.init)
    #expect(
      lines.last == "detached from \(network.interfaceB) (netns \(network.namespaceB)) on \(name): passed 0 packets, dropped 0 packets",
      "\(run.output)")
    #expect(run.errors == "", "\(run.errors)")
    #expect(try !network.xdpState(.b).isAttached)
  }

  /// A run of a loaded firewall on `network`'s B side, logging into `logs`.
  static func foreground(_ network: TestNetwork, logs: CapturedLogs) throws -> ForegroundRun {
    try network.disableIPv6(on: .a)  // nothing reaches B's counters unasked
    let session = try ForegroundFirewall(
      interface: network.interfaceB, namespace: network.namespaceB, entries: [try BlockEntry(parsing: "192.0.2.1")],
      configuration: FirewallConfiguration())
    return ForegroundRun(session: session, mode: .auto, logger: logs.logger(level: .info))
  }

  /// A quiet service group of `services`.
  static func group(_ services: [ServiceGroupConfiguration.ServiceConfiguration]) -> ServiceGroup {
    var logger = Logger(label: "test.group")
    logger.logLevel = .critical
    return ServiceGroup(configuration: ServiceGroupConfiguration(services: services, logger: logger))
  }

  /// Waits (bounded: 20 s) until `foreground` is attached.
  static func waitForAttach(_ foreground: ForegroundRun) async -> Bool {
    for _ in 0..<400 where !foreground.isAttached { try? await Task.sleep(for: .milliseconds(50)) }
    return foreground.isAttached
  }

  @Test("more than 20 entries at the start are a summary line, not one line with every entry")
  func manyEntriesSummarised() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let entries = (1...20).flatMap { ["--block", "198.51.100.\($0)"] } + ["--block", "203.0.113.0/24"]
    let run = try BackgroundTool(
      ["run", "--iface", network.interfaceB, "--netns", network.namespaceB, "--duration", "120"] + entries)
    #expect(run.waitForOutput(containing: "attached xdp_firewall"), "\(run.output)\(run.errors)")
    #expect(run.waitForOutput(containing: "blocking 21 entries (20 addresses, 1 prefix)"), "\(run.output)")
    #expect(!run.output.contains("198.51.100.7"))
    run.send(SIGTERM)
    #expect(run.wait() == 0, "\(run.errors)")
  }

  @Test("cancelling the task that runs the group detaches, and run() returns normally")
  func cancellationDetaches() async throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let logs = CapturedLogs()
    let foreground = try Self.foreground(network, logs: logs)
    defer { foreground.session.close() }
    let group = Self.group(foreground.services(xdp: foreground.xdpService(), config: nil, duration: nil, signals: nil))
    let task = Task { try await group.run() }
    #expect(await Self.waitForAttach(foreground))
    let state = try network.xdpState(.b)
    #expect(state.isAttached)
    #expect(state.programID == foreground.session.firewall.programID)

    task.cancel()
    try await task.value
    #expect(foreground.link?.isDetached == true)
    #expect(foreground.isAttached == false)
    #expect(try !network.xdpState(.b).isAttached)
    let name = "xdp_firewall on \(network.interfaceB) (netns \(network.namespaceB))"
    #expect(logs.all.map(\.message) == ["\(name): attached", "\(name): detached"])
  }

  @Test("the end of the duration shuts the group down gracefully: detached, run() returns")
  func durationDetaches() async throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let logs = CapturedLogs()
    let foreground = try Self.foreground(network, logs: logs)
    defer { foreground.session.close() }
    let lines = LineCollector()
    let xdp = foreground.xdpService(interval: .milliseconds(100), onLine: { lines.append($0) })
    let group = Self.group(foreground.services(xdp: xdp, config: nil, duration: .seconds(1), signals: nil))
    let clock = ContinuousClock()
    let start = clock.now
    try await group.run()
    #expect(clock.now - start >= .seconds(1))
    #expect(foreground.link?.isDetached == true)
    #expect(try !network.xdpState(.b).isAttached)
    // One line per 100 ms is the aim; a suite running in parallel can starve the timer, so
    // only the first line's exact text is asserted.
    #expect(!lines.all.isEmpty)
    #expect(lines.all.first == "passed 0 pkts (0 pps, 0.0 Mbit/s)  dropped 0 pkts (0 pps, 0.0 Mbit/s)", "\(lines.all)")
    #expect(logs.all.map(\.message).last == "xdp_firewall on \(network.interfaceB) (netns \(network.namespaceB)): detached")
  }

  @Test("an attach that fails ends the group with the tool's error, nothing attached")
  func attachFailure() async throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let logs = CapturedLogs()
    let session = try ForegroundFirewall(
      interface: "xb-missing0", namespace: network.namespaceB, entries: [], configuration: FirewallConfiguration())
    defer { session.close() }
    let foreground = ForegroundRun(session: session, mode: .auto, logger: logs.logger(level: .info))
    let group = Self.group(foreground.services(xdp: foreground.xdpService(), config: nil, duration: nil, signals: nil))
    await #expect {
      try await group.run()
    } throws: { error in
      guard case .noSuchInterface(let interface, let namespace) = error as? XDPBlockError else { return false }
      return interface == "xb-missing0" && namespace == network.namespaceB
    }
    #expect(foreground.link == nil)
    #expect(try !network.xdpState(.b).isAttached)
  }
}

/// Lines handed over from the service, for the test to read.
final class LineCollector: Sendable {
  private let lines = Mutex<[String]>([])
  func append(_ line: String) { lines.withLock { $0.append(line) } }
  var all: [String] { lines.withLock { $0 } }
}
