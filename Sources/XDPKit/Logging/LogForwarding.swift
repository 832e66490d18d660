import Logging
import XDPKitMaps

/// Why ``LoadedObject/forwardLogs(to:lossReportInterval:)`` could not start.
public enum LogForwardingError: Error, Sendable, CustomStringConvertible {
  /// The object has no log calls (no `.xdpkit.log` section).
  case noLogCalls
  /// A descriptor in `.xdpkit.log` is unusable.
  case descriptor(LogDescriptorError)
  /// The log ring or the loss counter could not be opened (the object was closed, or a map
  /// is missing: the error says which).
  case map(String, any Error)

  public var description: String {
    switch self {
    case .noLogCalls: return "the object has no log calls (xdpkit_log.h): there is no XDPKIT_LOG ring to read"
    case .descriptor(let e): return "\(e)"
    case .map(let name, let e): return "log map \(name): \(e)"
    }
  }
}

/// A running log forwarder, returned by ``LoadedObject/forwardLogs(to:lossReportInterval:)``.
/// It drains the object's log ring on its own task until ``cancel()`` is called; records still
/// in the ring then stay there.
public final class LogForwarding: Sendable {
  private let task: Task<Void, Never>

  init(task: Task<Void, Never>) { self.task = task }

  /// Stops forwarding (after a last report of lost records).
  public func cancel() { task.cancel() }

  /// Waits until forwarding has stopped (after ``cancel()``).
  public func wait() async { await task.value }

  deinit { task.cancel() }
}

extension LoadedObject {
  /// The name of the ring buffer that `xdpkit_log.h` writes records to.
  public static let logRingName = "XDPKIT_LOG"
  /// The name of its per-CPU counter of records lost because the ring was full.
  public static let logLostName = "XDPKIT_LOG_LOST"

  /// Starts forwarding the records of this object's log calls (`xdpkit_info(ctx, …)` and the
  /// others of `Programs/include/xdpkit_log.h`) into `logger`, on a task of its own.
  ///
  /// Each record becomes one message at the record's level (see ``LogRecordForwarder``). The
  /// per-CPU loss counter is read every `lossReportInterval` and once more when forwarding
  /// stops; records lost since the last report are reported as one warning with the count.
  /// Forwarding stops when the returned handle is cancelled or released.
  ///
  /// Which records are written at all is decided in the program, by ``LoadOptions/logLevel``;
  /// `logger`'s own level filters again on this side.
  ///
  /// - Throws: ``LogForwardingError``: the object has no log calls, a descriptor is malformed
  ///   (checked here, for every call, before any record is read), or a map cannot be opened.
  public func forwardLogs(to logger: Logger, lossReportInterval: Duration = .seconds(1))
    throws(LogForwardingError) -> LogForwarding
  {
    let descriptors: LogDescriptorTable
    do { descriptors = try LogDescriptorTable(object: object) } catch { throw .descriptor(error) }
    guard !descriptors.isEmpty else { throw .noLogCalls }
    let ring: RingBuffer
    let lost: PerCPUArray<UInt64>
    do { ring = try ringBuffer(Self.logRingName) } catch { throw .map(Self.logRingName, error) }
    do { lost = try perCPUArray(Self.logLostName, value: UInt64.self) } catch { throw .map(Self.logLostName, error) }
    let forwarder = LogRecordForwarder(descriptors: descriptors, logger: logger)
    let task = Task.detached {
      await withTaskGroup(of: Void.self) { group in
        group.addTask {
          var forwarder = forwarder
          for await record in ring.records() { forwarder.forward(record) }
        }
        group.addTask {
          var reported: UInt64 = 0
          func report() {
            guard let total = try? lost.values(at: 0).reduce(0, &+) else { return }
            forwarder.reportLost(total &- reported, map: Self.logRingName)
            reported = total
          }
          while !Task.isCancelled {
            try? await Task.sleep(for: lossReportInterval)
            report()
          }
        }
        await group.waitForAll()
      }
    }
    return LogForwarding(task: task)
  }
}

extension LoadedObject {
  /// Forwards this object's log records into `logger`, as
  /// ``forwardLogs(to:lossReportInterval:)`` does, for as long as the calling task runs:
  /// returns when the task is cancelled (after the last report of lost records).
  ///
  /// ```swift
  /// let logs = Task { try await loaded.runLogForwarding(to: logger) }
  /// // …
  /// logs.cancel()
  /// ```
  public func runLogForwarding(to logger: Logger, lossReportInterval: Duration = .seconds(1))
    async throws(LogForwardingError)
  {
    let forwarding = try forwardLogs(to: logger, lossReportInterval: lossReportInterval)
    await withTaskCancellationHandler {
      await forwarding.wait()
    } onCancel: {
      forwarding.cancel()
    }
  }
}
