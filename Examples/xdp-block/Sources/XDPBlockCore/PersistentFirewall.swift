import Glibc
import Logging
import XDPKit

/// The firewall kept attached between commands, like xdp-filter: `attach` loads it, pins its
/// program, maps and bpf_link in a state directory (see ``PinLayout``) and exits; `add`,
/// `remove`, `list` and `stats` open the pinned maps; `detach` detaches the link and removes
/// the state.
///
/// Each command is its own process. Nothing is held in memory between them: the kernel keeps
/// the program attached because the link is pinned, and the entries and counters live in the
/// pinned maps. Every command locks the interface's directory, repairs what an interrupted
/// command left (``StateStore/collectGarbage()``), and checks that the state belongs to the
/// interface before it acts (``StateStore/check()``).
public enum PersistentFirewall {
  /// What `attach` did.
  public struct AttachResult: Sendable {
    /// Where the state is pinned.
    public var layout: PinLayout
    /// The mode the program runs in (never `auto`).
    public var mode: XDPAttachMode
    /// The kernel id of the attached program.
    public var programID: UInt32?
    /// What was replaced, if anything: "program id N (netlink)" or "the previous xdp-block
    /// program (id N)".
    public var replaced: String?
    /// Entries carried over from the previous xdp-block program on `--replace`.
    public var keptEntries: Int
    /// Entries added from the command line that were new.
    public var added: [BlockEntry]
    /// What was repaired or removed before attaching: state of an earlier attachment that no
    /// longer told the truth, or left-overs of an interrupted command.
    public var repairs: [String]
  }

  /// What `detach` did.
  public struct DetachResult: Sendable {
    /// The program id the link held, when it could be read.
    public var programID: UInt32?
    /// Whether the link was still attached to the interface before detaching.
    public var wasAttached: Bool
    /// Why the state was no longer active, when it was not.
    public var problem: StateProblem?
    /// The directory removed.
    public var directory: String
  }

  /// The state of a pinned attachment, for `list` and `stats`.
  public struct Status: Sendable {
    /// The pinned link's program id.
    public var programID: UInt32
    /// The link's kernel id.
    public var linkID: UInt32
    /// The interface's XDP state as netlink reports it, when it could be queried.
    public var attachment: XDPAttachmentState?

    /// The mode the program runs in, as netlink reports it; `nil` if unknown.
    public var mode: XDPAttachMode? {
      switch attachment?.mode {
      case .some(.driver): return .native
      case .some(.generic): return .generic
      case .some(.hardware): return .offload
      default: return nil
      }
    }

    /// "attached in native mode (program id 42, link id 7, bpf_link)".
    public var summary: String {
      "attached in \(mode?.wording ?? "unknown") mode (program id \(programID), link id \(linkID), bpf_link)"
    }
  }

  // MARK: attach

