import Glibc
import Logging
import XDPKit

/// The firewall kept attached between commands, like xdp-filter: `attach` loads it, pins its
/// program and maps in a state directory (see ``PinLayout``) and exits; `add`, `remove`,
/// `list` and `stats` open the pinned maps; `detach` removes it from the interface and removes
/// the state.
///
/// The firewall runs either as one program of the interface's multi-program dispatcher
/// (libxdp's protocol, next to programs of xdp-loader, xdp-filter or XDPKit), or alone through
/// a bpf_link pinned with the state; the state's record says which
/// (``StateRecord/Hook``).
///
/// Each command is its own process. Nothing is held in memory between them: the kernel keeps
/// the program attached because the link (or the dispatcher's link to it) is pinned, and the
/// entries and counters live in the pinned maps. Every command locks the interface's
/// directory, repairs what an interrupted command left (``StateStore/collectGarbage()``), and
/// checks that the state belongs to the interface before it acts (``StateStore/check()``).
public enum PersistentFirewall {
  /// What `attach` did.
  public struct AttachResult: Sendable {
    /// Where the state is pinned.
    public var layout: PinLayout
    /// The mode the program (or its dispatcher) runs in (never `auto`).
    public var mode: XDPAttachMode
    /// The kernel id of the attached program.
    public var programID: UInt32?
    /// How it is attached: alone through a pinned link, or behind a dispatcher.
    public var hook: StateRecord.Hook = .link
    /// Behind a dispatcher: the dispatcher after the change, with every program in run order.
    public var dispatcher: XDPDispatcherInfo? = nil
    /// Why the firewall was attached alone to an interface without a program, rather than
    /// through a dispatcher (the kernel refuses freplace programs); `nil` when it was not.
    public var fallback: String? = nil
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

    /// The firewall's entry in the dispatcher, when it runs behind one.
    public var component: XDPComponentInfo? {
      guard case .dispatcher(_, let id) = hook else { return nil }
      return dispatcher?.components.first { $0.id == id }
    }
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
    /// How the firewall was attached, when the state could be read.
    public var hook: StateRecord.Hook? = nil
  }

  // MARK: attach

  /// Loads the firewall, pins its program and maps in a new state directory, attaches it and
  /// publishes the state, then exits — or, over xdp-block's own attachment with `replace`,
  /// swaps in a new program keeping the entries.
  ///
  /// - The namespace and the interface are checked before anything is changed.
  /// - On an interface with a multi-program dispatcher (XDPKit's, xdp-loader's, xdp-filter's),
  ///   the firewall joins it as one more program, with `priority` (default: the object's run
  ///   configuration, 50) and chaining on XDP_PASS; the other programs keep running.
  /// - On an interface without a program, the firewall goes behind a new dispatcher, so that
  ///   other programs can join later — unless `direct`, or unless the kernel refuses freplace
  ///   programs (lockdown, or a kernel without them): then it is attached alone through a
  ///   pinned bpf_link, and ``AttachResult/fallback`` says why.
  /// - When a program that is not a dispatcher is attached: refuses with
  ///   ``XDPBlockError/alreadyAttached(interface:namespace:programID:mode:)`` unless
  ///   `replace`, which first detaches it through netlink (RTM_SETLINK with fd -1); the
  ///   interface has no program for that moment. A program held by someone else's bpf_link
  ///   cannot be removed that way: ``XDPBlockError/attachedByLink(interface:programID:)``.
  /// - When xdp-block is attached already: refuses with ``XDPBlockError/alreadyManaged(_:)``
  ///   unless `replace`, which loads the firewall anew (with the new configuration) and copies
  ///   every entry over: alone, it swaps the program under the pinned link atomically
  ///   (BPF_LINK_UPDATE); behind a dispatcher, it adds the new program next to the old one,
  ///   then removes the old one. No packet goes unfiltered. Counters start from zero.
  /// - A published state that no longer tells the truth (interface or namespace gone, link
  ///   detached, program removed from the dispatcher by another loader) is removed first.
  ///
  /// A process killed at any point leaves the old state or the new one: the next command
  /// removes what was not published, including a program added to a dispatcher.
  public static func attach(
    layout: PinLayout, mode: XDPAttachMode, replace: Bool, configuration: FirewallConfiguration,
    entries: [BlockEntry] = [], priority: UInt32? = nil, direct: Bool = false, logger: Logger? = nil
  ) throws(XDPBlockError) -> AttachResult {
    // Arguments first: nothing is changed for a namespace or interface that is not there.
    let namespaceInode = try SystemSetup.namespaceInode(layout.namespace)
    guard let interfaceIndex = try SystemSetup.interfaceIndex(layout.interface, namespace: layout.namespace) else {
      throw .noSuchInterface(interface: layout.interface, namespace: layout.namespace)
    }
    // The pins must outlive this process: the state's, and behind a dispatcher libxdp's too.
    try SystemSetup.requirePersistentBPFFS(
      roots: direct ? [layout.root] : [layout.root, SystemSetup.dispatcherBPFFSRoot])
    guard let store = try StateStore.open(layout, create: true) else { throw .notAttached(layout) }
    CrashPoint.reach("attach-locked")
    var repairs = try store.collectGarbage()

    switch try store.check() {
    case .absent:
      break
    case .active(let state):
      guard replace else { throw .alreadyManaged(layout) }
      var reloaded: AttachResult
      if case .dispatcher = state.record.hook {
        reloaded = try reloadComponent(
          store: store, state: state, configuration: configuration, entries: entries, mode: mode, priority: priority)
      } else {
        reloaded = try reload(store: store, state: state, configuration: configuration, entries: entries, mode: mode)
      }
      reloaded.repairs = repairs
      return reloaded
    case .broken(let problem, _):
      try detachAndRemove(store: store)
      repairs.append("removed the state of an earlier attachment (\(problem))")
    }

    let record = StateRecord(
      interfaceIndex: interfaceIndex, interfaceName: layout.interface, namespaceInode: namespaceInode,
      configuration: configuration)
    var replaced: String? = nil
    let existing = try DispatcherHook.programs(layout)
    switch existing {
    case .single(let id, _, let attachedMode):
      guard replace else {
        throw .alreadyAttached(interface: layout.interface, namespace: layout.namespace, programID: id,
                               mode: attachedMode.wording)
      }
      try detachForeignProgram(layout: layout, programID: id, mode: mode)
      logger?.notice("detached program id \(id) from \(layout.interfaceDescription)")
      replaced = "program id \(id) (netlink, \(attachedMode.wording) mode)"
    case .dispatcher(let dispatcher) where direct:
      throw .failed("a multi-program dispatcher (program id \(dispatcher.id)) runs \(dispatcher.components.count) "
        + "program(s) on \(layout.interfaceDescription): --direct needs the interface to itself; "
        + "attach without --direct to join the dispatcher")
    case .none, .dispatcher:
      break
    }

    var fallback: String? = nil
    if !direct {
      let joining = existing != .none && replaced == nil
      switch try attachBehindDispatcher(
        store: store, record: record, mode: mode, priority: priority, entries: entries, joining: joining)
      {
      case .attached(var result):
        result.replaced = replaced
        result.repairs = repairs
        return result
      case .unavailable(let reason):
        fallback = reason  // the caller reports it (AttachResult.fallback)
      }
    }

    var result = try attachAlone(store: store, record: record, mode: mode, entries: entries, logger: logger)
    result.fallback = fallback
    result.replaced = replaced
    result.repairs = repairs
    return result
  }

