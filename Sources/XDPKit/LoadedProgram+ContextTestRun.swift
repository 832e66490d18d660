import XDPKitSys

extension LoadedProgram {
  /// Runs a program that takes no packet — a raw tracepoint or `syscall` program — once in
  /// the kernel with `context` as its context (for a raw tracepoint, its u64 arguments), and
  /// returns its return value.
  ///
  /// With `cpu`, the run happens on that CPU (BPF_F_TEST_RUN_ON_CPU, which the kernel accepts
  /// for raw tracepoint programs only); without, on the calling thread's CPU.
  ///
  /// The corresponding bpf(2) command is BPF_PROG_TEST_RUN.
  public func testRun(context: [UInt8], cpu: Int? = nil) throws(SyscallError) -> UInt32 {
    let outcome = context.withUnsafeBytes { raw in
      Result { () throws(SyscallError) in
        try BPF.testRun(
          program: fileDescriptor, data: UnsafeRawBufferPointer(start: nil, count: 0),
          context: raw.isEmpty ? nil : raw, repetitions: 0,
          flags: cpu == nil ? [] : .onCPU, cpu: UInt32(cpu ?? 0))
      }
    }
    return try outcome.get().returnValue
  }
}
