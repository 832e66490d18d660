import Synchronization
import SystemPackage
import XDPKitSys

/// An XDP program attached to an interface.
///
/// For a bpf_link attachment this value owns the link: when it is deinitialised (or the process
/// exits) the kernel detaches the program, unless the link was pinned. A netlink attachment
/// outlives this value and the process; ``detach()`` removes it.
public final class XDPLink: Sendable {
  enum Kind: Sendable {
    case link(BPFFileDescriptor)
    case netlink(flags: XDPFlags)
  }

  struct State: Sendable {
    var program: LoadedProgram?
    var detached = false
    var detaching = false
  }

  let kind: Kind
  /// The interface index the program is attached to (in the namespace it was attached from).
  public let interfaceIndex: Int32
  /// The interface as given when attaching.
  public let interface: NetworkInterface
  /// The mode it was attached in: the mode actually used, never ``XDPAttachMode/auto`` —
  /// except for a link reopened with ``open(pinnedAt:)-(String)``, whose mode the kernel does not report
  /// (ask ``XDP/attachment(on:)`` in the interface's namespace).
  public let mode: XDPAttachMode
  private let state: Mutex<State>

  init(kind: Kind, interfaceIndex: Int32, interface: NetworkInterface, mode: XDPAttachMode,
       program: LoadedProgram?) {
    self.kind = kind
    self.interfaceIndex = interfaceIndex
    self.interface = interface
    self.mode = mode
    self.state = Mutex(State(program: program))
  }

  /// Whether this is a bpf_link attachment (as opposed to netlink).
  public var isLink: Bool {
    if case .link = kind { return true }
    return false
  }

  /// The link's file descriptor, for bpf_link attachments.
  public var linkDescriptor: BPFFileDescriptor? {
    if case .link(let fd) = kind { return fd }
    return nil
  }

  /// Whether ``detach()`` has been called.
  public var isDetached: Bool { state.withLock { $0.detached } }

  /// Detaches the program from the interface. For a bpf_link, the link stays open but
  /// defunct (BPF_LINK_DETACH); for netlink, the interface's XDP program in this mode is
  /// removed (RTM_SETLINK with fd -1), but only if it is still the program this value attached.
  public func detach() throws(AttachError) {
    // Claim the detach; give it back if the kernel refuses, so a failed detach can be retried.
    let claimed = state.withLock { s -> Bool in
      if s.detached || s.detaching { return false }
      s.detaching = true
      return true
    }
    guard claimed else { throw .detached }
    var failure: AttachError? = nil
    switch kind {
    case .link(let fd):
      do { try BPF.detachLink(fd) } catch {
        failure = AttachError(syscall: error, interface: interface, mode: mode)
      }
    case .netlink(let flags):
      let program = state.withLock { $0.program }
      do {
        var f = flags
        var expected: Int32? = nil
        if let program {
          f.insert(.replace)
          expected = program.fileDescriptor.rawValue
        }
        try RouteNetlink.setXDP(interfaceIndex: interfaceIndex, programFD: -1, flags: f,
                                expectedProgramFD: expected)
      } catch {
        failure = AttachError(netlink: error, interface: interface, mode: mode)
      }
    }
    state.withLock { s in
      s.detaching = false
      if failure == nil { s.detached = true }
    }
    if let failure { throw failure }
  }

  /// Replaces the attached program with `program` atomically: at every moment one of the two
  /// is attached, so coverage has no gap.
  ///
  /// The corresponding bpf(2) command is BPF_LINK_UPDATE (bpf_link), or RTM_SETLINK with
  /// XDP_FLAGS_REPLACE and IFLA_XDP_EXPECTED_FD (netlink).
  public func replace(with program: XDPProgram) throws(AttachError) {
    let (old, detached) = state.withLock { ($0.program, $0.detached) }
    if detached { throw .detached }
    switch kind {
    case .link(let fd):
      do { try BPF.updateLink(fd, program: program.program.fileDescriptor, replacing: old?.fileDescriptor) } catch {
        // With BPF_F_REPLACE the kernel answers EPERM when the link's program is no longer the
        // one this value attached (another process or task replaced it): not a privilege issue.
        if error.errno == .notPermitted, old != nil {
          throw .failed("replace on \(interface): the link's program was replaced by someone else (\(error))")
        }
        throw AttachError(syscall: error, interface: interface, mode: mode)
      }
    case .netlink(let flags):
      var f = flags
      if old != nil { f.insert(.replace) }
      do {
        try RouteNetlink.setXDP(interfaceIndex: interfaceIndex, programFD: program.program.fileDescriptor.rawValue,
                                flags: f, expectedProgramFD: old?.fileDescriptor.rawValue)
      } catch {
        throw AttachError(netlink: error, interface: interface, mode: mode)
      }
    }
    state.withLock { $0.program = program.program }
  }

