import Logging

/// The level of a log call in a BPF program (`xdpkit_error` … `xdpkit_trace` of
/// `Programs/include/xdpkit_log.h`), and the filter a program is loaded with.
///
/// The raw values are those of the header's `XDPKIT_LOG_LEVEL_*`: a call is logged when its
/// level is at most the program's `xdpkit_log_level` (set with ``LoadOptions/logLevel``).
public enum ProgramLogLevel: UInt8, Sendable, Comparable, CaseIterable, CustomStringConvertible {
  /// `xdpkit_error`.
  case error = 1
  /// `xdpkit_warn`.
  case warning = 2
  /// `xdpkit_info`.
  case info = 3
  /// `xdpkit_debug`.
  case debug = 4
  /// `xdpkit_trace`.
  case trace = 5

  /// The program filter that lets through what a swift-log logger at `level` would print:
  /// `.notice` logs what `.info` logs, `.critical` what `.error` logs.
  public init(_ level: Logger.Level) {
    switch level {
    case .trace: self = .trace
    case .debug: self = .debug
    case .info, .notice: self = .info
    case .warning: self = .warning
    case .error, .critical: self = .error
    }
  }

  /// The swift-log level a record of this level is emitted at.
  public var loggerLevel: Logger.Level {
    switch self {
    case .error: return .error
    case .warning: return .warning
    case .info: return .info
    case .debug: return .debug
    case .trace: return .trace
    }
  }

  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

  public var description: String { "\(loggerLevel)" }
}