  /// Loads the firewall, pins its program and maps in a new state directory, attaches it
  /// through a bpf_link, pins the link and publishes the state, then exits — or, over
  /// xdp-block's own attachment with `replace`, swaps in a new program keeping the entries.
  ///
  /// - The namespace and the interface are checked before anything is changed.
  /// - When another program is attached: refuses with ``XDPBlockError/alreadyAttached(interface:namespace:programID:mode:)``
  ///   unless `replace`, which first detaches it through netlink (RTM_SETLINK with fd -1);
  ///   the interface has no program for that moment. A program held by someone else's
  ///   bpf_link cannot be removed that way: ``XDPBlockError/attachedByLink(interface:programID:)``.
  /// - When xdp-block is attached already: refuses with ``XDPBlockError/alreadyManaged(_:)``
  ///   unless `replace`, which loads the firewall anew (with the new configuration), copies
  ///   every entry over, and swaps the program under the pinned link atomically
  ///   (BPF_LINK_UPDATE): no packet goes unfiltered. Counters start from zero.
  /// - A published state that no longer tells the truth (interface or namespace gone, link
  ///   detached) is detached and removed first.
  ///
  /// A process killed at any point leaves the old state or the new one: the next command
  /// removes what was not published.
  public static func attach(
    layout: PinLayout, mode: XDPAttachMode, replace: Bool, configuration: FirewallConfiguration,
    entries: [BlockEntry] = [], logger: Logger? = nil
  ) throws(XDPBlockError) -> AttachResult {
    // Arguments first: nothing is changed for a namespace or interface that is not there.
    let namespaceInode = try SystemSetup.namespaceInode(layout.namespace)
    guard let interfaceIndex = try SystemSetup.interfaceIndex(layout.interface, namespace: layout.namespace) else {
      throw .noSuchInterface(interface: layout.interface, namespace: layout.namespace)
    }
    try SystemSetup.requirePersistentBPFFS()
    guard let store = try StateStore.open(layout, create: true) else { throw .notAttached(layout) }
    CrashPoint.reach("attach-locked")
    var repairs = try store.collectGarbage()

    switch try store.check() {
    case .absent:
      break
    case .active(let state):
      guard replace else { throw .alreadyManaged(layout) }
      var reloaded = try reload(store: store, state: state, configuration: configuration, entries: entries, mode: mode)
      reloaded.repairs = repairs
      return reloaded
    case .broken(let problem, _):
      try detachAndRemove(store: store)
      repairs.append("removed the state of an earlier attachment (\(problem))")
    }

    let existing = try SystemSetup.inNetworkNamespaceTyped(layout.namespace) { () throws(XDPBlockError) in
      try LoadedFirewall.attachment(on: layout.interface, namespace: layout.namespace)
    }
    if existing.isAttached && !replace {
      throw .alreadyAttached(interface: layout.interface, namespace: layout.namespace,
                             programID: existing.programID, mode: existing.mode.wording)
    }

    let firewall = try LoadedFirewall(configuration: configuration)
    defer { firewall.loaded.close() }
    let record = StateRecord(
      interfaceIndex: interfaceIndex, interfaceName: layout.interface, namespaceInode: namespaceInode,
      configuration: configuration)
    let (name, generation) = try store.makeGeneration()
    var link: XDPLink?
    do throws(XDPBlockError) {
      try pinObjects(of: firewall, record: record, in: generation)
      CrashPoint.reach("attach-pinned")
      // Entries first: the firewall blocks them from its first packet on.
      let added = try firewall.add(entries)
      var replaced: String?
      if existing.isAttached {
        try detachForeignProgram(layout: layout, state: existing, mode: mode)
        logger?.notice("detached program id \(existing.programID.map(String.init) ?? "?") from \(layout.interfaceDescription)")
        replaced = "program id \(existing.programID.map(String.init) ?? "?") (netlink, \(existing.mode.wording) mode)"
      }
      let attached = try firewall.attach(to: layout.interface, namespace: layout.namespace, mode: mode, logger: logger)
      link = attached
      CrashPoint.reach("attach-attached")
      do { try attached.pin(in: generation, as: StateStore.linkName) } catch {
        throw XDPBlockError.failed("pin the link in \(generation.path): \(error)")
      }
      CrashPoint.reach("attach-link-pinned")
      try store.publish(name)
      CrashPoint.reach("attach-published")
      return AttachResult(
        layout: layout, mode: attached.mode, programID: firewall.programID, replaced: replaced,
        keptEntries: 0, added: added, repairs: repairs)
    } catch {
      if let link { try? link.detach() }
      try? store.removeGeneration(name, detachLink: false)
      store.removeDirectoriesIfEmpty()
      throw error
    }
  }

