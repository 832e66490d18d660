import ArgumentParser
import Foundation
import Logging

/// A swift-log handler that writes `[2025-01-01T12:00:00Z INFO  label] message` lines, the
/// shape env_logger gives the Rust tools. A message forwarded from a BPF program (source
/// `bpf`) is labelled with the program's function name, as aya-log does.
public struct ConsoleLogHandler: LogHandler {
  /// The label of messages that do not come from a BPF program.
  public var label: String
  public var logLevel: Logger.Level = .info
  public var metadata: Logger.Metadata = [:]
  /// Whether lines go to standard error (else standard output).
  public var toStandardError: Bool

  /// A handler writing lines labelled `label`.
  public init(label: String, toStandardError: Bool) {
    self.label = label
    self.toStandardError = toStandardError
  }

  public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  public func log(event: LogEvent) {
    let time = ISO8601DateFormatter().string(from: Date())
    var levelName = event.level.rawValue.uppercased()
    while levelName.count < 5 { levelName += " " }
    var name = label
    if event.source == "bpf", let program = event.metadata?["program"] { name = "\(program)" }
    let line = "[\(time) \(levelName) \(name)] \(event.message)\n"
    if toStandardError {
      FileHandle.standardError.write(Data(line.utf8))
    } else {
      FileHandle.standardOutput.write(Data(line.utf8))
    }
  }
}

extension Logger {
  /// A logger at `level` writing ``ConsoleLogHandler`` lines labelled `label`.
  public static func console(label: String, level: Logger.Level, toStandardError: Bool = false) -> Logger {
    var logger = Logger(label: label) { label in ConsoleLogHandler(label: label, toStandardError: toStandardError) }
    logger.logLevel = level
    return logger
  }
}

/// `--log-level trace|debug|info|notice|warning|error|critical`.
extension Logger.Level: @retroactive ExpressibleByArgument {}
