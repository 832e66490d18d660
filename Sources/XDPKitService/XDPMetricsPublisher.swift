import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Publishes values read from BPF maps as swift-metrics metrics, on an interval: a small
/// bridge from kernel counters to whatever metrics backend the process bootstrapped
/// (swift-prometheus, for example).
///
/// Register what to read, then run it as a `Service` (or call ``publish()`` yourself):
///
/// ```swift
/// let metrics = XDPMetricsPublisher(interval: .seconds(5), logger: logger)
/// metrics.counter("xdp_packets_total", dimensions: [("action", "drop")]) {
///   try loaded.stats.sum(at: 1).packets
/// }
/// metrics.gauge("xdp_blocklist_entries") { Double(try loaded.blocklist.count) }
/// metrics.topEntries("xdp_blocked_hits", dimension: "source", limit: 10) {
///   try loaded.blocklist.map { ("\(IPv4Address($0.key))", Double($0.value)) }
/// }
/// ```
///
/// - A counter's reading is the kernel's running total; the metric is incremented by the
///   difference to the previous reading (by the whole value the first time, and after the
///   total went down, which means the map was recreated).
/// - A gauge is set to its reading.
/// - ``topEntries(_:dimension:limit:reading:)`` keeps cardinality bounded: one gauge per entry
///   among the `limit` largest; an entry that leaves them has its gauge destroyed.
/// - A reading that throws is logged (once until it succeeds again) and skipped; the others are
///   published.
public final class XDPMetricsPublisher: Service, Sendable {
  private enum Source: Sendable {
    case counter(Counter, read: @Sendable () throws -> UInt64)
    case gauge(Gauge, read: @Sendable () throws -> Double)
    case top(label: String, dimension: String, limit: Int, read: @Sendable () throws -> [(String, Double)])
  }

  private struct Entry: Sendable {
    var source: Source
    var label: String
    var lastCounterValue: UInt64?
    var failing = false
    var topGauges: [String: Gauge] = [:]
  }

  /// Time between two publications.
  public let interval: Duration
  private let factory: any MetricsFactory
  private let logger: Logger?
  private let entries = Mutex<[Entry]>([])

  /// A publisher that publishes every `interval` into `factory` (by default the bootstrapped
  /// `MetricsSystem`), logging failed readings to `logger`.
  public init(interval: Duration = .seconds(5), factory: any MetricsFactory = MetricsSystem.factory,
              logger: Logger? = nil) {
    self.interval = interval
    self.factory = factory
    self.logger = logger
  }

  /// Publishes `reading`, a running total such as a per-CPU packet count summed over CPUs, as
  /// the counter `label`.
  public func counter(_ label: String, dimensions: [(String, String)] = [],
                      reading: @escaping @Sendable () throws -> UInt64) {
    let counter = Counter(label: label, dimensions: dimensions, factory: factory)
    entries.withLock { $0.append(Entry(source: .counter(counter, read: reading), label: label)) }
  }

  /// Publishes `reading`, a current value such as a map's entry count, as the gauge `label`.
  public func gauge(_ label: String, dimensions: [(String, String)] = [],
                    reading: @escaping @Sendable () throws -> Double) {
    let gauge = Gauge(label: label, dimensions: dimensions, factory: factory)
    entries.withLock { $0.append(Entry(source: .gauge(gauge, read: reading), label: label)) }
  }

  /// Publishes the `limit` largest values of `reading` (pairs of an entry's name and its
  /// value, such as a blocked address and its hits) as gauges `label` with the entry's name
  /// in the dimension `dimension`. Ties are broken by name, so the choice is stable.
  public func topEntries(_ label: String, dimension: String, limit: Int,
                         reading: @escaping @Sendable () throws -> [(String, Double)]) {
    entries.withLock {
      $0.append(Entry(source: .top(label: label, dimension: dimension, limit: max(0, limit), read: reading),
                      label: label))
    }
  }

  /// Reads every registered value once and publishes it.
  public func publish() {
    entries.withLock { entries in
      for index in entries.indices {
        do {
          try publish(&entries[index])
          if entries[index].failing {
            entries[index].failing = false
            logger?.info("metrics: \(entries[index].label) can be read again")
          }
        } catch {
          if !entries[index].failing {
            entries[index].failing = true
            logger?.warning("metrics: reading \(entries[index].label) failed: \(error); skipped until it works")
          }
        }
      }
    }
  }

  private func publish(_ entry: inout Entry) throws {
    switch entry.source {
    case .counter(let counter, let read):
      let value = try read()
      let previous = entry.lastCounterValue ?? 0
      let increment = value >= previous ? value - previous : value
      if increment > 0 { counter.increment(by: Int64(clamping: increment)) }
      entry.lastCounterValue = value
    case .gauge(let gauge, let read):
      gauge.record(try read())
    case .top(let label, let dimension, let limit, let read):
      let top = try read()
        .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        .prefix(limit)
      let kept = Set(top.map(\.0))
      for (name, gauge) in entry.topGauges where !kept.contains(name) {
        gauge.destroy()
        entry.topGauges[name] = nil
      }
      for (name, value) in top {
        let gauge = entry.topGauges[name]
          ?? Gauge(label: label, dimensions: [(dimension, name)], factory: factory)
        entry.topGauges[name] = gauge
        gauge.record(value)
      }
    }
  }

  /// Publishes every ``interval`` until graceful shutdown or cancellation, and once more at
  /// the end, so that the last counts reach the backend.
  public func run() async throws {
    publish()
    do {
      try await cancelWhenGracefulShutdown {
        while true {
          try await Task.sleep(for: self.interval)
          self.publish()
        }
      }
    } catch is CancellationError {}
    publish()
  }
}
