import Dispatch
import Glibc
import Synchronization
import XDPKitSys

/// One line of the kernel's trace pipe, as `bpf_printk` (`bpf_trace_printk`) writes it:
/// `  <task>-<pid>  [<cpu>] <flags> <seconds>: bpf_trace_printk: <message>`.
public struct TracePipeLine: Sendable, Equatable {
  /// The whole line, without its newline.
  public var text: String
  /// What the program printed: the text after `bpf_trace_printk: `; `nil` for lines of other
  /// trace events.
  public var message: String?

  /// Splits `text` into the line and its `bpf_printk` message.
  public init(_ text: String) {
    self.text = text
    let marker = Array("bpf_trace_printk: ".utf8)
    let bytes = Array(text.utf8)
    message = nil
    guard bytes.count >= marker.count else { return }
    for start in 0...(bytes.count - marker.count) where bytes[start..<(start + marker.count)].elementsEqual(marker) {
      message = String(decoding: bytes[(start + marker.count)...], as: UTF8.self)
      break
    }
  }
}

/// Why the trace pipe cannot be read.
public enum TracePipeError: Error, Sendable, Equatable, CustomStringConvertible {
  /// Neither tracefs location has a `trace_pipe`.
  case notMounted(searched: [String])
  /// open(2) of the trace pipe failed (EACCES/EPERM without root or under lockdown).
  case open(path: String, SyscallError)

  public var description: String {
    switch self {
    case .notMounted(let searched):
      return "no trace_pipe in \(searched.joined(separator: " or ")): tracefs is not mounted (mount -t tracefs nodev /sys/kernel/tracing)"
    case .open(let path, let error): return "\(path): \(error)"
    }
  }
}

/// The kernel's trace pipe, where `bpf_printk` output goes: for quick debugging only.
///
/// It is **global**: every program on the machine that calls `bpf_printk`, and every other
/// trace event enabled on the system, writes into the same pipe, and a line read here is gone
/// for every other reader (`bpftool prog tracelog`, `cat trace_pipe`). It is **slow**: each
/// `bpf_printk` formats its text in the kernel (in Benchmarks.md, about 6 times the cost of an
/// `xdpkit_info` record), and the kernel prints a warning banner to the
/// system log when a program that uses it is loaded. For logs an application keeps, use
/// `xdpkit_log.h` and ``LoadedObject/forwardLogs(to:lossReportInterval:)``.
public enum TracePipe {
  /// Where tracefs is looked for, in order: its own mount point, then inside debugfs.
  public static let directories = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]

  /// The path of the trace pipe in the first mounted location.
  public static func path() throws(TracePipeError) -> String {
    for directory in directories where access(directory + "/trace_pipe", F_OK) == 0 {
      return directory + "/trace_pipe"
    }
    throw .notMounted(searched: directories)
  }

  /// The lines of the trace pipe as they arrive, read on a Dispatch queue of their own; the sequence
  /// ends when the iterating task stops iterating (cancellation), within 100 ms, and the pipe
  /// is closed then.
  ///
  /// - Throws: ``TracePipeError`` if tracefs is not mounted or the pipe cannot be opened.
  public static func lines() throws(TracePipeError) -> AsyncStream<TracePipeLine> {
    let path = try path()
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else { throw .open(path: path, SyscallError(operation: .file(path), errno: .current)) }
    let descriptor = BPFFileDescriptor(adopting: fd)
    let (stream, continuation) = AsyncStream.makeStream(of: TracePipeLine.self)
    let stopped = StopFlag()
    continuation.onTermination = { _ in stopped.flag.store(true, ordering: .relaxed) }
    // A queue of its own: the reader blocks in poll(2), never on a cooperative thread.
    DispatchQueue(label: "XDPKit.TracePipe").async {
      var pending: [UInt8] = []
      var buffer = [UInt8](repeating: 0, count: 8192)
      while !stopped.flag.load(ordering: .relaxed) {
        var poller = pollfd(fd: descriptor.rawValue, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 100) > 0 else { continue }
        let count = buffer.withUnsafeMutableBytes { read(descriptor.rawValue, $0.baseAddress, $0.count) }
        if count < 0 && (errno == EAGAIN || errno == EINTR) { continue }
        if count <= 0 { break }
        pending += buffer[0..<count]
        while let newline = pending.firstIndex(of: 0x0a) {
          continuation.yield(TracePipeLine(String(decoding: pending[..<newline], as: UTF8.self)))
          pending.removeSubrange(...newline)
        }
      }
      continuation.finish()
      withExtendedLifetime(descriptor) {}
    }
    return stream
  }
}

/// Set when the consumer of ``TracePipe/lines()`` goes away.
private final class StopFlag: Sendable {
  let flag = Atomic(false)
}
