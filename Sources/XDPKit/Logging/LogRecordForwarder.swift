import Logging

/// Turns raw log records into swift-log messages: decodes each with the object's descriptors
/// and emits it at the record's level, with metadata `program` (the function that holds the
/// call), `cpu` and `timestamp` (kernel nanoseconds since boot), source `bpf`.
///
/// A record that does not decode is logged once, as an error that says why
/// (``LogRecordError``), and counted in ``malformedRecords``; the next record is handled as
/// usual. ``LoadedObject/forwardLogs(to:lossReportInterval:)`` feeds one from the log ring; it
/// can also be fed by hand (tests, other transports).
public struct LogRecordForwarder: Sendable {
  /// The descriptors of the object whose records this forwards.
  public let descriptors: LogDescriptorTable
  /// Where messages go.
  public var logger: Logger
  /// Records forwarded as messages.
  public private(set) var forwardedRecords = 0
  /// Records that did not decode, each logged once as an error.
  public private(set) var malformedRecords = 0

  /// A forwarder of records described by `descriptors` into `logger`.
  public init(descriptors: LogDescriptorTable, logger: Logger) {
    self.descriptors = descriptors
    self.logger = logger
  }

  /// Decodes `bytes` (one record, as the ring holds it) and logs it; a malformed record is
  /// logged as an error instead. Returns the error, if any.
  @discardableResult
  public mutating func forward(_ bytes: UnsafeRawBufferPointer) -> LogRecordError? {
    do {
      let record = try LogRecord(decoding: bytes, descriptors: descriptors)
      forwardedRecords += 1
      let level = record.level.loggerLevel
      guard logger.logLevel <= level else { return nil }
      logger.log(
        level: level, "\(record.message)",
        metadata: [
          "program": .string(record.descriptor.function ?? "?"),
          "cpu": .string(String(record.cpu)),
          "timestamp": .string(String(record.kernelTimestamp)),
        ],
        source: "bpf")
      return nil
    } catch {
      malformedRecords += 1
      logger.error("BPF log record dropped: \(error)", metadata: ["record_bytes": "\(bytes.count)"], source: "bpf")
      return error
    }
  }

  /// Decodes and logs a record held in an array.
  @discardableResult
  public mutating func forward(_ bytes: [UInt8]) -> LogRecordError? {
    bytes.withUnsafeBytes { forward($0) }
  }

  /// Logs a warning that `count` records were lost because the ring was full (nothing when
  /// `count` is 0).
  public func reportLost(_ count: UInt64, map: String) {
    guard count > 0 else { return }
    logger.warning(
      "\(count) BPF log record(s) lost: the log ring \(map) was full",
      metadata: ["lost": "\(count)"], source: "bpf")
  }
}
