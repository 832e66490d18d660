import XDPKit

/// `attach` behind the interface's multi-program dispatcher: the firewall is one program of
/// the dispatcher (added with libxdp's protocol, pinned by it under /sys/fs/bpf/xdp), and its
/// program and maps are pinned in xdp-block's state directory as well.
///
/// The steps, each a point a SIGKILL may cut (``CrashPoint``):
/// 1. a new state directory with an ``AttachIntent`` (`attach-intent`);
/// 2. the firewall is added to the dispatcher (`attach-component-added`);
/// 3. its entries are written, its program, maps and record pinned, the intent removed
///    (`attach-component-pinned`);
/// 4. the state is published (`attach-published`).
///
/// The next command removes a state directory that was not published, and with it the
/// program it added: the one its record names, or — killed between 2 and 3 — the
/// xdp_firewall programs loaded since its intent.
extension PersistentFirewall {
  /// What an attempt to attach behind a dispatcher came to.
  enum DispatcherOutcome {
    case attached(AttachResult)
    /// The kernel refuses freplace programs; the interface was left as it was.
    case unavailable(String)
  }

  /// Adds the firewall to the interface's dispatcher (a new one if there is none) and
  /// publishes its state. When the kernel refuses freplace programs and the interface had no
  /// dispatcher (`joining` false), returns ``DispatcherOutcome/unavailable(_:)`` having
  /// changed nothing.
  static func attachBehindDispatcher(
    store: StateStore, record: StateRecord, mode: XDPAttachMode, priority: UInt32?, entries: [BlockEntry],
    joining: Bool
  ) throws(XDPBlockError) -> DispatcherOutcome {
    let layout = store.layout
    let component = try DispatcherHook.component(configuration: record.configuration)
    let (name, generation) = try store.makeGeneration()
    do throws(XDPBlockError) {
      let intent = AttachIntent.now(interfaceIndex: record.interfaceIndex)
      do { try generation.makeSymbolicLink(DispatcherHook.intentName, target: intent.text) } catch {
        throw XDPBlockError.unsafeState(error)
      }
      CrashPoint.reach("attach-intent")
      let attachment: XDPComponentAttachment
      do { attachment = try DispatcherHook.add(component, layout: layout, mode: mode, priority: priority) } catch {
        if !joining, let reason = DispatcherHook.freplaceUnavailable(error) {
          try store.removeGeneration(name, detach: false)
          return .unavailable(reason)
        }
        throw translate(error, layout: layout)
      }
      defer { attachment.object.close() }
      CrashPoint.reach("attach-component-added")
      let (published, dispatcher) = try pinComponent(
        attachment, record: record, kept: [], entries: entries, in: generation, store: store, name: name,
        pinnedPoint: "attach-component-pinned")
      CrashPoint.reach("attach-published")
      var result = AttachResult(
        layout: layout, mode: dispatcher.mode, programID: attachment.programID, replaced: nil, keptEntries: 0,
        added: published, repairs: [])
      result.hook = .dispatcher(dispatcherID: dispatcher.id, programID: attachment.programID)
      result.dispatcher = dispatcher
      return .attached(result)
    } catch {
      try? store.removeGeneration(name, detach: true)
      store.removeDirectoriesIfEmpty()
      throw error
    }
  }

