import Glibc
import Logging
import SystemPackage
import Synchronization
import XDPKitSys

/// Where in the receive path an XDP program runs.
public enum XDPAttachMode: String, Sendable, CaseIterable, CustomStringConvertible {
  /// Try native, fall back to generic when the driver has no XDP support (logged).
  case auto
  /// In the driver, before an skb is allocated (XDP_FLAGS_DRV_MODE). Fastest.
  case native
  /// After the skb is built, for any interface (XDP_FLAGS_SKB_MODE). Slower, always available.
  case generic
  /// On the NIC itself (XDP_FLAGS_HW_MODE); needs an offload-capable device.
  case offload

  var flags: XDPFlags {
    switch self {
    case .auto: return []
    case .native: return .driverMode
    case .generic: return .skbMode
    case .offload: return .hardwareMode
    }
  }

  public var description: String { rawValue }
}

/// How an XDP program is attached.
public enum XDPAttachMethod: Sendable, Equatable {
  /// A bpf_link where the kernel has XDP links (Linux 5.9+), otherwise netlink replacing
  /// nothing, as ``netlink(replacing:)`` with ``NetlinkReplacePolicy/nothing``. The default.
  /// The fallback is decided when BPF_LINK_CREATE answers `EINVAL` and the kernel proves not
  /// to know XDP links (`BPF.supportsXDPLinks()`); it is logged once per process, and
  /// ``XDPLink/isLink`` of the result tells which method was used. Mind the difference: a
  /// netlink attachment outlives the process.
  case auto
  /// Through a bpf_link (BPF_LINK_CREATE, Linux 5.9+): the program is detached when the link
  /// is closed or the process exits, so a crashed service never leaves a stale filter —
  /// unless the link is pinned.
  case link
  /// Through rtnetlink (RTM_SETLINK IFLA_XDP): the program stays attached after the process
  /// exits, until someone detaches it. `replacing` says what may be replaced.
  case netlink(replacing: NetlinkReplacePolicy = .nothing)
}

/// What a netlink attach may replace.
public enum NetlinkReplacePolicy: Sendable, Equatable {
  /// Fail if any program is attached (XDP_FLAGS_UPDATE_IF_NOEXIST). The default.
  case nothing
  /// Replace only the program with this id (XDP_FLAGS_REPLACE with IFLA_XDP_EXPECTED_FD).
  case program(id: UInt32)
  /// Replace whatever is attached.
  case anything
}

/// Why attaching, replacing or detaching failed.
///
/// The cases that come from the kernel carry an ``AttachFailure``: the call that failed and its
/// errno as data (``errno`` and ``operation`` read them from any case), with the kernel's own
/// message where netlink sent one.
public enum AttachError: Error, Sendable, CustomStringConvertible {
  /// No interface has that name (or index) in this network namespace.
  case noSuchInterface(String)
  /// The driver does not support the requested mode.
  case modeNotSupported(mode: XDPAttachMode, interface: String, cause: AttachFailure)
  /// A program is already attached and the attach must not replace it.
  case alreadyAttached(interface: String, cause: AttachFailure)
  /// The caller lacks a capability.
  case permissionDenied(capability: String, cause: AttachFailure)
  /// The link or attachment was already detached.
  case detached
  /// Pinning or opening a pinned link failed a check of its directory or the pin, or the
  /// pinned object is not a link; the error names the path.
  case pinning(BPFFSError)
  /// The link pinned at `path` is a link of another type (tracing, cgroup, …), not XDP.
  case notAnXDPLink(path: String, type: BPFLinkType)
  /// A call failed with an errno that none of the cases above stands for.
  case syscall(AttachFailure)
  /// Another failure, found by XDPKit rather than returned by the kernel.
  case failed(String)

  public var description: String {
    switch self {
    case .noSuchInterface(let name): return "no such interface: \(name)"
    case .modeNotSupported(let mode, let interface, let cause):
      return "\(interface) does not support \(mode) XDP (\(cause)); try --mode generic"
    case .alreadyAttached(let interface, let cause):
      return "an XDP program is already attached to \(interface) (\(cause)); detach it first or ask to replace it"
    case .permissionDenied(let capability, let cause):
      return "permission denied: needs \(capability) (\(cause))"
    case .detached: return "the attachment was already detached"
    case .pinning(let error): return "\(error)"
    case .notAnXDPLink(let path, let type): return "\(path): the pinned link is a \(type) link, not an XDP link"
    case .syscall(let cause): return "\(cause)"
    case .failed(let detail): return detail
    }
  }

