import Logging
import XDPKitToolSupport

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
