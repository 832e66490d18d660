import Glibc
import SystemPackage

/// The system call (or bpf(2) command) an error came from.
public enum SyscallOperation: Sendable, Hashable, CustomStringConvertible {
  /// A bpf(2) command.
  case bpf(BPFCommand)
  /// fcntl(2).
  case fcntl
  /// socket(2), bind(2), sendmsg(2), recvmsg(2) on an rtnetlink socket.
  case netlink(String)
  /// setns(2) / open(2) of a network namespace.
  case setns
  /// open(2) / read(2) of a file the library needs (sysfs, procfs, bpffs).
  case file(String)
  /// setrlimit(2) / getrlimit(2).
  case rlimit
  /// mmap(2) / munmap(2).
  case mmap
  /// epoll_create1(2) / epoll_ctl(2) / epoll_wait(2).
  case epoll
  /// perf_event_open(2) on CPU `cpu`.
  case perfEventOpen(cpu: Int)
  /// ioctl(2) on a perf event (PERF_EVENT_IOC_ENABLE / PERF_EVENT_IOC_DISABLE).
  case perfEventIoctl

  public var description: String {
    switch self {
    case .bpf(let c): return c.description
    case .fcntl: return "fcntl"
    case .netlink(let what): return "netlink \(what)"
    case .setns: return "setns"
    case .file(let path): return "open \(path)"
    case .rlimit: return "setrlimit"
    case .mmap: return "mmap"
    case .epoll: return "epoll"
    case .perfEventOpen(let cpu): return "perf_event_open on CPU \(cpu)"
    case .perfEventIoctl: return "perf event ioctl"
    }
  }
}

/// A failed system call: which operation, and the errno it returned.
public struct SyscallError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The call that failed.
  public var operation: SyscallOperation
  /// The error number, captured immediately after the call.
  public var errno: Errno

  /// Creates an error for `operation` with `errno`.
  public init(operation: SyscallOperation, errno: Errno) {
    self.operation = operation
    self.errno = errno
  }

  /// Creates an error for a bpf(2) `command`.
  public init(command: BPFCommand, errno: Errno) {
    self.init(operation: .bpf(command), errno: errno)
  }

  /// The bpf(2) command, when the failed call was one.
  public var command: BPFCommand? {
    if case .bpf(let c) = operation { return c }
    return nil
  }

  public var description: String {
    "\(operation) failed: \(errno) (errno \(errno.rawValue))"
  }
}

extension Errno {
  /// The calling thread's current errno.
  @inline(__always)
  public static var current: Errno { Errno(rawValue: Glibc.errno) }
}