  /// The failed call's details, for the cases that come from one.
  public var cause: AttachFailure? {
    switch self {
    case .modeNotSupported(_, _, let cause), .alreadyAttached(_, let cause), .permissionDenied(_, let cause),
         .syscall(let cause):
      return cause
    case .pinning(.syscall(_, let error)):
      return AttachFailure(operation: .call(error.operation), errno: error.errno)
    default:
      return nil
    }
  }

  /// The errno of the failed call, if the error comes from one.
  public var errno: Errno? { cause?.errno }

  /// The failed call, if the error comes from one.
  public var operation: AttachOperation? { cause?.operation }
}

/// What an attach, replace or detach called when it failed.
public enum AttachOperation: Sendable, Hashable, CustomStringConvertible {
  /// A system call or bpf(2) command, such as BPF_LINK_CREATE.
  case call(SyscallOperation)
  /// An rtnetlink request, such as RTM_SETLINK with IFLA_XDP.
  case netlink(NetlinkOperation)
  /// None: XDPKit refused before calling the kernel.
  case none

  public var description: String {
    switch self {
    case .call(let operation): return operation.description
    case .netlink(let operation): return operation.description
    case .none: return "refused before any call"
    }
  }
}

/// A failed call behind an ``AttachError``: the operation, the errno, and the kernel's
/// message when netlink sent one (extended ACK).
public struct AttachFailure: Sendable, Hashable, CustomStringConvertible {
  /// The call that failed.
  public var operation: AttachOperation
  /// Its errno; `nil` for ``AttachOperation/none``.
  public var errno: Errno?
  /// The kernel's extended-ACK message, e.g. "XDP program already attached".
  public var kernelMessage: String?
  /// Why XDPKit refused, for ``AttachOperation/none``.
  public var reason: String?

  /// A failure of `operation` with `errno`.
  public init(operation: AttachOperation, errno: Errno?, kernelMessage: String? = nil, reason: String? = nil) {
    self.operation = operation
    self.errno = errno
    self.kernelMessage = kernelMessage
    self.reason = reason
  }

  /// A refusal by XDPKit itself, before any call.
  public static func refused(_ reason: String) -> AttachFailure {
    AttachFailure(operation: .none, errno: nil, reason: reason)
  }

  public var description: String {
    if case .none = operation { return reason ?? "refused" }
    var text = operation.description
    if let errno { text += ": \(errno)" }
    if let kernelMessage { text += " (kernel: \(kernelMessage))" }
    return text
  }
}

/// An interface, by name or index, in the calling thread's network namespace.
public enum NetworkInterface: Sendable, Equatable, CustomStringConvertible, ExpressibleByStringLiteral {
  case name(String)
  case index(Int32)

  public init(stringLiteral value: String) { self = .name(value) }

  /// The interface index, looked up now. An index is checked to exist: BPF_LINK_CREATE
  /// answers an unknown `target_ifindex` with EINVAL, which would otherwise read as "mode not
  /// supported".
  public func resolveIndex() throws(AttachError) -> Int32 {
    switch self {
    case .index(let i):
      do { _ = try interfaceName(index: i) } catch { throw .noSuchInterface(description) }
      return i
    case .name(let n):
      do { return try interfaceIndex(named: n) } catch { throw .noSuchInterface(n) }
    }
  }

  public var description: String {
    switch self {
    case .name(let n): return n
    case .index(let i): return "ifindex \(i)"
    }
  }
}

/// A loaded program of type XDP, ready to attach.
public struct XDPProgram: Sendable {
  /// The loaded program.
  public let program: LoadedProgram

  init(_ program: LoadedProgram) { self.program = program }

