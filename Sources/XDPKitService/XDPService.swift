import Logging
import ServiceLifecycle
import XDPKit

/// An attachment that can be taken off again: an ``XDPLink`` or a dispatcher component
/// (``XDPComponentAttachment``).
public protocol XDPDetachable: Sendable {
  /// Detaches what was attached.
  func detach() throws
}

extension XDPLink: XDPDetachable {}
extension XDPComponentAttachment: XDPDetachable {}

/// A swift-service-lifecycle `Service` that keeps an XDP program attached while it runs.
///
/// `run()` attaches, then runs `whileAttached` (by default: nothing, it waits) until the
/// service group shuts down gracefully or the task is cancelled, then detaches, also when
/// `whileAttached` throws. Put it in a `ServiceGroup` with the signals to shut down on:
///
/// ```swift
/// let loaded = try Firewall.load()
/// let xdp = XDPService(program: loaded.xdpFirewall, interface: "eth1", logger: logger)
/// let group = ServiceGroup(services: [xdp, metrics], gracefulShutdownSignals: [.sigterm, .sigint],
///                          logger: logger)
/// try await group.run()   // SIGTERM: the program is detached, then run() returns
/// ```
///
/// The attach closure runs on whatever thread runs the service: to attach in another network
/// namespace, enter it inside the closure (`withNetworkNamespace(named:)`). See the XDPKit
/// catalog's article "Running XDP as a service" (Sources/XDPKit/Documentation.docc/Service.md).
public struct XDPService<Attachment: XDPDetachable>: Service {
  /// The service's name in log messages.
  public let name: String
  private let logger: Logger
  private let attach: @Sendable () throws -> Attachment
  private let whileAttached: @Sendable (Attachment) async throws -> Void

  /// A service that attaches with `attach` and, while attached, runs `whileAttached`.
  ///
  /// - Parameters:
  ///   - attach: attaches and returns the attachment; its error ends `run()` with nothing
  ///     attached.
  ///   - whileAttached: work that needs the attachment (reading events, say). It is cancelled
  ///     at graceful shutdown; when it returns or throws on its own, the service detaches and
  ///     ends (a `ServiceGroup` then shuts the other services down, by its configuration).
  ///     By default it waits for the shutdown.
  public init(_ name: String = "xdp", logger: Logger, attach: @escaping @Sendable () throws -> Attachment,
              whileAttached: @escaping @Sendable (Attachment) async throws -> Void = { _ in try await gracefulShutdown() }) {
    self.name = name
    self.logger = logger
    self.attach = attach
    self.whileAttached = whileAttached
  }

  /// Attaches, waits for graceful shutdown or cancellation (running `whileAttached` meanwhile),
  /// and detaches. Returns normally after a shutdown or cancellation; throws the error of
  /// attaching, of `whileAttached`, or of detaching.
  public func run() async throws {
    let attachment = try attach()
    logger.info("\(name): attached")
    let outcome: Result<Void, any Error>
    do {
      try await cancelWhenGracefulShutdown { try await whileAttached(attachment) }
      outcome = .success(())
    } catch is CancellationError {
      outcome = .success(())
    } catch {
      outcome = .failure(error)
    }
    do {
      try attachment.detach()
      logger.info("\(name): detached")
    } catch {
      logger.error("\(name): detach failed: \(error)")
      if case .success = outcome { throw error }
    }
    try outcome.get()
  }
}

extension XDPService where Attachment == XDPLink {
  /// A service that attaches `program` to `interface` (see
  /// ``XDPProgram/attach(to:mode:method:logger:)``) while it runs.
  public init(program: XDPProgram, interface: NetworkInterface, mode: XDPAttachMode = .auto,
              method: XDPAttachMethod = .auto, logger: Logger,
              whileAttached: @escaping @Sendable (XDPLink) async throws -> Void = { _ in try await gracefulShutdown() }) {
    self.init("xdp on \(interface)", logger: logger, attach: {
      try program.attach(to: interface, mode: mode, method: method, logger: logger)
    }, whileAttached: whileAttached)
  }
}
