import Foundation
import Glibc
import Logging

/// A swift-log handler that writes `[2025-01-01T12:00:00Z INFO  xdp_block] message` lines,
/// the shape env_logger gives the Rust seeds: drop events go to standard output, notices and
/// warnings to standard error.
struct ConsoleLogHandler: LogHandler {
  var label: String
  var logLevel: Logger.Level = .info
  var metadata: Logger.Metadata = [:]
  var toStandardError: Bool

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    let time = ISO8601DateFormatter().string(from: Date())
    var levelName = event.level.rawValue.uppercased()
    while levelName.count < 5 { levelName += " " }
    let line = "[\(time) \(levelName) \(label)] \(event.message)\n"
    if toStandardError {
      FileHandle.standardError.write(Data(line.utf8))
    } else {
      FileHandle.standardOutput.write(Data(line.utf8))
    }
  }
}

enum ConsoleLog {
  /// The logger for drop events (`--log`): info and up, to standard output.
  static func events() -> Logger {
    Logger(label: "xdp_block") { label in ConsoleLogHandler(label: label, toStandardError: false) }
  }

  /// The logger for the library's notices (auto mode falling back to generic, …): notice and
  /// up, to standard error.
  static func notices() -> Logger {
    var logger = Logger(label: "xdp_block") { label in ConsoleLogHandler(label: label, toStandardError: true) }
    logger.logLevel = .notice
    return logger
  }
}
