import Glibc
import Logging
import XDPKit

/// `xdp-block run`: the firewall attached for as long as this process runs, through a
/// bpf_link that is not pinned — so the program leaves the interface when the process exits,
/// however it exits (even killed with SIGKILL).
public final class ForegroundFirewall {
  /// The interface, for messages: "veth0" or "veth0 (netns blue)".
  public let interfaceDescription: String
  /// The loaded firewall.
  public let firewall: LoadedFirewall
  /// The attachment.
  public let link: XDPLink
  /// The entries added at start.
  public let entries: [BlockEntry]
  private let ring: RingBuffer?

  /// Loads the firewall, adds `entries`, maps the EVENTS ring buffer for reading (with
  /// `configuration.eventsEnabled`), and attaches it to `interface` (inside `namespace`, when
  /// given) — in that order, so that the entries hold from the first packet.
  public init(
    interface: String, namespace: String?, mode: XDPAttachMode, entries: [BlockEntry],
    configuration: FirewallConfiguration, logger: Logger? = nil
  ) throws(XDPBlockError) {
    firewall = try LoadedFirewall(configuration: configuration)
    do {
      // Entries and the ring buffer first: the firewall blocks from its first packet on.
      try firewall.add(entries)
      ring = configuration.eventsEnabled ? firewall.maps.events : nil
    } catch {
      firewall.loaded.close()
      throw error
    }
    do {
      link = try firewall.attach(to: interface, namespace: namespace, mode: mode, logger: logger)
    } catch {
      // Name xdp-block's own persistent attachment as such, not as "another XDP program".
      if case .alreadyAttached(_, _, let programID?, _) = error, let layout = try? PinLayout(interface: interface, namespace: namespace),
        let status = try? PersistentFirewall.status(of: layout), status.programID == programID
      {
        throw .alreadyManaged(layout)
      }
      throw error
    }
    interfaceDescription = namespace.map { "\(interface) (netns \($0))" } ?? interface
    self.entries = entries
  }

  /// The current counters.
  public func statistics() throws(XDPBlockError) -> FirewallStatistics {
    try firewall.maps.statistics()
  }

  /// Prints a live line once per `interval` and every drop event as it arrives, until
  /// `duration` has passed (forever when `nil`) or `shouldStop` answers true (checked at
  /// least every 100 ms). Returns the final counters.
  public func monitor(
    duration: Duration?, interval: Duration = .seconds(1), shouldStop: () -> Bool,
    onLine: (String) -> Void, onEvent: (DropEvent) -> Void
  ) throws(XDPBlockError) -> FirewallStatistics {
    let clock = ContinuousClock()
    let start = clock.now
    let end = duration.map { start.advanced(by: $0) }
    var live = LiveStatistics(initial: try statistics(), at: start)
    var nextLine = start.advanced(by: interval)
    let slice = Duration.milliseconds(100)
    while !shouldStop() {
      let now = clock.now
      if let end, now >= end { break }
      if now >= nextLine {
        onLine(live.line(for: try statistics(), at: now))
        while nextLine <= now { nextLine = nextLine.advanced(by: interval) }
        continue
      }
      var wait = min(slice, now.duration(to: nextLine))
      if let end { wait = min(wait, now.duration(to: end)) }
      if let ring {
        do {
          try ring.poll(as: DropEvent.self, timeout: wait, onEvent)
        } catch {
          throw .map(operation: "read drop events", error)
        }
      } else {
        sleep(for: wait)
      }
    }
    if let ring { ring.drain(as: DropEvent.self, onEvent) }
    return try statistics()
  }

  /// Detaches the program (BPF_LINK_DETACH) and releases the loaded object.
  public func detach() throws(XDPBlockError) {
    defer { firewall.loaded.close() }
    do { try link.detach() } catch {
      if case .detached = error { return }
      throw .failed("detach from \(interfaceDescription): \(error)")
    }
  }
}

/// Blocks the calling thread for `duration` (at least 0); a signal may end it early.
func sleep(for duration: Duration) {
  let (seconds, attoseconds) = duration.components
  guard seconds > 0 || attoseconds > 0 else { return }
  var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
  _ = nanosleep(&request, nil)
}
