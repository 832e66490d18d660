import CXDPKit
import SystemPackage

extension BPF {
  /// Loads type information (a raw `.BTF` blob: header, types, strings) into the kernel,
  /// optionally with a log of the kernel's BTF checks, in one BPF_BTF_LOAD (repeated only for
  /// `EINTR` and up to ``againRetryLimit`` times for `EAGAIN`).
  ///
  /// ``loadBTFCapturingLog(_:logLevel:)`` adds the log-capture policy.
  ///
  /// The corresponding bpf(2) command is BPF_BTF_LOAD.
  public static func loadBTF(_ bytes: UnsafeRawBufferPointer, log: BPFLogBuffer? = nil)
    -> BPFLoadAttempt
  {
    var attr = bpf_attr()
    attr.btf = address(bytes.baseAddress)
    attr.btf_size = UInt32(clamping: bytes.count)
    if let log {
      attr.btf_log_level = log.level.rawValue
      attr.btf_log_size = UInt32(clamping: log.buffer.count)
      attr.btf_log_buf = address(log.buffer.baseAddress)
    }
    let offset = Int(cxdpkit_bpf_btf_load_log_true_size_offset())
    BPFAttributeBytes.clear(&attr, from: offset)
    let result = invoke(.btfLoad, &attr, againRetries: againRetryLimit)
    let trueSize = BPFAttributeBytes.loadUInt32(attr, at: offset)
    return BPFLoadAttempt(
      result: result.map { BPFFileDescriptor(adopting: Int32(truncatingIfNeeded: $0)) },
      logTrueSize: log != nil && trueSize > 0 ? Int(trueSize) : nil)
  }

  /// Loads type information; if the kernel refuses it, loads it again with a log and throws
  /// the log with the error. The policy is that of
  /// ``loadProgramCapturingLog(_:logLevel:)``.
  ///
  /// The corresponding bpf(2) command is BPF_BTF_LOAD.
  public static func loadBTFCapturingLog(
    _ bytes: [UInt8], logLevel: BPFLogLevel = .basic
  ) throws(BTFLoadError) -> BPFFileDescriptor {
    let outcome = bytes.withUnsafeBytes { raw in
      captureLog(level: logLevel) { log in loadBTF(raw, log: log) }
    }
    switch outcome {
    case .success(let fd): return fd
    case .failure(let failure):
      throw BTFLoadError(syscall: failure.error, log: failure.log, isLogTruncated: failure.truncated)
    }
  }
}

extension BPF {
  /// The kernel's BTF object called `name` ("vmlinux", or a loaded module's name), opened;
  /// `nil` when there is none. Kfunc calls and `__ksym` variables that live in a module refer
  /// to that module's BTF by this descriptor.
  ///
  /// The corresponding bpf(2) commands are BPF_BTF_GET_NEXT_ID, BPF_BTF_GET_FD_BY_ID and
  /// BPF_OBJ_GET_INFO_BY_FD, once per BTF object until the match.
  public static func kernelBTF(named name: String) throws(SyscallError) -> BPFFileDescriptor? {
    for id in try allBTFIDs() {
      let descriptor: BPFFileDescriptor
      do { descriptor = try openBTF(id: id) } catch where error.errno == .noSuchFileOrDirectory {
        continue  // unloaded since it was listed
      }
      let info = try btfInfo(descriptor)
      if info.isKernelBTF && info.name == name { return descriptor }
    }
    return nil
  }
}
