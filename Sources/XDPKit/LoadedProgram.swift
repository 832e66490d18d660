import XDPKitObject
import XDPKitSys

/// A program loaded into the kernel. Owns its file descriptor; the kernel keeps the program
/// while this value, a link or a pin holds it.
public final class LoadedProgram: Sendable {
  /// The owned program descriptor.
  public let fileDescriptor: BPFFileDescriptor
  /// The program's name in the object (the kernel keeps only 15 bytes of it).
  public let name: String
  /// The program type it was loaded as.
  public let type: BPFProgramType
  /// The ELF section it came from.
  public let sectionName: String
  /// The expected attach type it was loaded with, if any.
  public let expectedAttachType: BPFAttachType?
  /// Number of instruction slots loaded, subprograms included.
  public let instructionCount: Int

  init(fileDescriptor: BPFFileDescriptor, name: String, type: BPFProgramType, sectionName: String,
       expectedAttachType: BPFAttachType?, instructionCount: Int) {
    self.fileDescriptor = fileDescriptor
    self.name = name
    self.type = type
    self.sectionName = sectionName
    self.expectedAttachType = expectedAttachType
    self.instructionCount = instructionCount
  }

  /// What the kernel reports about the program (id, tag, jited size, map ids, …).
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_GET_INFO_BY_FD.
  public func info() throws(SyscallError) -> ProgramInfo {
    try BPF.programInfo(fileDescriptor)
  }

  /// The program's kernel-wide id.
  public var id: UInt32 {
    get throws(SyscallError) { try info().id }
  }

  /// Pins the program at `path` in bpffs (mode 0600), so it outlives this process. The
  /// parent directory must exist and pass the checks of `BPFFSDirectory`.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_PIN.
  public func pin(at path: String) throws(BPFFSError) {
    try BPF.pin(fileDescriptor, at: path)
  }

  /// Pins the program as `name` in `directory` (mode 0600).
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_PIN.
  public func pin(in directory: BPFFSDirectory, as name: String) throws(BPFFSError) {
    try directory.pin(fileDescriptor, as: name)
  }

  /// Opens the program pinned at `path`, checking that the pinned object is a program
  /// (`BPFFSError.wrongKind(path:expected:actual:)` otherwise), and describes it from the
  /// kernel's program info. The section name is not known for such a program and is empty.
  ///
  /// The corresponding bpf(2) commands are BPF_OBJ_GET and BPF_OBJ_GET_INFO_BY_FD.
  public static func open(pinnedAt path: String) throws(BPFFSError) -> LoadedProgram {
    let fd = try BPF.openPinned(at: path, kind: .program)
    return try program(fd, origin: path)
  }

  /// Opens the program pinned as `name` in `directory`, as ``open(pinnedAt:)-(String)`` does.
  public static func open(pinnedAs name: String, in directory: BPFFSDirectory) throws(BPFFSError) -> LoadedProgram {
    let fd = try directory.openPinned(name, kind: .program)
    return try program(fd, origin: directory.pathOf(name))
  }

  private static func program(_ fd: BPFFileDescriptor, origin: String) throws(BPFFSError) -> LoadedProgram {
    let info: ProgramInfo
    do { info = try BPF.programInfo(fd) } catch { throw .syscall(path: origin, error) }
    return LoadedProgram(
      fileDescriptor: fd, name: info.name, type: info.type, sectionName: "",
      expectedAttachType: nil, instructionCount: info.translatedSize / 8)
  }

  /// Runs the program in the kernel on `packet` without any traffic, `repetitions` times.
  ///
  /// Use it to unit-test packet logic from Swift. For XDP programs the result's ``TestRun/action``
  /// is the verdict; the packet as the program left it is in ``TestRun/packet``.
  ///
  /// The corresponding bpf(2) command is BPF_PROG_TEST_RUN.
  public func testRun(packet: [UInt8], repetitions: UInt32 = 1) throws(SyscallError) -> TestRun {
    // XDP programs may grow the packet (bpf_xdp_adjust_head/tail): leave room.
    var out = [UInt8](repeating: 0, count: packet.count + 4096)
    let outcome = packet.withUnsafeBytes { data in
      out.withUnsafeMutableBytes { outBytes in
        Result { () throws(SyscallError) in
          try BPF.testRun(program: fileDescriptor, data: data, dataOut: outBytes, repetitions: repetitions)
        }
      }
    }
    let result = try outcome.get()
    out.removeSubrange(min(result.dataSizeOut, out.count)...)
    return TestRun(returnValue: result.returnValue, packet: out,
                   averageDuration: .nanoseconds(Int64(result.durationNanoseconds)))
  }
}

extension LoadedProgram {
  /// Runs a program that takes no input once: for fentry/fexit/fmod_ret programs the kernel
  /// calls its test functions (`bpf_fentry_test1` … `bpf_fentry_test8`, `bpf_modify_return_test`),
  /// which run whatever tracing programs are attached to them; for `syscall` and raw
  /// tracepoint programs it runs the program itself. Returns the run's return value.
  ///
  /// The corresponding bpf(2) command is BPF_PROG_TEST_RUN with no data and no context.
  public func testRunWithoutInput() throws(SyscallError) -> UInt32 {
    try BPF.testRun(program: fileDescriptor, data: UnsafeRawBufferPointer(start: nil, count: 0),
                    repetitions: 0).returnValue
  }
}

/// The outcome of ``LoadedProgram/testRun(packet:repetitions:)``.
public struct TestRun: Sendable, Equatable {
  /// The program's return value (for XDP, the action).
  public var returnValue: UInt32
  /// The packet after the program ran.
  public var packet: [UInt8]
  /// The average time of one run, as the kernel measured it.
  public var averageDuration: Duration

  /// The XDP verdict, when the return value is one.
  public var action: XDPAction? { XDPAction(rawValue: returnValue) }
}

/// An XDP program's verdict (`enum xdp_action`).
public enum XDPAction: UInt32, Sendable, CustomStringConvertible {
  /// XDP_ABORTED: an error; the packet is dropped and a trace event raised.
  case aborted = 0
  /// XDP_DROP.
  case drop = 1
  /// XDP_PASS: continue up the network stack.
  case pass = 2
  /// XDP_TX: bounce out of the interface it came in on.
  case transmit = 3
  /// XDP_REDIRECT: to another interface, CPU or AF_XDP socket.
  case redirect = 4

  public var description: String {
    switch self {
    case .aborted: return "XDP_ABORTED"
    case .drop: return "XDP_DROP"
    case .pass: return "XDP_PASS"
    case .transmit: return "XDP_TX"
    case .redirect: return "XDP_REDIRECT"
    }
  }
}
