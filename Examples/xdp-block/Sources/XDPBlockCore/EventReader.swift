import XDPKit

/// Reads drop events (records shorter than a `struct drop_event` are skipped) from an EVENTS
/// ring buffer — the loaded firewall's, or the one pinned by
/// `xdp-block attach --log-events`.
public enum EventReader {
  /// Hands every drop event to `onEvent` as it arrives, until `duration` has passed (forever
  /// when `nil`) or `shouldStop` answers true (checked at least every 100 ms). Returns the
  /// number of events read.
  @discardableResult
  public static func follow(
    _ ring: RingBuffer, duration: Duration?, shouldStop: () -> Bool, onEvent: (DropEvent) -> Void
  ) throws(XDPBlockError) -> Int {
    let clock = ContinuousClock()
    let end = duration.map { clock.now.advanced(by: $0) }
    var count = 0
    while !shouldStop() {
      var wait = Duration.milliseconds(100)
      if let end {
        let left = clock.now.duration(to: end)
        if left <= .zero { break }
        wait = min(wait, left)
      }
      do {
        count += try ring.poll(as: DropEvent.self, timeout: wait, onEvent).decoded
      } catch {
        throw .map(operation: "read drop events", error)
      }
    }
    return count
  }

  /// Hands every drop event to `onEvent` as it arrives, until `duration` has passed (forever
  /// when `nil`) or the calling task is cancelled. Waits off the cooperative pool
  /// (``RingBuffer/records()``). Returns the number of events read.
  @discardableResult
  public static func follow(
    _ ring: RingBuffer, duration: Duration?, onEvent: @escaping @Sendable (DropEvent) -> Void
  ) async -> Int {
    await withTaskGroup(of: Int?.self) { group in
      group.addTask {
        var count = 0
        for await record in ring.records() {
          guard let event = DropEvent(bytes: record) else { continue }
          onEvent(event)
          count += 1
        }
        return count
      }
      if let duration {
        group.addTask {
          try? await Task.sleep(for: duration)
          return nil
        }
      }
      var count = 0
      for await result in group {
        if let result { count = result } else { group.cancelAll() }
      }
      return count
    }
  }
}
