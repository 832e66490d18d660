import CXDPKit
import SystemPackage

/// The `log_level` of BPF_PROG_LOAD (`btf_log_level` of BPF_BTF_LOAD).
///
/// The values are the kernel's BPF_LOG_LEVEL1, BPF_LOG_LEVEL2 and BPF_LOG_STATS, which the
/// uapi headers do not export.
public struct BPFLogLevel: OptionSet, Hashable, Sendable {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  /// BPF_LOG_LEVEL1: the instructions and registers on the path that failed.
  public static let basic = Self(rawValue: 1)
  /// BPF_LOG_LEVEL2: every instruction the verifier visits (large).
  public static let verbose = Self(rawValue: 2)
  /// BPF_LOG_STATS: verification statistics at the end.
  public static let statistics = Self(rawValue: 4)
}

/// A caller-owned buffer for the verifier's (or the BTF checker's) log, and how much to log.
///
/// The kernel requires a non-empty level, and a buffer of at least 128 bytes, whenever a
/// buffer is given. The log it writes is NUL-terminated.
public struct BPFLogBuffer {
  /// How much to log.
  public var level: BPFLogLevel
  /// Where the kernel writes the log; valid for the duration of the call.
  public var buffer: UnsafeMutableRawBufferPointer

  public init(level: BPFLogLevel, buffer: UnsafeMutableRawBufferPointer) {
    self.level = level
    self.buffer = buffer
  }
}

/// The outcome of one BPF_PROG_LOAD or BPF_BTF_LOAD.
public struct BPFLoadAttempt: Sendable {
  /// The new object, or the failure.
  public var result: Result<BPFFileDescriptor, SyscallError>
  /// The number of bytes the whole log needs, its terminating NUL included (the kernel's
  /// `log_true_size`, reported since Linux 6.4); `nil` when no log was requested or the
  /// kernel did not report it.
  public var logTrueSize: Int?

  public init(result: Result<BPFFileDescriptor, SyscallError>, logTrueSize: Int?) {
    self.result = result
    self.logTrueSize = logTrueSize
  }
}

/// A program the kernel refused, with what the verifier said about it.
public struct ProgramLoadError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The failed BPF_PROG_LOAD.
  public var syscall: SyscallError
  /// The whole verifier log of the failed attempt (empty if the kernel wrote none, for
  /// example when it rejected the attributes before verifying).
  public var verifierLog: String
  /// Whether the log did not fit even into the largest buffer tried
  /// (``BPF/maximumLogBufferSize``); the log then holds its end on Linux 6.4 and later, its
  /// beginning before.
  public var isLogTruncated: Bool

  public init(syscall: SyscallError, verifierLog: String, isLogTruncated: Bool = false) {
    self.syscall = syscall
    self.verifierLog = verifierLog
    self.isLogTruncated = isLogTruncated
  }

  /// Why the verifier refused, in its own words: the lines the log ends with after the last
  /// instruction it printed, without the statistics lines ("processed N insns …",
  /// "verification time …", "stack depth …"). For the usual rejection that is one or two lines
  /// such as "invalid access to packet, off=0 size=1, R1(id=0,off=0,r=0)" and "R1 offset is
  /// outside of the packet", joined with "; ". `nil` when the log is empty or holds nothing
  /// but instructions and statistics.
  public var verifierReason: String? {
    var reason: [Substring] = []
    for line in verifierLog.split(separator: "\n", omittingEmptySubsequences: true).reversed() {
      let text = line.trimmingWhitespace
      if text.isEmpty || Self.isStatisticsLine(text) {
        if reason.isEmpty { continue } else { break }
      }
      if Self.isInstructionLine(text) || reason.count == 3 { break }
      reason.append(text)
    }
    return reason.isEmpty ? nil : reason.reversed().joined(separator: "; ")
  }

  /// Lines the verifier ends every log with, whatever the outcome.
  static func isStatisticsLine(_ line: Substring) -> Bool {
    line.hasPrefix("processed ") || line.hasPrefix("verification time ") || line.hasPrefix("stack depth ")
      || line.hasPrefix("max_states_per_insn ")
  }

  /// A line that shows an instruction or the register state at one ("12: (61) r1 = …",
  /// "0: R1=ctx() R10=fp0"), or a source line ("; return …").
  static func isInstructionLine(_ line: Substring) -> Bool {
    if line.hasPrefix(";") { return true }
    let digits = line.prefix { $0.isASCII && $0.isNumber }
    return !digits.isEmpty && line.dropFirst(digits.count).hasPrefix(":")
  }

  /// "the verifier rejected the program: REASON (BPF_PROG_LOAD failed: …)" and the log, or,
  /// without a reason in the log, the failed call and the log.
  public var description: String {
    guard let reason = verifierReason else {
      return logDescription(syscall, log: verifierLog, truncated: isLogTruncated, what: "verifier log")
    }
    return "the verifier rejected the program: \(reason) (\(syscall))\n"
      + "verifier log\(isLogTruncated ? " (truncated)" : ""):\n\(verifierLog)"
  }
}

