import Logging
import Synchronization

/// A swift-log handler that keeps every message, for tests to assert on.
public final class CapturedLogs: Sendable {
  public struct Entry: Sendable, Equatable {
    public var level: Logger.Level
    public var message: String
    public var metadata: [String: String]
    public var source: String
  }

  private let entries = Mutex<[Entry]>([])

  /// An empty log.
  public init() {}

  /// Everything logged so far.
  public var all: [Entry] { entries.withLock { $0 } }

  /// A logger at `level` whose messages land here.
  public func logger(level: Logger.Level = .trace) -> Logger {
    var logger = Logger(label: "test") { _ in Handler(logs: self) }
    logger.logLevel = level
    return logger
  }

  fileprivate func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }

  /// Waits (bounded) until at least `count` messages satisfy `predicate`. The bound is long
  /// because the whole suite, run in parallel on two cores, can keep the forwarding task from
  /// a thread for most of a minute (observed: 58 s); it returns as soon as the messages are in.
  public func wait(for count: Int, timeout: Duration = .seconds(120), where predicate: (Entry) -> Bool = { _ in true }) async -> [Entry] {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
      let matching = all.filter(predicate)
      if matching.count >= count { return matching }
      try? await Task.sleep(for: .milliseconds(10))
    }
    return all.filter(predicate)
  }

  private struct Handler: LogHandler {
    let logs: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
      get { metadata[key] }
      set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
      var flat: [String: String] = [:]
      for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { flat[key] = "\(value)" }
      logs.append(Entry(level: event.level, message: "\(event.message)", metadata: flat, source: event.source))
    }
  }
}
