import XDPKitObject
import CXDPKit
import SystemPackage

/// What a link attaches a program to.
public enum BPFLinkTarget: Sendable, Hashable {
  /// A network interface by index (`target_ifindex`): XDP and tc programs.
  case interface(index: UInt32)
  /// An object by descriptor (`target_fd`): a cgroup, a network namespace, a program.
  case descriptor(BPFFileDescriptor)
}

extension BPF {
  /// Attaches `program` to `target` through a new BPF link and returns the link. The program
  /// stays attached while the link (or a pin of it) is open, and is detached when the last
  /// descriptor for the link is closed.
  ///
  /// - Parameters:
  ///   - program: The program to attach.
  ///   - target: What to attach it to: an interface by index, or an object by descriptor.
  ///   - attachType: `attach_type`, for an interface's XDP hook `BPFAttachType.xdp`.
  ///   - flags: `flags`. For XDP the mode: XDP_FLAGS_SKB_MODE, XDP_FLAGS_DRV_MODE or
  ///     XDP_FLAGS_HW_MODE of `linux/if_link.h`, or 0 to let the kernel choose. A second XDP
  ///     link on the same interface fails with `EBUSY`.
  ///
  /// The corresponding bpf(2) command is BPF_LINK_CREATE (tests can make it fail with
  /// `SyscallFaults`).
  public static func createLink(
    program: BPFFileDescriptor, target: BPFLinkTarget, attachType: BPFAttachType,
    flags: UInt32 = 0
  ) throws(SyscallError) -> BPFFileDescriptor {
    if let injected = SyscallFaults.failure(.linkCreate) { throw injected }
    // Members are set in place: `bpf_attr(link_create:)` would leave the rest of the union
    // uninitialised.
    var attr = bpf_attr()
    attr.link_create.prog_fd = fdField(program.rawValue)
    switch target {
    case .interface(let index): attr.link_create.target_ifindex = index
    case .descriptor(let fd): attr.link_create.target_fd = fdField(fd.rawValue)
    }
    attr.link_create.attach_type = attachType.rawValue
    attr.link_create.flags = flags
    return try newDescriptor(.linkCreate, &attr).get()
  }

  /// Whether the kernel attaches XDP programs through bpf_link (Linux 5.9+; before, only
  /// through netlink).
  ///
  /// It asks BPF_LINK_CREATE for an XDP link of a descriptor that cannot exist, which creates
  /// nothing: a kernel that knows XDP links looks the program up and answers `EBADF`; one that
  /// does not refuses the attach type (or the command, before 5.7) with `EINVAL` first.
  /// Other errors (`EPERM` without privilege) are thrown.
  ///
  /// The corresponding bpf(2) command is BPF_LINK_CREATE (tests can make it fail with
  /// `SyscallFaults`).
  public static func supportsXDPLinks() throws(SyscallError) -> Bool {
    let outcome: Result<BPFFileDescriptor, SyscallError>
    if let injected = SyscallFaults.failure(.linkCreate) {
      outcome = .failure(injected)
    } else {
      var attr = bpf_attr()
      attr.link_create.prog_fd = UInt32.max
      attr.link_create.attach_type = BPFAttachType.xdp.rawValue
      outcome = newDescriptor(.linkCreate, &attr)
    }
    switch outcome {
    case .success: return true  // cannot happen: there is no descriptor -1; the new fd is closed
    case .failure(let error) where error.errno == .badFileDescriptor: return true
    case .failure(let error) where error.errno == .invalidArgument: return false
    case .failure(let error): throw error
    }
  }

  /// Attaches a tracing, LSM or extension (freplace) program through a new BPF link.
  ///
  /// - Parameters:
  ///   - program: The loaded tracing or extension program.
  ///   - targetProgram: For freplace, or fentry/fexit on a BPF program, the program whose
  ///     function is replaced or traced (`target_fd`); `nil` to use the target given when the
  ///     program was loaded (`attach_prog_fd`, or the kernel function of `attach_btf_id`).
  ///   - targetBTFID: The function's BTF id in `targetProgram`'s BTF (`target_btf_id`); 0
  ///     with no `targetProgram`.
  ///   - attachType: `attach_type`: the program's expected attach type, such as
  ///     `BPFAttachType.traceFentry`. The kernel ignores it for freplace programs, which
  ///     are loaded without one (pass raw value 0).
  ///
  /// The corresponding bpf(2) command is BPF_LINK_CREATE, or BPF_RAW_TRACEPOINT_OPEN without
  /// a name when there is no `targetProgram` (and the program is not an iterator).
  public static func createTracingLink(
    program: BPFFileDescriptor, targetProgram: BPFFileDescriptor? = nil, targetBTFID: UInt32 = 0,
    attachType: BPFAttachType
  ) throws(SyscallError) -> BPFFileDescriptor {
    var attr = bpf_attr()
    if targetProgram == nil && attachType != .traceIterator {
      // The target was fixed at load time. BPF_RAW_TRACEPOINT_OPEN without a name attaches
      // every trampoline type on every kernel that has them (5.5+); BPF_LINK_CREATE takes
      // fentry/fexit/LSM programs only from 5.19 on.
      attr.raw_tracepoint.prog_fd = fdField(program.rawValue)
      return try newDescriptor(.rawTracepointOpen, &attr).get()
    }
    attr.link_create.prog_fd = fdField(program.rawValue)
    attr.link_create.target_fd = targetProgram.map { fdField($0.rawValue) } ?? 0
    attr.link_create.attach_type = attachType.rawValue
    attr.link_create.target_btf_id = targetBTFID
    return try newDescriptor(.linkCreate, &attr).get()
  }

  /// Replaces the program of `link` with `program`, atomically. With `expected`, the update
  /// happens only if the link still runs that program (BPF_F_REPLACE), and fails with `EPERM`
  /// otherwise.
  ///
  /// The corresponding bpf(2) command is BPF_LINK_UPDATE.
  public static func updateLink(
    _ link: BPFFileDescriptor, program: BPFFileDescriptor,
    replacing expected: BPFFileDescriptor? = nil
  ) throws(SyscallError) {
    var attr = bpf_attr()
    attr.link_update.link_fd = fdField(link.rawValue)
    attr.link_update.new_prog_fd = fdField(program.rawValue)
    if let expected {
      attr.link_update.flags = BPF_F_REPLACE
      attr.link_update.old_prog_fd = fdField(expected.rawValue)
    }
    _ = try invoke(.linkUpdate, &attr).get()
  }

  /// Detaches the program of `link` now, without waiting for the last descriptor to close;
  /// the link stays open but defunct.
  ///
  /// The corresponding bpf(2) command is BPF_LINK_DETACH.
  public static func detachLink(_ link: BPFFileDescriptor) throws(SyscallError) {
    var attr = bpf_attr()
    attr.link_detach.link_fd = fdField(link.rawValue)
    _ = try invoke(.linkDetach, &attr).get()
  }
}
