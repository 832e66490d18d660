import ArgumentParser
import Dispatch
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Synchronization
import UnixSignals
import XDPBlockCore
import XDPKit
import XDPKitService

/// `xdp-block run`: attach in the foreground, print counters, detach on Ctrl-C or SIGTERM.
struct Run: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Attach the firewall in the foreground until Ctrl-C or SIGTERM, printing live counters.",
    discussion: """
      The program is attached through a bpf_link that only this process holds: it leaves the \
      interface when the command exits, and also when the process is killed (even with SIGKILL), \
      so no stale filter is ever left behind.

      With --config FILE the blocklist also comes from a YAML or JSON file (block: [addresses and \
      prefixes], optional mode and events) that is watched: a change is applied within two seconds, \
      new entries first, old ones removed after; a file that does not parse is reported with its \
      line and the current blocklist stays. With --metrics-address HOST:PORT, /metrics serves the \
      counters in the Prometheus text format and /healthz answers while the firewall is attached.

      Example: xdp-block run --iface veth0 --block 192.0.2.1 --block 198.51.100.0/24 --log
      """)

  @Option(name: .customLong("iface"), help: "The interface to attach to.")
  var interface: String

  @Option(name: .customLong("block"), help: "An address or CIDR prefix to block (repeatable).")
  var entries: [String] = []

  @Option(help: "A YAML or JSON blocklist file to apply and watch.")
  var config: String?

  @Option(help: "Serve /metrics (Prometheus text format) and /healthz at this HOST:PORT.")
  var metricsAddress: String?

  @Option(help: "Attach mode: auto (native, falling back to generic), native or generic.")
  var mode: ModeOption?

  @Flag(help: "Print every dropped packet (rate-limited by --events-per-second).")
  var log = false

  @Option(help: "With --log: the most drop events per CPU per second.")
  var eventsPerSecond: UInt32 = 100

  @Option(help: "The network namespace the interface is in (a name under /var/run/netns).")
  var netns: String?

  @Option(help: "Detach and exit after this many seconds.")
  var duration: Double?

  func validate() throws {
    if let duration, !(duration > 0 && duration <= 31_536_000) {
      throw ValidationError("--duration must be a positive number of seconds")
    }
    if let metricsAddress, MetricsAddress(metricsAddress) == nil {
      throw ValidationError("--metrics-address must be HOST:PORT, such as 127.0.0.1:9464")
    }
  }

  func run() throws {
    try perform {
      var blocked = try BlockEntry.parseAll(entries)
      var file: BlocklistFile?
      if let config {
        do { file = try BlocklistFile(contentsOf: config) } catch { throw XDPBlockError.failed("\(error)") }
        blocked += file?.entries.filter { !blocked.contains($0) } ?? []
      }
      let attachMode = mode?.mode ?? file?.mode ?? .auto
      let events = log || file?.events == true
      try SystemSetup.requirePrivileges(for: "run", needsSysAdmin: netns != nil)
      let session = try ForegroundFirewall(
        interface: interface, namespace: netns, mode: attachMode, entries: blocked,
        configuration: FirewallConfiguration(eventsEnabled: events, eventsPerSecond: eventsPerSecond),
        logger: ConsoleLog.notices())
      let where_ = session.interfaceDescription
      let id = session.firewall.programID.map { " (program id \($0))" } ?? ""
      say("attached xdp_firewall\(id) to \(where_) in \(session.link.mode.wording) mode via bpf_link")
      say(blocked.isEmpty
        ? "blocking nothing yet: every packet passes and is counted"
        : "blocking: " + blocked.map { "\($0) (\($0.kind))" }.joined(separator: ", "))
      say(duration.map { "running for \(format($0)) s; Ctrl-C detaches and exits" } ?? "Ctrl-C detaches and exits")

      // The services run on the cooperative pool; the live counters and drop events on this
      // thread, which blocks in the ring buffer's epoll between lines.
      let stop = StopFlag()
      let signals = SignalService()
      let group = try services(session: session, signals: signals, stop: stop)
      let finished = DispatchSemaphore(value: 0)
      let outcome = Mutex<(any Error)?>(nil)
      Task {
        do { try await group.run() } catch { outcome.withLock { $0 = error } }
        stop.set()
        finished.signal()
      }

      let eventLog = ConsoleLog.events()
      let final: FirewallStatistics
      do {
        final = try session.monitor(
          duration: duration.map { .milliseconds(Int64($0 * 1000)) },
          shouldStop: { stop.isSet },
          onLine: { say($0) },
          onEvent: { eventLog.info("\($0)") })
      } catch {
        Task { await group.triggerGracefulShutdown() }
        finished.wait()
        try? session.detach()
        throw error
      }
      Task { await group.triggerGracefulShutdown() }
      finished.wait()
      try session.detach()
      let reason = signals.signal.map { " on \($0)" } ?? ""
      say("detached from \(where_)\(reason): passed \(final.passed.packets) packets, dropped \(final.dropped.packets) packets")
      if let error = outcome.withLock({ $0 }) { throw XDPBlockError.failed("\(error)") }
    }
  }

  /// The service group: the signals that stop the command, and, when asked for, the blocklist
  /// file's watcher and the metrics server with its publisher.
  private func services(session: ForegroundFirewall, signals: SignalService, stop: StopFlag) throws -> ServiceGroup {
    let logger = ConsoleLog.notices()
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
      .init(service: signals, successTerminationBehavior: .gracefullyShutdownGroup),
    ]
    if let config {
      services.append(.init(service: BlocklistReloadService(path: config, maps: session.firewall.maps, logger: logger)))
    }
    if let metricsAddress, let address = MetricsAddress(metricsAddress) {
      let registry = PrometheusCollectorRegistry()
      let publisher = XDPMetricsPublisher(interval: .seconds(1), factory: PrometheusMetricsFactory(registry: registry),
                                          logger: logger)
      FirewallMetrics.register(on: publisher, maps: session.firewall.maps, mode: session.link.mode.wording)
      let router = Router()
      router.get("/metrics") { _, _ -> String in
        publisher.publish()
        return registry.emitToString()
      }
      router.get("/healthz") { _, _ -> String in stop.isSet ? "stopping\n" : "ok\n" }
      var appLogger = Logger(label: "xdp-block.http")
      appLogger.logLevel = .warning
      let app = Application(router: router, configuration: .init(address: .hostname(address.host, port: address.port)),
                            logger: appLogger)
      services.append(.init(service: publisher))
      services.append(.init(service: app))
    }
    var configuration = ServiceGroupConfiguration(services: services, logger: Logger(label: "xdp-block.services"))
    configuration.logger.logLevel = .warning
    return ServiceGroup(configuration: configuration)
  }

  private func format(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds))" : "\(seconds)"
  }
}

/// HOST:PORT of `--metrics-address`.
struct MetricsAddress {
  var host: String
  var port: Int

  init?(_ text: String) {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
          (1...65535).contains(port), colon != text.startIndex else { return nil }
    host = String(text[..<colon]).trimmingCharacters(in: ["[", "]"])
    self.port = port
  }
}

/// Set once, when the command should stop: by a signal, or when a service ends.
final class StopFlag: Sendable {
  private let value = Atomic(false)
  var isSet: Bool { value.load(ordering: .acquiring) }
  func set() { value.store(true, ordering: .releasing) }
}

