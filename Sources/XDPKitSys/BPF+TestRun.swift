import CXDPKit
import SystemPackage

/// The `flags` of BPF_PROG_TEST_RUN.
public struct TestRunFlags: OptionSet, Hashable, Sendable {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  /// BPF_F_TEST_RUN_ON_CPU: run on the CPU given by `cpu` (raw tracepoint programs only).
  public static let onCPU = Self(rawValue: BPF_F_TEST_RUN_ON_CPU)
  /// BPF_F_TEST_XDP_LIVE_FRAMES: send XDP_TX and XDP_REDIRECT frames for real.
  public static let xdpLiveFrames = Self(rawValue: BPF_F_TEST_XDP_LIVE_FRAMES)
}

/// What BPF_PROG_TEST_RUN reported.
public struct TestRunResult: Sendable, Hashable {
  /// The program's return value (`retval`), for XDP an `XDP_*` action.
  public var returnValue: UInt32
  /// Mean time of one run in nanoseconds (`duration`).
  public var durationNanoseconds: UInt32
  /// Size of the packet after the run (`data_size_out`), also when no output buffer was
  /// given.
  public var dataSizeOut: Int
  /// Size of the context after the run (`ctx_size_out`).
  public var contextSizeOut: Int

  public init(returnValue: UInt32, durationNanoseconds: UInt32, dataSizeOut: Int, contextSizeOut: Int) {
    self.returnValue = returnValue
    self.durationNanoseconds = durationNanoseconds
    self.dataSizeOut = dataSizeOut
    self.contextSizeOut = contextSizeOut
  }
}

extension BPF {
  /// The end of the last BPF_PROG_TEST_RUN field (`batch_size`); the kernel requires every
  /// byte after it, the member's tail padding included, to be zero.
  private static let testRunEnd =
    MemoryLayout<bpf_attr.__Unnamed_struct_test>.offset(of: \.batch_size)!
    + MemoryLayout<UInt32>.size

  /// Runs `program` in the kernel on `data` (for XDP and tc programs a packet, starting with
  /// the Ethernet header, at least 14 bytes) without attaching it.
  ///
  /// - Parameters:
  ///   - program: The loaded program to run.
  ///   - data: The input (`data_in`).
  ///   - dataOut: Receives the packet as the program left it (`data_out`); the call fails with
  ///     `ENOSPC` if it is too small. `nil` discards it.
  ///   - context: The program's context (`ctx_in`), for XDP a `struct xdp_md`; `nil` for a
  ///     default context.
  ///   - contextOut: Receives the context after the run (`ctx_out`).
  ///   - repetitions: How many times to run (`repeat`); 0 and 1 both run once.
  ///   - flags: `flags`.
  ///   - cpu: `cpu`, with ``TestRunFlags/onCPU``.
  ///   - batchSize: `batch_size`, with ``TestRunFlags/xdpLiveFrames``.
  ///
  /// The corresponding bpf(2) command is BPF_PROG_TEST_RUN.
  public static func testRun(
    program: BPFFileDescriptor, data: UnsafeRawBufferPointer,
    dataOut: UnsafeMutableRawBufferPointer? = nil, context: UnsafeRawBufferPointer? = nil,
    contextOut: UnsafeMutableRawBufferPointer? = nil, repetitions: UInt32 = 1,
    flags: TestRunFlags = [], cpu: UInt32 = 0, batchSize: UInt32 = 0
  ) throws(SyscallError) -> TestRunResult {
    // Built in place in a zeroed union: `bpf_attr(test:)` would leave the bytes after the
    // member uninitialised, and the kernel refuses non-zero bytes after the last field.
    var attr = bpf_attr()
    attr.test.prog_fd = fdField(program.rawValue)
    attr.test.data_in = address(data.baseAddress)
    attr.test.data_size_in = UInt32(clamping: data.count)
    if let dataOut {
      attr.test.data_out = address(dataOut.baseAddress)
      attr.test.data_size_out = UInt32(clamping: dataOut.count)
    }
    if let context {
      attr.test.ctx_in = address(context.baseAddress)
      attr.test.ctx_size_in = UInt32(clamping: context.count)
    }
    if let contextOut {
      attr.test.ctx_out = address(contextOut.baseAddress)
      attr.test.ctx_size_out = UInt32(clamping: contextOut.count)
    }
    attr.test.repeat = repetitions
    attr.test.flags = flags.rawValue
    attr.test.cpu = cpu
    attr.test.batch_size = batchSize
    BPFAttributeBytes.clear(&attr, from: testRunEnd)
    _ = try invoke(.programTestRun, &attr).get()
    return TestRunResult(
      returnValue: attr.test.retval, durationNanoseconds: attr.test.duration,
      dataSizeOut: Int(attr.test.data_size_out), contextSizeOut: Int(attr.test.ctx_size_out))
  }
}
