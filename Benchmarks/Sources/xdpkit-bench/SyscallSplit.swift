import Glibc

/// The calling thread's CPU time and the part of it spent inside system calls, when the shim
/// Benchmarks/C/syscall_cpu.c is preloaded: a user-space/kernel split of a cycle read from the
/// thread's CPU clock around every system call (less the shim's calibrated per-call cost),
/// where getrusage splits at the scheduler tick. The C side reads the same shim.
struct SyscallSplit {
  typealias Reader = @convention(c) () -> UInt64
  typealias BiasReader = @convention(c) () -> Double

  /// The shim's functions, looked up once; `nil` without the shim.
  private static let readers: (thread: Reader, inside: Reader, calls: Reader, bias: BiasReader)? = {
    // RTLD_DEFAULT is a null handle: search the whole process, preloaded objects first.
    guard let thread = dlsym(nil, "xdpbench_thread_ns"), let inside = dlsym(nil, "xdpbench_syscall_ns"),
      let calls = dlsym(nil, "xdpbench_syscall_calls"), let bias = dlsym(nil, "xdpbench_syscall_bias_ns")
    else { return nil }
    return (unsafeBitCast(thread, to: Reader.self), unsafeBitCast(inside, to: Reader.self),
            unsafeBitCast(calls, to: Reader.self), unsafeBitCast(bias, to: BiasReader.self))
  }()

  var threadNanoseconds: UInt64
  var insideNanoseconds: UInt64
  var calls: UInt64

  /// Now, or `nil` without the shim.
  static func now() -> SyscallSplit? {
    guard let readers else { return nil }
    return SyscallSplit(threadNanoseconds: readers.thread(), insideNanoseconds: readers.inside(), calls: readers.calls())
  }

  /// Adds what happened between `before` and `after` (one cycle).
  mutating func add(from before: SyscallSplit, to after: SyscallSplit) {
    threadNanoseconds += after.threadNanoseconds - before.threadNanoseconds
    insideNanoseconds += after.insideNanoseconds - before.insideNanoseconds
    calls += after.calls - before.calls
  }

  static let zero = SyscallSplit(threadNanoseconds: 0, insideNanoseconds: 0, calls: 0)

  /// Emits `METRIC.user_cpu` and `METRIC.syscall_cpu` (µs per iteration) and
  /// `METRIC.syscall_count` from `total`, summed over `iterations` cycles; nothing without the
  /// shim. User space is the thread's CPU time minus the time inside system calls and the
  /// shim's own cost outside its clock reads, once per call and once per cycle (the cycle's
  /// own two reads).
  static func emit(_ metric: String, total: SyscallSplit, iterations: Int) {
    guard let readers, iterations > 0 else { return }
    let calls = Double(total.calls)
    let inside = Double(total.insideNanoseconds)
    let user = Double(total.threadNanoseconds) - inside - readers.bias() * (calls + Double(iterations))
    emitSample(metric + ".user_cpu", "us", user / 1e3 / Double(iterations))
    emitSample(metric + ".syscall_cpu", "us", inside / 1e3 / Double(iterations))
    emitSample(metric + ".syscall_count", "count", calls / Double(iterations))
  }
}