  /// Pins the firewall's program, its maps and `record` in a state directory.
  private static func pinObjects(of firewall: LoadedFirewall, record: StateRecord, in generation: BPFFSDirectory)
    throws(XDPBlockError)
  {
    do { try firewall.program.program.pin(in: generation, as: StateStore.programName) } catch {
      throw .unsafeState(error)
    }
    for (name, map) in firewall.maps.all {
      do { try map.pin(in: generation, as: name) } catch {
        throw XDPBlockError.map(operation: "pin \(name) in \(generation.path)", error)
      }
    }
    do { try generation.makeSymbolicLink(StateStore.recordName, target: record.text) } catch {
      throw .unsafeState(error)
    }
  }

  /// `attach --replace` over another program: detaches it through netlink (RTM_SETLINK with
  /// fd -1), from inside the interface's namespace. The program is not restored if the attach
  /// that follows fails.
  private static func detachForeignProgram(
    layout: PinLayout, state: XDPAttachmentState, mode: XDPAttachMode
  ) throws(XDPBlockError) {
    try SystemSetup.inNetworkNamespaceTyped(layout.namespace) { () throws(XDPBlockError) in
      do throws(AttachError) { try XDP.detach(from: .name(layout.interface)) } catch {
        if case .alreadyAttached = error {
          throw .attachedByLink(interface: layout.interfaceDescription, programID: state.programID)
        }
        throw .attach(error, interface: layout.interface, namespace: layout.namespace, mode: mode)
      }
    }
  }

  /// `attach --replace` over xdp-block's own attachment: a new program with the entries of
  /// the old one, in a new state directory that also pins the (same) link; the program is
  /// swapped under the link (BPF_LINK_UPDATE), then the new state is published and the old
  /// one removed. Killed before the publish, the next command puts the old program back.
  private static func reload(
    store: StateStore, state: PinnedState, configuration: FirewallConfiguration, entries: [BlockEntry],
    mode: XDPAttachMode
  ) throws(XDPBlockError) -> AttachResult {
    let layout = store.layout
    let current = try? SystemSetup.inNetworkNamespace(layout.namespace) {
      try XDP.attachment(on: .name(layout.interface))
    }
    let currentMode = Status(programID: 0, linkID: 0, attachment: current).mode
    if mode != .auto, let currentMode, currentMode != mode {
      throw .failed("xdp-block is attached to \(layout.interfaceDescription) in \(currentMode.wording) mode; "
        + "an in-place --replace keeps the mode: detach and attach again to change it")
    }
    let kept = try state.maps.entries().map(\.entry)
    let firewall = try LoadedFirewall(configuration: configuration)
    defer { firewall.loaded.close() }
    _ = try firewall.add(kept)
    let added = try firewall.add(entries)
    var record = state.record
    record.configuration = configuration

    let (name, generation) = try store.makeGeneration()
    do throws(XDPBlockError) {
      try pinObjects(of: firewall, record: record, in: generation)
      do { try state.link.pin(in: generation, as: StateStore.linkName) } catch {
        throw XDPBlockError.failed("pin the link again in \(generation.path): \(error)")
      }
      CrashPoint.reach("replace-pinned")
      guard let linkFD = state.link.linkDescriptor else { throw XDPBlockError.failed("the pinned link has no descriptor") }
      do {
        try BPF.updateLink(linkFD, program: firewall.program.program.fileDescriptor, replacing: state.program.fileDescriptor)
      } catch {
        throw XDPBlockError.failed("replace the program under \(state.directory.pathOf(StateStore.linkName)): \(error)")
      }
    } catch {
      try? store.removeGeneration(name, detachLink: false)
      throw error
    }
    CrashPoint.reach("replace-swapped")
    try store.publish(name)
    CrashPoint.reach("replace-published")
    try store.removeGeneration(state.name, detachLink: false)
    return AttachResult(
      layout: layout, mode: currentMode ?? .auto, programID: firewall.programID,
      replaced: "the previous xdp-block program (id \(state.programInfo.id))",
      keptEntries: kept.count, added: added, repairs: [])
  }

  // MARK: status, maps, detach