extension Substring {
  fileprivate var trimmingWhitespace: Substring {
    var text = self
    while let first = text.first, first == " " || first == "\t" || first == "\r" { text = text.dropFirst() }
    while let last = text.last, last == " " || last == "\t" || last == "\r" { text = text.dropLast() }
    return text
  }
}

/// BTF the kernel refused, with what its BTF checker said about it.
public struct BTFLoadError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The failed BPF_BTF_LOAD.
  public var syscall: SyscallError
  /// The whole log of the failed attempt.
  public var log: String
  /// Whether the log did not fit even into the largest buffer tried.
  public var isLogTruncated: Bool

  public init(syscall: SyscallError, log: String, isLogTruncated: Bool = false) {
    self.syscall = syscall
    self.log = log
    self.isLogTruncated = isLogTruncated
  }

  public var description: String {
    logDescription(syscall, log: log, truncated: isLogTruncated, what: "BTF log")
  }
}

private func logDescription(
  _ error: SyscallError, log: String, truncated: Bool, what: String
) -> String {
  if log.isEmpty { return "\(error)" }
  return "\(error)\n\(what)\(truncated ? " (truncated)" : ""):\n\(log)"
}

extension BPF {
  /// The buffer size of the first attempt with a log: 64 KiB.
  public static let initialLogBufferSize = 64 * 1024
  /// The largest log buffer tried: 16 MiB.
  public static let maximumLogBufferSize = 16 * 1024 * 1024

  /// Loads a program; if the kernel refuses it, loads it again with a verifier log and throws
  /// the log with the error.
  ///
  /// The policy: the first attempt has no log (verification is faster without one). If it
  /// fails, the program is loaded again with `logLevel` (``BPFLogLevel/basic`` when empty)
  /// into a 64 KiB buffer; while the kernel answers `ENOSPC` (the log did not fit) the
  /// attempt is repeated with a buffer of the size the kernel reported (`log_true_size`,
  /// Linux 6.4 and later) or four times as large, up to 16 MiB. The whole log of the last
  /// attempt is kept; when even 16 MiB does not hold it, the error is the first attempt's
  /// (E2BIG for a program too large, not the log's ENOSPC) and the log is marked truncated.
  /// Should a logged attempt succeed, its program is returned.
  ///
  /// The corresponding bpf(2) command is BPF_PROG_LOAD.
  public static func loadProgramCapturingLog(
    _ attributes: ProgramLoadAttributes, logLevel: BPFLogLevel = .basic
  ) throws(ProgramLoadError) -> BPFFileDescriptor {
    switch captureLog(level: logLevel, { log in loadProgram(attributes, log: log) }) {
    case .success(let fd): return fd
    case .failure(let failure):
      throw ProgramLoadError(
        syscall: failure.error, verifierLog: failure.log, isLogTruncated: failure.truncated)
    }
  }

  struct LoggedFailure: Error {
    var error: SyscallError
    var log: String
    var truncated: Bool
  }

  /// The log-capture policy shared by programs and BTF; `attempt` issues one load.
  static func captureLog(
    level: BPFLogLevel, _ attempt: (BPFLogBuffer?) -> BPFLoadAttempt
  ) -> Result<BPFFileDescriptor, LoggedFailure> {
    // Why the load failed, from the attempt without a log: a log that does not fit even the
    // largest buffer (ENOSPC) must not hide it (E2BIG for a program too large, say).
    let unlogged: SyscallError
    switch attempt(nil).result {
    case .success(let fd): return .success(fd)
    case .failure(let error): unlogged = error
    }

    let level: BPFLogLevel = level.isEmpty ? .basic : level
    var size = initialLogBufferSize
    while true {
      let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
      defer { buffer.deallocate() }
      buffer.initializeMemory(as: UInt8.self, repeating: 0)
      let logged = attempt(BPFLogBuffer(level: level, buffer: buffer))
      switch logged.result {
      case .success(let fd):
        return .success(fd)
      case .failure(let error):
        let noSpace = error.errno == .noSpace
        if noSpace && size < maximumLogBufferSize {
          let needed = logged.logTrueSize ?? 0
          size = min(maximumLogBufferSize, needed > size ? needed : size * 4)
          continue
        }
        return .failure(
          LoggedFailure(
            error: noSpace ? unlogged : error, log: decodeCString(UnsafeRawBufferPointer(buffer)), truncated: noSpace))
      }
    }
  }
}
