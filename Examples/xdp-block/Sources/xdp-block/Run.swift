import ArgumentParser
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
import XDPKitToolSupport

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
      line and the current blocklist stays. The file, the directories above it and any symbolic \
      link on the way must be root's (or the running user's) and not writable by others (sticky \
      directories excepted), or it is refused. With --metrics-address HOST:PORT, /metrics serves the \
      counters in the Prometheus text format and /healthz answers while the firewall is attached.

      Example: xdp-block run --iface veth0 --block 192.0.2.1 --block 198.51.100.0/24 --log
      """)

  @Option(name: .customLong("iface"), help: "The interface to attach to.")
  var interface: String

  @Option(name: .customLong("block"), help: "An address or CIDR prefix to block (repeatable).")
  var entries: [String] = []

  @Option(help: "A YAML or JSON blocklist file to apply and watch.")
  var config: String?

  @Option(help: ArgumentHelp(
    "Serve /metrics (Prometheus text format) and /healthz at this HOST:PORT, without authentication.",
    discussion: "Counters are read every second; a scrape reads no map. Bind to an address only the scraper can reach."))
  var metricsAddress: String?

  @Option(help: "With --metrics-address: how often, in seconds, the blocklist's entry counts and most-hit entries are read (a lookup per entry).")
  var metricsBlocklistInterval: Double = 15

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
      throw ValidationError("--metrics-address must be HOST:PORT or [IPv6]:PORT, such as 127.0.0.1:9464")
    }
    guard metricsBlocklistInterval >= 1 && metricsBlocklistInterval <= 86_400 else {
      throw ValidationError("--metrics-blocklist-interval must be between 1 and 86400 seconds")
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
        interface: interface, namespace: netns, entries: blocked,
        configuration: FirewallConfiguration(eventsEnabled: events, eventsPerSecond: eventsPerSecond))
      defer { session.close() }
      let foreground = ForegroundRun(session: session, mode: attachMode, logger: ConsoleLog.notices())

      // The service group runs on the cooperative pool; this thread waits for it.
      let entries = blocked
      let signal = try runBlocking { try await runServices(foreground, blocked: entries) }
      guard foreground.link != nil else { return }
      let final = try session.statistics()
      let reason = signal.map { " on \($0)" } ?? ""
      say("detached from \(session.interfaceDescription)\(reason): passed \(final.passed.packets) packets, dropped \(final.dropped.packets) packets")
    }
  }

  /// Runs the service group until a signal, the duration, or a failure ends it. Returns the
  /// signal that ended it, if one did; rethrows the error of a service that failed (attaching,
  /// say), as an ``XDPBlockError``.
  private func runServices(_ foreground: ForegroundRun, blocked: [BlockEntry]) async throws -> UnixSignal? {
    let signals = await SignalService()
    let eventLog = ConsoleLog.events()
    let registry = PrometheusCollectorRegistry()
    let publisher = metricsAddress.map { _ in
      XDPMetricsPublisher(interval: .seconds(1), factory: PrometheusMetricsFactory(registry: registry), logger: ConsoleLog.notices())
    }
    let xdp = foreground.xdpService(
      onAttached: { link in
        let session = foreground.session
        let id = session.firewall.programID.map { " (program id \($0))" } ?? ""
        say("attached xdp_firewall\(id) to \(session.interfaceDescription) in \(link.mode.wording) mode via bpf_link")
        if blocked.isEmpty {
          say("blocking nothing yet: every packet passes and is counted")
        } else if blocked.count <= perEntryOutputLimit {
          say("blocking: " + blocked.map { "\($0) (\($0.kind))" }.joined(separator: ", "))
        } else {
          let exact = blocked.count { $0.isExact }
          say("blocking \(count(blocked.count, "entry", "entries")) (\(count(exact, "address", "addresses")), "
            + "\(count(blocked.count - exact, "prefix", "prefixes")))")
        }
        say(duration.map { "running for \(format($0)) s; Ctrl-C detaches and exits" } ?? "Ctrl-C detaches and exits")
        if let publisher { FirewallMetrics.registerAttachMode(on: publisher, mode: link.mode) }
      },
      onLine: { say($0) },
      onEvent: { eventLog.info("\($0)") })
    let services = foreground.services(
      xdp: xdp, config: config, duration: duration.map { .milliseconds(Int64($0 * 1000)) }, signals: signals,
      extra: publisher.map { metricsServices(publisher: $0, registry: registry, foreground: foreground) } ?? [])
    var configuration = ServiceGroupConfiguration(services: services, logger: Logger(label: "xdp-block.services"))
    configuration.logger.logLevel = .warning
    do {
      try await ServiceGroup(configuration: configuration).run()
    } catch let error as XDPBlockError {
      throw error
    } catch {
      throw XDPBlockError.failed("\(error)")
    }
    return signals.signal
  }

  /// The metrics publisher and the HTTP server of /metrics and /healthz.
  private func metricsServices(publisher: XDPMetricsPublisher, registry: PrometheusCollectorRegistry, foreground: ForegroundRun)
    -> [ServiceGroupConfiguration.ServiceConfiguration]
  {
    guard let metricsAddress, let address = MetricsAddress(metricsAddress) else { return [] }
    FirewallMetrics.register(on: publisher, maps: foreground.session.firewall.maps,
                             blocklistInterval: .milliseconds(Int64(metricsBlocklistInterval * 1000)))
    let router = Router()
    // The values the publisher read last (at most its interval ago): a request reads no map,
    // so clients cannot make the firewall's maps be read faster than once an interval.
    router.get("/metrics") { _, _ -> String in
      registry.emitToString()
    }
    router.get("/healthz") { _, _ -> Response in
      let attached = foreground.isAttached
      return Response(
        status: attached ? .ok : .serviceUnavailable,
        body: ResponseBody(byteBuffer: ByteBuffer(string: attached ? "ok\n" : "not attached\n")))
    }
    var appLogger = Logger(label: "xdp-block.http")
    appLogger.logLevel = .warning
    // Connections left idle are closed, so that clients that hold them cannot use up the
    // process's descriptors (the blocklist file watcher needs some).
    let app = Application(router: router, server: .http1(configuration: .init(idleTimeout: .seconds(30))),
                          configuration: .init(address: .hostname(address.host, port: address.port)),
                          logger: appLogger)
    return [.init(service: publisher), .init(service: app)]
  }

  private func format(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds))" : "\(seconds)"
  }
}

/// HOST:PORT of `--metrics-address`.
struct MetricsAddress {
  var host: String
  var port: Int

  /// `HOST:PORT` with a host name or IPv4 address, or `[IPv6]:PORT`; the port in decimal
  /// digits, 1 to 65535.
  init?(_ text: String) {
    guard let colon = text.lastIndex(of: ":"), colon != text.startIndex else { return nil }
    let digits = text[text.index(after: colon)...]
    guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
          let port = Int(digits), (1...65535).contains(port) else { return nil }
    var host = text[..<colon]
    if host.hasPrefix("[") {
      // An IPv6 address in brackets, nothing around them.
      guard host.hasSuffix("]"), host.count > 2 else { return nil }
      host = host.dropFirst().dropLast()
      guard !host.contains("[") && !host.contains("]") && host.contains(":") else { return nil }
    } else if host.contains(":") || host.contains("[") || host.contains("]") {
      return nil  // an IPv6 address needs its brackets: ::1:9464 is ambiguous
    }
    self.host = String(host)
    self.port = port
  }
}
