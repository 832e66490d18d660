import UnixSignals

/// Ctrl-C and SIGTERM as structured cancellation, for the commands that run until stopped
/// (`demo`, `log`): the work runs in a child task, and the first signal cancels it. The work
/// leaves through its normal clean-up path — detach, delete what it created — and the command
/// exits 0 (or says it was interrupted).
public enum Interruption {
  /// What ``run(trapping:_:)`` ended with.
  public struct Outcome<Value: Sendable>: Sendable {
    /// What the work returned or threw.
    public var result: Result<Value, any Error>
    /// The signal that cancelled the work, or `nil` when it ended by itself.
    public var signal: UnixSignal?
  }

  /// Traps `signals` (their default action is replaced, from before the work starts until
  /// it ended), runs `work`, and cancels it when one of them arrives. Returns when `work` has
  /// returned or thrown.
  ///
  /// The signals are received through swift-service-lifecycle's `UnixSignalsSequence`.
  public static func run<Value: Sendable>(
    trapping signals: [UnixSignal] = [.sigterm, .sigint], _ work: @escaping @Sendable () async throws -> Value
  ) async -> Outcome<Value> {
    let sequence = await UnixSignalsSequence(trapping: signals)
    return await withTaskGroup(of: InterruptionEvent<Value>.self) { group in
      group.addTask {
        do { return .finished(.success(try await work())) } catch { return .finished(.failure(error)) }
      }
      group.addTask {
        for await signal in sequence { return .signal(signal) }
        return .signal(nil)  // cancelled: the work ended first
      }
      var result: Result<Value, any Error>?
      var received: UnixSignal?
      for await event in group {
        switch event {
        case .finished(let outcome):
          result = outcome
          group.cancelAll()
        case .signal(let signal?):
          received = signal
          group.cancelAll()
        case .signal(nil):
          break
        }
      }
      return Outcome(result: result ?? .failure(CancellationError()), signal: received)
    }
  }
}

/// What a child task of ``Interruption/run(trapping:_:)`` ended with.
private enum InterruptionEvent<Value: Sendable>: Sendable {
  case finished(Result<Value, any Error>)
  case signal(UnixSignal?)
}
