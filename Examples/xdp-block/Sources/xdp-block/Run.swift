import ArgumentParser
import XDPBlockCore

/// `xdp-block run`: attach in the foreground, print counters, detach on Ctrl-C or SIGTERM.
struct Run: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Attach the firewall in the foreground until Ctrl-C or SIGTERM, printing live counters.",
    discussion: """
      The program is attached through a bpf_link that only this process holds: it leaves the \
      interface when the command exits, and also when the process is killed (even with SIGKILL), \
      so no stale filter is ever left behind.

      Example: xdp-block run --iface veth0 --block 192.0.2.1 --block 198.51.100.0/24 --log
      """)

  @Option(name: .customLong("iface"), help: "The interface to attach to.")
  var interface: String

  @Option(name: .customLong("block"), help: "An address or CIDR prefix to block (repeatable).")
  var entries: [String] = []

  @Option(help: "Attach mode: auto (native, falling back to generic), native or generic.")
  var mode: ModeOption = .auto

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
  }

  func run() throws {
    try perform {
      let blocked = try BlockEntry.parseAll(entries)
      try SystemSetup.requirePrivileges(for: "run", needsSysAdmin: netns != nil)
      Termination.install()
      let session = try ForegroundFirewall(
        interface: interface, namespace: netns, mode: mode.mode, entries: blocked,
        configuration: FirewallConfiguration(eventsEnabled: log, eventsPerSecond: eventsPerSecond),
        logger: ConsoleLog.notices())
      let where_ = session.interfaceDescription
      let id = session.firewall.programID.map { " (program id \($0))" } ?? ""
      say("attached xdp_firewall\(id) to \(where_) in \(session.link.mode.wording) mode via bpf_link")
      say(blocked.isEmpty
        ? "blocking nothing yet: every packet passes and is counted"
        : "blocking: " + blocked.map { "\($0) (\($0.kind))" }.joined(separator: ", "))
      say(duration.map { "running for \(format($0)) s; Ctrl-C detaches and exits" } ?? "Ctrl-C detaches and exits")

      let events = ConsoleLog.events()
      let final: FirewallStatistics
      do {
        final = try session.monitor(
          duration: duration.map { .milliseconds(Int64($0 * 1000)) },
          shouldStop: { Termination.isRequested },
          onLine: { say($0) },
          onEvent: { events.info("\($0)") })
      } catch {
        try? session.detach()
        throw error
      }
      try session.detach()
      let reason = Termination.signal.map { " on \(Termination.name(of: $0))" } ?? ""
      say("detached from \(where_)\(reason): passed \(final.passed.packets) packets, dropped \(final.dropped.packets) packets")
    }
  }

  private func format(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds))" : "\(seconds)"
  }
}
