import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import UnixSignals
import XDPKit
import XDPKitService

/// What `xdp-block run` publishes as metrics, read from the firewall's maps.
public enum FirewallMetrics {
  /// Registers on `publisher`: packets and bytes per XDP action (counters
  /// `xdp_block_packets_total` / `xdp_block_bytes_total`, dimension `action`), the drop events
  /// lost because the ring buffer was full (counter `xdp_block_events_lost_total`), the entry count
  /// per table (gauge `xdp_block_entries`, dimension `table`: `addresses`, `prefixes`), the
  /// hits of the `top` most-hit entries (gauge `xdp_block_entry_hits`, dimension `entry`).
  /// The attach mode (gauge `xdp_block_attach_mode` = 1, dimension `mode`) is known once
  /// attached: ``registerAttachMode(on:mode:)``.
  ///
  /// The entry counts and hits take a lookup per blocklist entry: they are read at most once
  /// per `blocklistInterval` (and shared), whatever the publisher's own interval, so that a
  /// large blocklist costs little CPU between scrapes.
  public static func register(on publisher: XDPMetricsPublisher, maps: FirewallMaps, top: Int = 10,
                              blocklistInterval: Duration = .seconds(15)) {
    for action in XDPAction.allNamed {
      publisher.counter("xdp_block_packets_total", dimensions: [("action", action.name)]) {
        try maps.statistics().perAction[Int(action.value)].packets
      }
      publisher.counter("xdp_block_bytes_total", dimensions: [("action", action.name)]) {
        try maps.statistics().perAction[Int(action.value)].bytes
      }
    }
    publisher.counter("xdp_block_events_lost_total") { try maps.eventsLost() }
    let blocklist = BlocklistSnapshot(maps: maps, top: top, interval: blocklistInterval)
    publisher.gauge("xdp_block_entries", dimensions: [("table", "addresses")]) { Double(try blocklist.current().addresses) }
    publisher.gauge("xdp_block_entries", dimensions: [("table", "prefixes")]) { Double(try blocklist.current().prefixes) }
    publisher.topEntries("xdp_block_entry_hits", dimension: "entry", limit: top) { try blocklist.current().top }
  }

  /// Registers the attach mode on `publisher`: gauge `xdp_block_attach_mode` = 1 with the
  /// mode (`native`, `generic`) as dimension `mode`.
  public static func registerAttachMode(on publisher: XDPMetricsPublisher, mode: XDPAttachMode) {
    publisher.gauge("xdp_block_attach_mode", dimensions: [("mode", mode.wording)]) { 1 }
  }
}

/// The blocklist's counts and most-hit entries, read whole at most once per `interval`.
final class BlocklistSnapshot: Sendable {
  struct Reading {
    var addresses: Int
    var prefixes: Int
    /// The `top` entries with the most hits, most first, as metric dimension and value.
    var top: [(String, Double)]
  }

  let maps: FirewallMaps
  let top: Int
  let interval: Duration
  private let last = Mutex<(taken: ContinuousClock.Instant, reading: Reading)?>(nil)

  init(maps: FirewallMaps, top: Int, interval: Duration) {
    self.maps = maps
    self.top = top
    self.interval = interval
  }

  /// The last reading, or a new one when it is older than `interval`.
  func current() throws(XDPBlockError) -> Reading {
    let now = ContinuousClock.now
    if let kept = last.withLock({ $0 }), now - kept.taken < interval { return kept.reading }
    let entries = try maps.entries()
    let exact = entries.count { $0.entry.isExact }
    let most = entries.sorted { $0.hits > $1.hits }.prefix(top).map { ("\($0.entry)", Double($0.hits)) }
    let reading = Reading(addresses: exact, prefixes: entries.count - exact, top: most)
    last.withLock { $0 = (now, reading) }
    return reading
  }
}

extension XDPAction {
  /// The five actions with their lower-case names, as metric dimensions.
  static let allNamed: [(name: String, value: UInt32)] = [
    ("aborted", 0), ("drop", 1), ("pass", 2), ("tx", 3), ("redirect", 4),
  ]
}

/// Keeps the firewall's blocklist equal to a blocklist file: on every change the new entries
/// are inserted first and the old ones removed after (``BlocklistReconcile``), so a source
/// blocked before and after a reload is blocked throughout. A file that does not parse is
/// logged with its line and reason, and the maps stay as they are.
public struct BlocklistReloadService: Service {
  let path: String
  let maps: FirewallMaps
  let logger: Logger
  let applied: @Sendable (BlocklistReconcile.Plan) -> Void

  /// A service that watches `path` and applies it to `maps`; `applied` hears every plan that
  /// was applied.
  public init(path: String, maps: FirewallMaps, logger: Logger,
              applied: @escaping @Sendable (BlocklistReconcile.Plan) -> Void = { _ in }) {
    self.path = path
    self.maps = maps
    self.logger = logger
    self.applied = applied
  }

  /// Applies `file` to `maps`: inserts, then removes. Returns the plan applied.
  @discardableResult
  public static func apply(_ file: BlocklistFile, to maps: FirewallMaps) throws(XDPBlockError) -> BlocklistReconcile.Plan {
    let current = Set(try maps.entries().map(\.entry))
    let plan = BlocklistReconcile.plan(current: current, desired: file.entrySet)
    if !plan.insert.isEmpty { _ = try maps.add(contentsOf: plan.insert) }
    if !plan.remove.isEmpty { _ = try maps.remove(contentsOf: plan.remove) }
    return plan
  }

  public func run() async throws {
    for await result in BlocklistFileWatcher(path: path).cancelOnGracefulShutdown() {
      switch result {
      case .success(let file):
        do {
          let plan = try Self.apply(file, to: maps)
          logger.notice("\(path): \(file.entries.count) entries; added \(plan.insert.count), removed \(plan.remove.count)")
          applied(plan)
        } catch {
          logger.error("\(path): applying it failed: \(error); the blocklist may be partly updated")
        }
      case .failure(let error):
        logger.error("\(error); keeping the current blocklist")
      }
    }
  }
}

/// Ends (and so, configured to, shuts the group down) when the first of `signals` arrives,
/// remembering which: `xdp-block run` says which signal stopped it.
///
/// The signals are trapped when the service is made, not when it starts running: a signal
/// that arrives between the two is held for ``run()``, never the default action that would
/// end the process with the program still attached.
public final class SignalService: Service, Sendable {
  let sequence: UnixSignalsSequence
  let received: Mutex<UnixSignal?>

  /// Traps `signals` (their default action is replaced) and listens for them.
  public init(_ signals: [UnixSignal] = [.sigterm, .sigint]) async {
    self.sequence = await UnixSignalsSequence(trapping: signals)
    self.received = Mutex(nil)
  }

  /// The signal that arrived, if one did.
  public var signal: UnixSignal? { received.withLock { $0 } }

  public func run() async throws {
    for await signal in sequence.cancelOnGracefulShutdown() {
      received.withLock { $0 = signal }
      return
    }
  }
}

/// Ends after `duration` (`xdp-block run --duration`), or earlier at graceful shutdown or
/// cancellation; configured to, its end shuts the group down.
public struct DeadlineService: Service {
  /// How long to run.
  public let duration: Duration

  /// A service that ends after `duration`.
  public init(after duration: Duration) { self.duration = duration }

  public func run() async throws {
    do {
      try await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    } catch is CancellationError {}
  }
}
