import Logging
import XDPKit

/// `xdp-block run`: the firewall loaded for as long as this process runs, attached through a
/// bpf_link that is not pinned — so the program leaves the interface when the process exits,
/// however it exits (even killed with SIGKILL).
///
/// Loading and attaching are two steps: ``init(interface:namespace:entries:configuration:)``
/// loads and fills the maps, ``attach(mode:logger:)`` attaches — from inside an
/// `XDPService` (``ForegroundRun``), which detaches again at graceful shutdown or
/// cancellation. ``close()`` releases the loaded object once the service has ended.
public final class ForegroundFirewall: Sendable {
  /// The interface's name.
  public let interface: String
  /// The network namespace the interface is in, or `nil` for the calling thread's.
  public let namespace: String?
  /// The interface, for messages: "veth0" or "veth0 (netns blue)".
  public let interfaceDescription: String
  /// The loaded firewall.
  public let firewall: LoadedFirewall
  /// The entries added at start.
  public let entries: [BlockEntry]
  /// The EVENTS ring buffer, when drop events are on.
  let ring: RingBuffer?

  /// Loads the firewall, adds `entries` and maps the EVENTS ring buffer for reading (with
  /// `configuration.eventsEnabled`): ready to attach, and blocking from its first packet on.
  public init(
    interface: String, namespace: String?, entries: [BlockEntry], configuration: FirewallConfiguration
  ) throws(XDPBlockError) {
    firewall = try LoadedFirewall(configuration: configuration)
    do {
      try firewall.add(entries)
      ring = configuration.eventsEnabled ? firewall.maps.events : nil
    } catch {
      firewall.loaded.close()
      throw error
    }
    self.interface = interface
    self.namespace = namespace
    interfaceDescription = namespace.map { "\(interface) (netns \($0))" } ?? interface
    self.entries = entries
  }

  /// Attaches the program to the interface (inside the namespace, when given) through a
  /// bpf_link that only this process holds. See
  /// ``LoadedFirewall/attach(to:namespace:mode:logger:)`` for the errors; xdp-block's own
  /// persistent firewall already on the interface is ``XDPBlockError/alreadyManaged(_:)``.
  public func attach(mode: XDPAttachMode, logger: Logger? = nil) throws(XDPBlockError) -> XDPLink {
    do {
      return try firewall.attach(to: interface, namespace: namespace, mode: mode, logger: logger)
    } catch {
      // Name xdp-block's own persistent attachment as such, not as "another XDP program".
      if case .alreadyAttached(_, _, let programID?, _) = error, let layout = try? PinLayout(interface: interface, namespace: namespace),
        let status = try? PersistentFirewall.status(of: layout, repaired: { logger?.notice("\($0)") }), status.programID == programID
      {
        throw .alreadyManaged(layout)
      }
      throw error
    }
  }

  /// The current counters.
  public func statistics() throws(XDPBlockError) -> FirewallStatistics {
    try firewall.maps.statistics()
  }

  /// Hands a live line to `onLine` once per `interval` and every drop event to `onEvent` as it
  /// arrives, until the calling task is cancelled; then the events still in the ring are
  /// handed over too, and it returns. Waiting for events happens off the cooperative pool
  /// (``RingBuffer/records()``).
  public func monitor(
    interval: Duration = .seconds(1), onLine: @escaping @Sendable (String) -> Void,
    onEvent: @escaping @Sendable (DropEvent) -> Void
  ) async throws(XDPBlockError) {
    let clock = ContinuousClock()
    var live = LiveStatistics(initial: try statistics(), at: clock.now)
    let ring = self.ring
    await withTaskGroup(of: Void.self) { group in
      if let ring {
        group.addTask {
          for await record in ring.records() {
            if let event = DropEvent(bytes: record) { onEvent(event) }
          }
        }
      }
      while !Task.isCancelled {
        do { try await Task.sleep(for: interval) } catch { break }
        if let current = try? statistics() { onLine(live.line(for: current, at: clock.now)) }
      }
      group.cancelAll()
    }
    if let ring { ring.drain(as: DropEvent.self, onEvent) }
  }

  /// Releases the loaded object (program and maps). Call it once the attachment is gone.
  public func close() {
    firewall.loaded.close()
  }
}
