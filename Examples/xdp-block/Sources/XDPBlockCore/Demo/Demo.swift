import Logging
import XDPKit

/// `xdp-block demo`: the whole story on a private network, with no interface to name.
///
/// 1. Makes a ``DemoNetwork``: a sender and a receiver namespace joined by a veth pair.
/// 2. Loads the firewall with drop events on and attaches it (bpf_link) to the receiver's
///    veth, from inside the receiver's namespace.
/// 3. Blocks the sender's first address, 192.0.2.1.
/// 4. Sends a bounded burst of UDP datagrams from 192.0.2.1 and from 192.0.2.3 (allowed).
/// 5. Reports STATS, the drop events from the ring buffer and what the receiver got from each
///    source, then detaches and deletes both namespaces — also when a step fails or the task
///    running it is cancelled (Ctrl-C, through ``Interruption``).
///
/// It succeeds when every datagram from the blocked source was dropped and every one from the
/// allowed source arrived.
public struct Demo: Sendable {
  /// The result, for the report and the exit status.
  public struct Report: Sendable {
    /// Datagrams sent from each source.
    public var sentBlocked = 0, sentAllowed = 0
    /// Datagrams the receiver got from each source.
    public var receivedBlocked = 0, receivedAllowed = 0
    /// STATS after the burst.
    public var statistics = FirewallStatistics.zero
    /// The BLOCKLIST hit count of the blocked address.
    public var hits: UInt64 = 0
    /// Drop events read from the ring buffer.
    public var events: [DropEvent] = []
    /// The mode the firewall ran in.
    public var mode: XDPAttachMode = .auto

    /// Whether the blocked source was dropped and the allowed one passed, all of it.
    public var succeeded: Bool {
      sentBlocked > 0 && sentAllowed > 0 && receivedBlocked == 0 && receivedAllowed == sentAllowed
        && statistics.dropped.packets == UInt64(sentBlocked)
    }
  }

  /// Datagrams sent from each source (1…10 000).
  public var count: Int
  /// The attach mode.
  public var mode: XDPAttachMode
  /// The UDP port the receiver listens on.
  public var port: UInt16 = 7777
  /// Where the firewall's notices go (auto mode falling back to generic, …).
  public var logger: Logger?

  /// A demo sending `count` datagrams from each source.
  public init(count: Int = 100, mode: XDPAttachMode = .auto, logger: Logger? = nil) {
    self.count = max(1, min(count, DemoUDPSocket.maximumCount))
    self.mode = mode
    self.logger = logger
  }

  /// Runs the demo, telling `say` each step and the report as it goes. Everything it creates
  /// is removed before it returns or throws.
  public func run(say: (String) -> Void) throws(XDPBlockError) -> Report {
    try SystemSetup.requirePrivileges(for: "demo", needsSysAdmin: true)
    var report = Report()

    say("xdp-block demo: a blocklist firewall on a private veth pair")
    let network = try DemoNetwork()
    defer {
      network.destroy()
      say("cleaned up: deleted network namespaces \(network.senderNamespace) and \(network.receiverNamespace)")
    }
    say("  \(network.senderNamespace) (sender):   \(network.senderInterface)  \(network.blockedAddress) (will be blocked), \(network.allowedAddress) (allowed)")
    say("  \(network.receiverNamespace) (receiver): \(network.receiverInterface)  \(network.receiverAddress)")
    try checkInterrupt()

    let firewall = try LoadedFirewall(configuration: FirewallConfiguration(eventsEnabled: true, eventsPerSecond: UInt32(count) * 2))
    defer { firewall.loaded.close() }
    let link = try firewall.attach(to: network.receiverInterface, namespace: network.receiverNamespace, mode: mode, logger: logger)
    defer {
      try? link.detach()
      say("detached xdp_firewall from \(network.receiverInterface)")
    }
    report.mode = link.mode
    say("attached xdp_firewall (program id \(firewall.programID.map(String.init) ?? "?")) to \(network.receiverInterface) in \(link.mode.wording) mode via bpf_link")

    let blocked = try BlockEntry(parsing: network.blockedAddress)
    try firewall.maps.add(blocked)
    say("blocked \(blocked) (exact entry in BLOCKLIST)")
    let ring = firewall.maps.events
    try checkInterrupt()

    let receiver = try DemoUDPSocket(namespace: network.receiverNamespace, address: network.receiverAddress, port: port)
    let blockedSender = try DemoUDPSocket(namespace: network.senderNamespace, address: network.blockedAddress, port: 0)
    let allowedSender = try DemoUDPSocket(namespace: network.senderNamespace, address: network.allowedAddress, port: 0)
    report.sentBlocked = try blockedSender.send(to: network.receiverAddress, port: port, count: count)
    report.sentAllowed = try allowedSender.send(to: network.receiverAddress, port: port, count: count)
    say("sent \(report.sentBlocked) UDP datagrams from \(network.blockedAddress) and \(report.sentAllowed) from \(network.allowedAddress) to \(network.receiverAddress):\(port)")

    let received = receiver.receiveCounts()
    report.receivedBlocked = received[network.blockedAddress, default: 0]
    report.receivedAllowed = received[network.allowedAddress, default: 0]
    report.statistics = try firewall.maps.statistics()
    report.hits = try firewall.maps.hits(of: blocked) ?? 0
    do {
      try ring.poll(as: DropEvent.self, timeout: .milliseconds(200)) { report.events.append($0) }
    } catch {
      throw .map(operation: "read drop events", error)
    }
    ring.drain(as: DropEvent.self) { report.events.append($0) }

    say("")
    say("drop events from the EVENTS ring buffer: \(report.events.count)")
    for event in report.events.prefix(3) { say("  \(event)") }
    if report.events.count > 3 { say("  … and \(report.events.count - 3) more") }
    say("\(FirewallMaps.Name.stats) (summed over CPUs): dropped \(report.statistics.dropped.packets) packets (\(report.statistics.dropped.bytes) bytes), passed \(report.statistics.passed.packets) packets (\(report.statistics.passed.bytes) bytes)")
    say("\(FirewallMaps.Name.blocklist) hits for \(blocked): \(report.hits)")
    say("receiver got \(report.receivedBlocked) of \(report.sentBlocked) from \(network.blockedAddress) (blocked) and \(report.receivedAllowed) of \(report.sentAllowed) from \(network.allowedAddress) (allowed)")
    if report.succeeded {
      say("result: OK — the blocked source was dropped, the allowed source passed")
    } else {
      say("result: FAILED — expected 0 from \(network.blockedAddress) and \(report.sentAllowed) from \(network.allowedAddress), with \(report.sentBlocked) drops counted")
    }
    return report
  }

  /// Between steps: a cancelled task stops here, and the clean-up runs.
  private func checkInterrupt() throws(XDPBlockError) {
    if Task.isCancelled { throw .interrupted }
  }
}