  /// `attach --replace` over xdp-block's own program behind a dispatcher: a new firewall
  /// joins the dispatcher (with the old one's priority unless `priority` is given) and gets
  /// the old one's entries, its state is published, then the old program leaves the
  /// dispatcher. While both run, a packet passes through both; none goes unfiltered.
  static func reloadComponent(
    store: StateStore, state: PinnedState, configuration: FirewallConfiguration, entries: [BlockEntry],
    mode: XDPAttachMode, priority: UInt32?
  ) throws(XDPBlockError) -> AttachResult {
    let layout = store.layout
    let oldID = state.programInfo.id
    let kept = try state.maps.entries().map(\.entry)
    var installed: UInt32? = nil
    if case .dispatcher(let dispatcher) = try DispatcherHook.programs(layout) {
      installed = dispatcher.components.first { $0.id == oldID }?.runConfig.priority
    }
    var record = state.record
    record.configuration = configuration
    let component = try DispatcherHook.component(configuration: configuration)
    let (name, generation) = try store.makeGeneration()
    let result: AttachResult
    do throws(XDPBlockError) {
      let intent = AttachIntent.now(interfaceIndex: record.interfaceIndex)
      do { try generation.makeSymbolicLink(DispatcherHook.intentName, target: intent.text) } catch {
        throw XDPBlockError.unsafeState(error)
      }
      let attachment: XDPComponentAttachment
      do {
        attachment = try DispatcherHook.add(component, layout: layout, mode: mode, priority: priority ?? installed)
      } catch {
        throw translate(error, layout: layout)
      }
      defer { attachment.object.close() }
      CrashPoint.reach("replace-component-added")
      let (added, dispatcher) = try pinComponent(
        attachment, record: record, kept: kept, entries: entries, in: generation, store: store, name: name,
        pinnedPoint: "replace-component-pinned")
      var reloaded = AttachResult(
        layout: layout, mode: dispatcher.mode, programID: attachment.programID,
        replaced: "the previous xdp-block program (id \(oldID))", keptEntries: kept.count, added: added, repairs: [])
      reloaded.hook = .dispatcher(dispatcherID: dispatcher.id, programID: attachment.programID)
      result = reloaded
    } catch {
      try? store.removeGeneration(name, detach: true, sparing: [oldID])
      throw error
    }
    CrashPoint.reach("replace-published")
    guard case .dispatcher(_, let newID) = result.hook else { return result }
    try store.removeGeneration(state.name, detach: true, sparing: [newID])
    var final = result
    if case .dispatcher(let dispatcher) = try? DispatcherHook.programs(layout) {
      final.dispatcher = dispatcher
      final.hook = .dispatcher(dispatcherID: dispatcher.id, programID: newID)
    }
    return final
  }

  /// Step 3 and 4 of an attach behind a dispatcher: writes `kept` (in bulk) and `entries`
  /// into the new firewall's maps, pins its program, maps and record (naming the dispatcher
  /// and program), removes the intent and publishes the state. Returns the entries of
  /// `entries` that were new and the dispatcher.
  private static func pinComponent(
    _ attachment: XDPComponentAttachment, record: StateRecord, kept: [BlockEntry], entries: [BlockEntry],
    in generation: BPFFSDirectory, store: StateStore, name: String, pinnedPoint: String
  ) throws(XDPBlockError) -> (added: [BlockEntry], dispatcher: XDPDispatcherInfo) {
    let maps = try FirewallMaps(loaded: attachment.object)
    try maps.markEmptyTables()
    if !kept.isEmpty { _ = try maps.add(contentsOf: kept) }
    var added: [BlockEntry] = []
    for entry in entries where try maps.add(entry) { added.append(entry) }
    guard case .dispatcher(let dispatcher) = try DispatcherHook.programs(store.layout),
      dispatcher.components.contains(where: { $0.id == attachment.programID })
    else {
      throw .failed("xdp_firewall (program id \(attachment.programID)) was added to the dispatcher on "
        + "\(store.layout.interfaceDescription), but is no longer there: another loader changed it meanwhile")
    }
    var pinned = record
    pinned.hook = .dispatcher(dispatcherID: dispatcher.id, programID: attachment.programID)
    try pinObjects(program: attachment.program, maps: maps, record: pinned, in: generation)
    do { _ = try generation.remove(DispatcherHook.intentName) } catch { throw .unsafeState(error) }
    CrashPoint.reach(pinnedPoint)
    try store.publish(name)
    return (added, dispatcher)
  }

  /// Words a dispatcher error: a program that is not a dispatcher (attached by someone
  /// meanwhile) is ``XDPBlockError/alreadyAttached(interface:namespace:programID:mode:)``.
  static func translate(_ error: MultiProgramError, layout: PinLayout) -> XDPBlockError {
    switch error {
    case .notADispatcher(let id, _, _):
      return .alreadyAttached(interface: layout.interface, namespace: layout.namespace, programID: id, mode: nil)
    case .interface(let attachError):
      return .attach(attachError, interface: layout.interface, namespace: layout.namespace, mode: .auto)
    default:
      return .dispatcher(error, interface: layout.interfaceDescription)
    }
  }
}
