import Foundation
import Glibc
import Synchronization

/// A tool started in the background (usually through `ip netns exec`, which execs in place so
/// that the pid is the tool's), with its standard output and error collected as they arrive.
/// Killed with SIGKILL, by its own pid, if still running when ``stop()`` runs.
public final class BackgroundProcess: Sendable {
  private let process: Process
  private let output = TextBuffer()
  private let errors = TextBuffer()

  /// Starts `executable` with `arguments`.
  public init(_ executable: String, _ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    self.process = process
    try process.run()
    Self.collect(out.fileHandleForReading, into: output)
    Self.collect(err.fileHandleForReading, into: errors)
  }

  private static func collect(_ handle: FileHandle, into buffer: TextBuffer) {
    let thread = Thread {
      while true {
        let data = handle.availableData
        if data.isEmpty { return }
        buffer.text.withLock { $0 += String(decoding: data, as: UTF8.self) }
      }
    }
    thread.start()
  }

  /// Standard output so far.
  public var standardOutput: String { output.text.withLock { $0 } }
  /// Standard error so far.
  public var standardError: String { errors.text.withLock { $0 } }
  /// Whether the process still runs.
  public var isRunning: Bool { process.isRunning }
  /// The pid.
  public var pid: Int32 { process.processIdentifier }

  /// Waits (bounded) until standard output contains `text`; returns whether it does.
  @discardableResult
  public func waitForOutput(containing text: String, timeout: Duration = .seconds(30)) -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: TestTimeouts.scaled(timeout))
    while clock.now < deadline {
      if standardOutput.contains(text) { return true }
      if !process.isRunning { return standardOutput.contains(text) }
      usleep(20_000)
    }
    return standardOutput.contains(text)
  }

  /// Sends `signal` to the process (only this one, by pid).
  public func send(_ signal: Int32) {
    if process.isRunning { kill(process.processIdentifier, signal) }
  }

  /// Waits (bounded) for the process to exit; returns its status, or `nil` if it still runs.
  public func waitForExit(timeout: Duration = .seconds(30)) -> Int32? {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: TestTimeouts.scaled(timeout))
    while process.isRunning && clock.now < deadline { usleep(20_000) }
    if process.isRunning { return nil }
    usleep(50_000)  // let the collectors read the last bytes
    return process.terminationStatus
  }

  /// Kills the process if it still runs and waits for it.
  public func stop() {
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
  }

  deinit { stop() }
}

/// Text appended by a reader thread and read by the test.
private final class TextBuffer: Sendable {
  let text = Mutex("")
}
