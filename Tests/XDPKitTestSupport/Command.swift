import Foundation
import SystemPackage

/// What a finished command printed and how it exited.
public struct CommandResult: Sendable, Hashable {
  /// The executable and its arguments, for messages.
  public var command: [String]
  /// The exit status, or 128 + signal number if it was killed.
  public var status: Int32
  /// Everything it wrote to standard output.
  public var standardOutput: String
  /// Everything it wrote to standard error.
  public var standardError: String

  /// Whether it exited with status 0.
  public var succeeded: Bool { status == 0 }
}

/// Failures of the test-support helpers themselves (not of the code under test).
public enum TestSupportError: Error, Sendable, CustomStringConvertible {
  /// A required tool is not installed in any of the searched places.
  case toolNotFound(String, searched: [String])
  /// A command exited with a non-zero status.
  case commandFailed(CommandResult)
  /// A command ran longer than its time limit and was terminated.
  case commandTimedOut(command: [String], seconds: Double)
  /// A string is neither an IPv4 nor an IPv6 address.
  case invalidAddress(String)
  /// A socket call of a traffic helper failed.
  case socket(call: String, errno: Errno)
  /// A count is outside what the helper allows.
  case invalidCount(Int, limit: Int)
  /// Waiting for a condition ran out of time.
  case timedOut(String)

  public var description: String {
    switch self {
    case .toolNotFound(let tool, let searched):
      return "\(tool) not found (looked in \(searched.joined(separator: ", ")))"
    case .commandFailed(let result):
      let stderr = result.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
      return "`\(result.command.joined(separator: " "))` exited with \(result.status): \(stderr)"
    case .commandTimedOut(let command, let seconds):
      return "`\(command.joined(separator: " "))` did not finish within \(seconds) s"
    case .invalidAddress(let text): return "not an IPv4 or IPv6 address: \(text)"
    case .socket(let call, let errno): return "\(call) failed: \(errno)"
    case .invalidCount(let count, let limit): return "count \(count) is not in 0...\(limit)"
    case .timedOut(let what): return "timed out waiting for \(what)"
    }
  }
}

/// Runs external tools (ip, mount) with a time limit.
public enum Command {
  /// The first existing executable among `candidates`.
  public static func locate(_ tool: String, candidates: [String]) throws -> String {
    for path in candidates where FileManager.default.isExecutableFile(atPath: path) {
      return path
    }
    throw TestSupportError.toolNotFound(tool, searched: candidates)
  }

  /// The iproute2 `ip` binary.
  public static func ipPath() throws -> String {
    try locate("ip", candidates: ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"])
  }

  /// Runs `executable` with `arguments`, waiting at most `timeout`; a command still running
  /// then is sent SIGTERM (it is our own child, by its pid) and the call throws.
  ///
  /// Output goes to temporary files rather than pipes, so a chatty command cannot block on a
  /// full pipe. A non-zero exit status is returned, not thrown; see ``CommandResult/succeeded``.
  public static func run(
    _ executable: String, _ arguments: [String], timeout: Duration = .seconds(30)
  ) throws -> CommandResult {
    let command = [executable] + arguments
    let directory = FileManager.default.temporaryDirectory
    let token = UUID().uuidString
    let outURL = directory.appendingPathComponent("xdpkit-cmd-\(token).out")
    let errURL = directory.appendingPathComponent("xdpkit-cmd-\(token).err")
    for url in [outURL, errURL] where !FileManager.default.createFile(atPath: url.path, contents: nil) {
      throw TestSupportError.socket(call: "create \(url.path)", errno: .current)
    }
    defer {
      try? FileManager.default.removeItem(at: outURL)
      try? FileManager.default.removeItem(at: errURL)
    }
    let outHandle = try FileHandle(forWritingTo: outURL)
    let errHandle = try FileHandle(forWritingTo: errURL)
    defer {
      try? outHandle.close()
      try? errHandle.close()
    }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = outHandle
    process.standardError = errHandle
    try process.run()

    let timeout = TestTimeouts.scaled(timeout)
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    var timedOut = false
    while process.isRunning {
      if clock.now >= deadline {
        timedOut = true
        process.terminate()
        break
      }
      usleep(1_000)
    }
    process.waitUntilExit()
    if timedOut {
      let seconds = Double(timeout.components.seconds)
        + Double(timeout.components.attoseconds) / 1e18
      throw TestSupportError.commandTimedOut(command: command, seconds: seconds)
    }
    let output = (try? Data(contentsOf: outURL)) ?? Data()
    let errors = (try? Data(contentsOf: errURL)) ?? Data()
    let status = process.terminationReason == .uncaughtSignal
      ? 128 + process.terminationStatus : process.terminationStatus
    return CommandResult(
      command: command, status: status,
      standardOutput: String(decoding: output, as: UTF8.self),
      standardError: String(decoding: errors, as: UTF8.self))
  }

  /// Runs the command and throws ``TestSupportError/commandFailed(_:)`` unless it exits 0.
  @discardableResult
  public static func check(
    _ executable: String, _ arguments: [String], timeout: Duration = .seconds(30)
  ) throws -> CommandResult {
    let result = try run(executable, arguments, timeout: timeout)
    guard result.succeeded else { throw TestSupportError.commandFailed(result) }
    return result
  }
}