  /// Attaches the program to `interface`.
  ///
  /// With ``XDPAttachMode/auto`` the native (driver) mode is tried first; if the driver
  /// refuses it, generic mode is used and `logger` gets a notice saying so.
  /// Interface names resolve in the calling thread's network namespace.
  ///
  /// The corresponding bpf(2) command is BPF_LINK_CREATE (``XDPAttachMethod/link``, and
  /// ``XDPAttachMethod/auto`` on a kernel with XDP links), or the rtnetlink message RTM_SETLINK
  /// with IFLA_XDP (``XDPAttachMethod/netlink(replacing:)``, and ``XDPAttachMethod/auto`` on a
  /// kernel without).
  public func attach(to interface: NetworkInterface, mode: XDPAttachMode = .auto,
                     method: XDPAttachMethod = .auto,
                     logger: Logger? = nil) throws(AttachError) -> XDPLink {
    let index = try interface.resolveIndex()
    if mode == .auto {
      do {
        return try attachOnce(index: index, interface: interface, mode: .native, method: method, logger: logger)
      } catch AttachError.modeNotSupported {
        logger?.notice("native XDP is not supported on \(interface); falling back to generic mode")
        return try attachOnce(index: index, interface: interface, mode: .generic, method: method, logger: logger)
      }
    }
    return try attachOnce(index: index, interface: interface, mode: mode, method: method, logger: logger)
  }

  private func attachOnce(index: Int32, interface: NetworkInterface, mode: XDPAttachMode,
                          method: XDPAttachMethod, logger: Logger?) throws(AttachError) -> XDPLink {
    switch method {
    case .link, .auto:
      do {
        let link = try BPF.createLink(program: program.fileDescriptor,
                                      target: .interface(index: UInt32(index)),
                                      attachType: .xdp, flags: mode.flags.rawValue)
        return XDPLink(kind: .link(link), interfaceIndex: index, interface: interface, mode: mode, program: program)
      } catch {
        if method == .auto, error.errno == .invalidArgument, !XDPLinkSupport.isAvailable() {
          XDPLinkSupport.noteFallback(to: logger)
          return try attachOnce(index: index, interface: interface, mode: mode,
                                method: .netlink(replacing: .nothing), logger: logger)
        }
        throw AttachError(syscall: error, interface: interface, mode: mode)
      }
    case .netlink(let policy):
      var flags = mode.flags
      var expected: BPFFileDescriptor? = nil
      switch policy {
      case .nothing: flags.insert(.updateIfNoExist)
      case .anything: break
      case .program(let id):
        do { expected = try BPF.openProgram(id: id) } catch {
          throw .failed("open program \(id) to replace: \(error)")
        }
        flags.insert(.replace)
      }
      do {
        try RouteNetlink.setXDP(interfaceIndex: index, programFD: program.fileDescriptor.rawValue,
                                flags: flags, expectedProgramFD: expected?.rawValue)
      } catch {
        throw AttachError(netlink: error, interface: interface, mode: mode)
      }
      return XDPLink(kind: .netlink(flags: mode.flags), interfaceIndex: index, interface: interface,
                     mode: mode, program: program)
    }
  }
}

extension AttachError {
  init(syscall error: SyscallError, interface: NetworkInterface, mode: XDPAttachMode) {
    self.init(AttachFailure(operation: .call(error.operation), errno: error.errno), interface: interface, mode: mode)
  }

  init(netlink error: NetlinkError, interface: NetworkInterface, mode: XDPAttachMode) {
    self.init(AttachFailure(operation: .netlink(error.operation), errno: error.errno, kernelMessage: error.kernelMessage),
              interface: interface, mode: mode)
  }

  init(_ cause: AttachFailure, interface: NetworkInterface, mode: XDPAttachMode) {
    switch cause.errno {
    case .notPermitted?, .permissionDenied?:
      self = .permissionDenied(capability: "CAP_NET_ADMIN (and CAP_BPF or CAP_SYS_ADMIN)", cause: cause)
    case .resourceBusy?, .fileExists?:
      self = .alreadyAttached(interface: interface.description, cause: cause)
    case Errno(rawValue: EOPNOTSUPP)?, Errno(rawValue: ENOTSUP)?:
      self = .modeNotSupported(mode: mode, interface: interface.description, cause: cause)
    case .invalidArgument? where mode == .offload || mode == .native:
      self = .modeNotSupported(mode: mode, interface: interface.description, cause: cause)
    case Errno(rawValue: ENODEV)?:
      self = .noSuchInterface(interface.description)
    default:
      self = .syscall(cause)
    }
  }
}
