import Dispatch
import Synchronization

/// Runs `body` on Swift's cooperative pool and blocks the calling thread — a synchronous
/// command's `run()` — until it has returned; returns what it returned.
///
/// The bridge from a `ParsableCommand` to async work such as a swift-service-lifecycle
/// `ServiceGroup`: the calling thread only waits, every task runs on the pool.
public func runBlocking<Value: Sendable>(_ body: @escaping @Sendable () async -> Value) -> Value {
  let finished = DispatchSemaphore(value: 0)
  let result = Mutex<Value?>(nil)
  Task {
    let value = await body()
    result.withLock { $0 = value }
    finished.signal()
  }
  finished.wait()
  return result.withLock { $0! }
}

/// ``runBlocking(_:)`` for a body that throws: returns its value or rethrows its error.
public func runBlocking<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) throws -> Value {
  try runBlocking { () async -> Result<Value, any Error> in
    do { return .success(try await body()) } catch { return .failure(error) }
  }.get()
}