  /// Pins a bpf_link at `path` in bpffs (mode 0600; the parent directory must pass the checks
  /// of `BPFFSDirectory`), so the program stays attached after this process exits; remove
  /// the pin file (and close every handle) to detach.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_PIN.
  public func pin(at path: String) throws(AttachError) {
    let (directory, name): (String, String)
    do { (directory, name) = try BPFFSDirectory.split(path) } catch { throw .pinning(error) }
    let opened: BPFFSDirectory
    do { opened = try BPFFSDirectory.open(directory) } catch { throw .pinning(error) }
    try pin(in: opened, as: name)
  }

  /// Pins a bpf_link as `name` in `directory` (mode 0600).
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_PIN.
  public func pin(in directory: BPFFSDirectory, as name: String) throws(AttachError) {
    guard case .link(let fd) = kind else {
      throw .failed("only bpf_link attachments can be pinned; netlink attachments persist on their own")
    }
    do { try directory.pin(fd, as: name) } catch { throw .pinning(error) }
  }

  /// Opens a bpf_link pinned at `path` (an XDP link pinned by this or another process).
  ///
  /// The pinned object must be a link (``AttachError/pinning(_:)`` with
  /// `BPFFSError.wrongKind(path:expected:actual:)` for a map, program or BTF object) and an
  /// XDP link (``AttachError/notAnXDPLink(path:type:)``).
  ///
  /// The corresponding bpf(2) commands are BPF_OBJ_GET and BPF_OBJ_GET_INFO_BY_FD.
  public static func open(pinnedAt path: String) throws(AttachError) -> XDPLink {
    let fd: BPFFileDescriptor
    do { fd = try BPF.openPinned(at: path, kind: .link) } catch { throw .pinning(error) }
    return try open(fd, origin: path)
  }

  /// Opens the bpf_link pinned as `name` in `directory`, as ``open(pinnedAt:)-(String)`` does.
  public static func open(pinnedAs name: String, in directory: BPFFSDirectory) throws(AttachError) -> XDPLink {
    let fd: BPFFileDescriptor
    do { fd = try directory.openPinned(name, kind: .link) } catch { throw .pinning(error) }
    return try open(fd, origin: directory.pathOf(name))
  }

  private static func open(_ fd: BPFFileDescriptor, origin: String) throws(AttachError) -> XDPLink {
    let info: LinkInfo
    do { info = try BPF.linkInfo(fd) } catch { throw .failed("link info of \(origin): \(error)") }
    guard info.type == .xdp else { throw .notAnXDPLink(path: origin, type: info.type) }
    let index = Int32(bitPattern: info.xdpInterfaceIndex ?? 0)
    return XDPLink(kind: .link(fd), interfaceIndex: index, interface: .index(index), mode: .auto,
                   program: nil)
  }

  /// The kernel's description of the link (bpf_link attachments only).
  public func info() throws(AttachError) -> LinkInfo {
    guard case .link(let fd) = kind else { throw .failed("netlink attachments have no link info") }
    do { return try BPF.linkInfo(fd) } catch { throw .failed("link info: \(error)") }
  }
}

/// Queries and detaches XDP programs by interface, whoever attached them.
public enum XDP {
  /// What is attached to `interface`: the mode and program ids per mode.
  ///
  /// The corresponding rtnetlink message is RTM_GETLINK (IFLA_XDP of the reply).
  public static func attachment(on interface: NetworkInterface) throws(AttachError) -> XDPAttachmentState {
    let index = try interface.resolveIndex()
    do { return try RouteNetlink.xdpState(interfaceIndex: index) } catch {
      throw AttachError(netlink: error, interface: interface, mode: .auto)
    }
  }

  /// Detaches whatever XDP program netlink attached to `interface` in `mode`
  /// (``XDPAttachMode/auto``: the one in whichever mode is attached). Programs attached
  /// through a bpf_link cannot be removed this way (the kernel answers EBUSY).
  ///
  /// The corresponding rtnetlink message is RTM_SETLINK with IFLA_XDP_FD -1.
  public static func detach(from interface: NetworkInterface, mode: XDPAttachMode = .auto) throws(AttachError) {
    let index = try interface.resolveIndex()
    var flags = mode.flags
    if mode == .auto {
      let state = try attachment(on: interface)
      switch state.mode {
      case .generic: flags = .skbMode
      case .driver: flags = .driverMode
      case .hardware: flags = .hardwareMode
      default: flags = []
      }
    }
    do { try RouteNetlink.setXDP(interfaceIndex: index, programFD: -1, flags: flags) } catch {
      throw AttachError(netlink: error, interface: interface, mode: mode)
    }
  }
}