  /// Loads the firewall and attaches it alone through a bpf_link, pinned with its program,
  /// maps and `record` in a new state directory, then publishes the state.
  private static func attachAlone(
    store: StateStore, record: StateRecord, mode: XDPAttachMode, entries: [BlockEntry], logger: Logger?
  ) throws(XDPBlockError) -> AttachResult {
    let layout = store.layout
    let firewall = try LoadedFirewall(configuration: record.configuration)
    defer { firewall.loaded.close() }
    let (name, generation) = try store.makeGeneration()
    var link: XDPLink?
    do throws(XDPBlockError) {
      try pinObjects(program: firewall.program.program, maps: firewall.maps, record: record, in: generation)
      CrashPoint.reach("attach-pinned")
      // Entries first: the firewall blocks them from its first packet on.
      let added = try firewall.add(entries)
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
        layout: layout, mode: attached.mode, programID: firewall.programID, replaced: nil,
        keptEntries: 0, added: added, repairs: [])
    } catch {
      if let link { try? link.detach() }
      try? store.removeGeneration(name, detach: false)
      store.removeDirectoriesIfEmpty()
      throw error
    }
  }

  /// Pins the firewall's program, its maps and `record` in a state directory.
  static func pinObjects(program: LoadedProgram, maps: FirewallMaps, record: StateRecord, in generation: BPFFSDirectory)
    throws(XDPBlockError)
  {
    do { try program.pin(in: generation, as: StateStore.programName) } catch {
      throw .unsafeState(error)
    }
    for (name, map) in maps.all {
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
    layout: PinLayout, programID: UInt32, mode: XDPAttachMode
  ) throws(XDPBlockError) {
    try SystemSetup.inNetworkNamespaceTyped(layout.namespace) { () throws(XDPBlockError) in
      do throws(AttachError) { try XDP.detach(from: .name(layout.interface)) } catch {
        if case .alreadyAttached = error {
          throw .attachedByLink(interface: layout.interfaceDescription, programID: programID)
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
    let currentMode = current.flatMap { Status.mode(of: $0) }
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
      try pinObjects(program: firewall.program.program, maps: firewall.maps, record: record, in: generation)
      guard let link = state.link else { throw XDPBlockError.failed("the state has no pinned link") }
      do { try link.pin(in: generation, as: StateStore.linkName) } catch {
        throw XDPBlockError.failed("pin the link again in \(generation.path): \(error)")
      }
      CrashPoint.reach("replace-pinned")
      guard let linkFD = link.linkDescriptor else { throw XDPBlockError.failed("the pinned link has no descriptor") }
      do {
        try BPF.updateLink(linkFD, program: firewall.program.program.fileDescriptor, replacing: state.program.fileDescriptor)
      } catch {
        throw XDPBlockError.failed("replace the program under \(state.directory.pathOf(StateStore.linkName)): \(error)")
      }
    } catch {
      try? store.removeGeneration(name, detach: false)
      throw error
    }
    CrashPoint.reach("replace-swapped")
    try store.publish(name)
    CrashPoint.reach("replace-published")
    try store.removeGeneration(state.name, detach: false)
    return AttachResult(
      layout: layout, mode: currentMode ?? .auto, programID: firewall.programID,
      replaced: "the previous xdp-block program (id \(state.programInfo.id))",
      keptEntries: kept.count, added: added, repairs: [])
  }

  // MARK: detach

  /// Removes the firewall from the interface — detaches the pinned link (BPF_LINK_DETACH, so
  /// the program leaves the interface even if another process still holds the link open), or
  /// removes its program from the dispatcher, leaving the other programs there running — and
  /// removes the state; also a state that no longer tells the truth, which is how such a
  /// state is cleaned up.
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
      result.programID = state.runningProgramID
      result.hook = state.record.hook
      result.wasAttached = true
    case .broken(let problem, let state):
      result.programID = state?.runningProgramID
      result.hook = state?.record.hook
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
    try store.removeGeneration(name, detach: true)
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
