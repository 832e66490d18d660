import Logging
import ServiceLifecycle
import Synchronization
import XDPKit
import XDPKitService

/// The services of `xdp-block run`, around a loaded ``ForegroundFirewall``:
///
/// - an `XDPService` that attaches the firewall in `run()`, reports live counters and drop
///   events while attached, and detaches at graceful shutdown or cancellation;
/// - with a blocklist file, a ``BlocklistReloadService`` that keeps the maps equal to it;
/// - with a duration, a ``DeadlineService`` whose end shuts the group down;
/// - with signals, the ``SignalService`` whose first signal shuts the group down.
///
/// The command adds its metrics server to these and runs them in one `ServiceGroup`; a test
/// can run the same group in-process and cancel it.
public final class ForegroundRun: Sendable {
  /// The loaded firewall.
  public let session: ForegroundFirewall
  /// The attach mode asked for.
  public let mode: XDPAttachMode
  private let logger: Logger
  private let state = Mutex<XDPLink?>(nil)

  /// A run of `session`, attaching in `mode`; `logger` hears the library's notices and the
  /// services' reports.
  public init(session: ForegroundFirewall, mode: XDPAttachMode, logger: Logger) {
    self.session = session
    self.mode = mode
    self.logger = logger
  }

  /// The attachment while the firewall is attached, else `nil`.
  public var link: XDPLink? { state.withLock { $0 } }

  /// Whether the firewall is attached now (for a health check).
  public var isAttached: Bool { state.withLock { $0.map { !$0.isDetached } ?? false } }

  /// The service that attaches the firewall while it runs: `onAttached` hears the attachment
  /// first, then live lines go to `onLine` (once per `interval`) and drop events to `onEvent`
  /// until graceful shutdown or cancellation, after which the program is detached.
  public func xdpService(
    interval: Duration = .seconds(1), onAttached: @escaping @Sendable (XDPLink) -> Void = { _ in },
    onLine: @escaping @Sendable (String) -> Void = { _ in }, onEvent: @escaping @Sendable (DropEvent) -> Void = { _ in }
  ) -> XDPService<XDPLink> {
    XDPService("xdp_firewall on \(session.interfaceDescription)", logger: logger, attach: {
      let link = try self.session.attach(mode: self.mode, logger: self.logger)
      self.state.withLock { $0 = link }
      return link
    }, whileAttached: { link in
      onAttached(link)
      try await self.session.monitor(interval: interval, onLine: onLine, onEvent: onEvent)
    })
  }

  /// The services in the order to run them (and the reverse order of their shutdown): the
  /// XDP service first, so that it detaches last; the blocklist file's watcher when `config`
  /// is given; then `extra` (a metrics server, say); then the deadline after `duration`; then
  /// `signals`. The deadline and the signals shut the group down gracefully when they end.
  public func services(
    xdp: XDPService<XDPLink>, config: String?, duration: Duration?, signals: SignalService?,
    extra: [ServiceGroupConfiguration.ServiceConfiguration] = []
  ) -> [ServiceGroupConfiguration.ServiceConfiguration] {
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: xdp)]
    if let config {
      services.append(.init(service: BlocklistReloadService(path: config, maps: session.firewall.maps, logger: logger)))
    }
    services += extra
    if let duration {
      services.append(.init(service: DeadlineService(after: duration), successTerminationBehavior: .gracefullyShutdownGroup))
    }
    if let signals {
      services.append(.init(service: signals, successTerminationBehavior: .gracefullyShutdownGroup))
    }
    return services
  }
}