  /// Runs `body` with the interface's active state, under the lock, after repairing what an
  /// interrupted command left. Throws ``XDPBlockError/notAttached(_:)`` when nothing is
  /// attached and ``XDPBlockError/brokenState(_:_:)`` when the state does not tell the truth.
  static func withActiveState<R>(_ layout: PinLayout, _ body: (PinnedState) throws(XDPBlockError) -> R)
    throws(XDPBlockError) -> R
  {
    guard let store = try StateStore.open(layout, create: false) else { throw .notAttached(layout) }
    try store.collectGarbage()
    switch try store.check() {
    case .absent: throw .notAttached(layout)
    case .broken(let problem, _): throw .brokenState(layout, problem)
    case .active(let state): return try body(state)
    }
  }

  /// The pinned attachment's state, checked, with the interface's XDP mode.
  public static func status(of layout: PinLayout) throws(XDPBlockError) -> Status {
    try withActiveState(layout) { state throws(XDPBlockError) in
      let attachment = try? SystemSetup.inNetworkNamespace(layout.namespace) {
        try XDP.attachment(on: .name(layout.interface))
      }
      return Status(programID: state.linkInfo.programID, linkID: state.linkInfo.id, attachment: attachment)
    }
  }

  /// The pinned maps of the interface's active state, for `add`, `remove`, `list` and `stats`,
  /// with its status.
  public static func maps(_ layout: PinLayout) throws(XDPBlockError) -> (maps: FirewallMaps, status: Status) {
    try withActiveState(layout) { state throws(XDPBlockError) in
      let attachment = try? SystemSetup.inNetworkNamespace(layout.namespace) {
        try XDP.attachment(on: .name(layout.interface))
      }
      return (state.maps, Status(programID: state.linkInfo.programID, linkID: state.linkInfo.id, attachment: attachment))
    }
  }

  /// The configuration the active state's firewall was loaded with.
  public static func configuration(of layout: PinLayout) throws(XDPBlockError) -> FirewallConfiguration {
    try withActiveState(layout) { state throws(XDPBlockError) in state.record.configuration }
  }

  /// Detaches the pinned link (BPF_LINK_DETACH, so the program leaves the interface even if
  /// another process still holds the link open) and removes the state — also a state that
  /// no longer tells the truth, which is how such a state is cleaned up.
  ///
  /// Throws ``XDPBlockError/notAttached(_:)`` when there is no state.
  public static func detach(layout: PinLayout) throws(XDPBlockError) -> DetachResult {
    guard let store = try StateStore.open(layout, create: false) else { throw .notAttached(layout) }
    try store.collectGarbage()
    var result = DetachResult(programID: nil, wasAttached: false, problem: nil, directory: layout.directory)
    switch try store.check() {
    case .absent:
      store.removeDirectoriesIfEmpty()
      throw .notAttached(layout)
    case .active(let state):
      result.programID = state.linkInfo.programID
      result.wasAttached = true
    case .broken(let problem, let state):
      result.programID = state?.linkInfo.programID
      result.problem = problem
    }
    try detachAndRemove(store: store)
    return result
  }

  /// Withdraws the published state, detaches its link and removes it, then the directories
  /// left empty. Killed in between, the next command finishes the job.
  private static func detachAndRemove(store: StateStore) throws(XDPBlockError) {
    guard let name = try store.currentName() else { return }
    try store.unpublish()
    CrashPoint.reach("detach-unpublished")
    try store.removeGeneration(name, detachLink: true)
    store.removeDirectoriesIfEmpty()
  }
}

extension SystemSetup {
  /// ``inNetworkNamespace(_:_:)`` for a body that throws only ``XDPBlockError``.
  static func inNetworkNamespaceTyped<R>(
    _ namespace: String?, _ body: () throws(XDPBlockError) -> R
  ) throws(XDPBlockError) -> R {
    do {
      return try inNetworkNamespace(namespace) { () throws -> R in try body() }
    } catch let error as XDPBlockError {
      throw error
    } catch {
      throw .failed("enter network namespace \(namespace ?? "?"): \(error)")
    }
  }
}
