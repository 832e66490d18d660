import XDPKit

extension PersistentFirewall {
  /// The state of a pinned attachment, for `status`, `list` and `stats`.
  public struct Status: Sendable {
    /// The firewall's program id (the one the link runs, or the dispatcher component's).
    public var programID: UInt32
    /// The pinned link's kernel id; `nil` behind a dispatcher.
    public var linkID: UInt32?
    /// How the firewall is attached.
    public var hook: StateRecord.Hook
    /// The interface's XDP state as netlink reports it, when it could be queried.
    public var attachment: XDPAttachmentState?
    /// Every XDP program on the interface (the dispatcher and its programs, the firewall's
    /// neighbours among them), when it could be read.
    public var programs: XDPInterfacePrograms?
    /// The configuration the firewall was loaded with.
    public var configuration: FirewallConfiguration
    /// The tables the program skips although they hold entries (see
    /// ``FirewallMaps/skippedTablesWithEntries()``), or `nil` when that could not be read.
    public var skippedTablesWithEntries: [SkipWords.Table]? = nil

    /// A warning per table the program skips although it holds entries, naming the pin and
    /// what to do; none when the skip words tell the truth.
    public var skipWarnings: [String] {
      (skippedTablesWithEntries ?? []).map { table in
        let name = FirewallMaps.mapName(table)
        return "the program skips \(name) (its skip word in the pinned \(SkipWords.pinName) is set) although \(name) "
          + "holds entries: their traffic passes; `xdp-block attach --replace` reloads the program with true skip words"
      }
    }

    /// The mode the program runs in, as netlink reports it; `nil` if unknown.
    public var mode: XDPAttachMode? { attachment.flatMap { Self.mode(of: $0) } }

    /// The mode netlink reports for an attachment.
    static func mode(of attachment: XDPAttachmentState) -> XDPAttachMode? {
      switch attachment.mode {
      case .driver: return .native
      case .generic: return .generic
      case .hardware: return .offload
      default: return nil
      }
    }

    /// The dispatcher the firewall runs behind, when it does.
    public var dispatcher: XDPDispatcherInfo? {
      guard case .dispatcher(let dispatcher) = programs else { return nil }
      return dispatcher
    }

    /// The firewall's entry in the dispatcher.
    public var component: XDPComponentInfo? { dispatcher?.components.first { $0.id == programID } }

    /// The other programs of the dispatcher, in run order.
    public var neighbours: [XDPComponentInfo] { dispatcher?.components.filter { $0.id != programID } ?? [] }

    /// "attached in native mode (program id 42, link id 7, bpf_link)", or behind a
    /// dispatcher "attached in native mode (program id 42, behind dispatcher id 40, priority
    /// 10, chain on XDP_PASS; 1 other program)".
    public var summary: String {
      let mode = "attached in \(self.mode?.wording ?? "unknown") mode"
      guard case .dispatcher = hook else {
        return mode + " (program id \(programID), link id \(linkID.map(String.init) ?? "?"), bpf_link)"
      }
      var words = "program id \(programID), behind dispatcher id \(dispatcher.map { String($0.id) } ?? "?")"
      if let component { words += ", \(component.runConfig.priorityAndChain)" }
      let others = neighbours.count
      words += "; \(others == 0 ? "no" : String(others)) other program\(others == 1 ? "" : "s")"
      return mode + " (\(words))"
    }

    /// The interface's programs as a table in run order, the firewall marked: a line for a
    /// program alone, or the dispatcher's programs.
    ///
    /// ```
    /// PRIO  NAME              ID      CHAIN ON
    /// 10    xdp_firewall      42      XDP_PASS            <- xdp-block
    /// 20    xdp_mark          41      XDP_PASS,XDP_DROP
    /// ```
    public var programTable: [String] {
      guard let dispatcher else { return [] }
      var lines = [pad("PRIO", 6) + pad("NAME", 18) + pad("ID", 8) + "CHAIN ON"]
      for component in dispatcher.components {
        let chain = component.runConfig.chainCallActionNames.joined(separator: ",")
        var line = pad("\(component.runConfig.priority)", 6) + pad(component.name, 18) + pad("\(component.id)", 8)
        line += component.id == programID ? pad(chain, 20) + "<- xdp-block" : chain
        lines.append(line)
      }
      return lines
    }

    private func pad(_ text: String, _ width: Int) -> String {
      text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
  }

  // MARK: status, maps

  /// Runs `body` with the interface's active state while holding the interface's lock, after
  /// repairing what an interrupted command left. Each repair is passed to `repaired` as it is
  /// made, also when the state then turns out absent or broken, so that no command repairs
  /// silently. Throws ``XDPBlockError/notAttached(_:)`` when nothing is attached and
  /// ``XDPBlockError/brokenState(_:_:)`` when the state does not tell the truth.
  static func withActiveState<R>(
    _ layout: PinLayout, repaired: (String) -> Void, _ body: (PinnedState) throws(XDPBlockError) -> R
  ) throws(XDPBlockError) -> R {
    guard let store = try StateStore.open(layout, create: false) else { throw .notAttached(layout) }
    // The lock is released when the store goes: keep it until the body has returned.
    defer { withExtendedLifetime(store) {} }
    for note in try store.collectGarbage() { repaired(note) }
    switch try store.check() {
    case .absent: throw .notAttached(layout)
    case .broken(let problem, _): throw .brokenState(layout, problem)
    case .active(let state):
      CrashPoint.reach("state-locked")
      return try body(state)
    }
  }

  /// The status of `state`, with what runs on the interface now.
  static func status(of state: PinnedState, layout: PinLayout) -> Status {
    let attachment = try? SystemSetup.inNetworkNamespace(layout.namespace) {
      try XDP.attachment(on: .name(layout.interface))
    }
    var programs: XDPInterfacePrograms? = nil
    if case .dispatcher = state.record.hook { programs = try? DispatcherHook.programs(layout) }
    return Status(
      programID: state.runningProgramID, linkID: state.linkInfo?.id, hook: state.record.hook, attachment: attachment,
      programs: programs, configuration: state.record.configuration,
      skippedTablesWithEntries: try? state.maps.skippedTablesWithEntries())
  }

  /// The pinned attachment's state, checked, with the interface's XDP mode and programs.
  /// What was repaired first (see ``withMaps(_:repaired:_:)``) goes to `repaired`.
  public static func status(of layout: PinLayout, repaired: (String) -> Void) throws(XDPBlockError) -> Status {
    try withActiveState(layout, repaired: repaired) { state throws(XDPBlockError) in status(of: state, layout: layout) }
  }

  /// Runs `body` with the pinned maps of the interface's active state and its status, for
  /// `add`, `remove`, `list`, `stats` and `log`, while holding the interface's lock: no
  /// `attach --replace` or `detach` runs between reading the state and the body's last map
  /// change, so a change the body reports is in the maps the firewall runs with.
  ///
  /// Everything that changes the maps belongs in `body`; what it returns must not be used to
  /// change them afterwards (the lock is gone then, and a replace may retire those maps).
  /// What was repaired before (left-overs of an interrupted command, see
  /// ``StateStore/collectGarbage()``) goes to `repaired`, one note a repair, before `body`
  /// runs — also when the command then fails, because the repair left nothing attached.
  ///
  /// Throws ``XDPBlockError/notAttached(_:)``, ``XDPBlockError/brokenState(_:_:)``,
  /// ``XDPBlockError/busy(_:)`` when another command holds the lock for longer than
  /// ``StateStore/lockTimeout``, or what `body` throws.
  public static func withMaps<R>(
    _ layout: PinLayout, repaired: (String) -> Void, _ body: (FirewallMaps, Status) throws(XDPBlockError) -> R
  ) throws(XDPBlockError) -> R {
    try withActiveState(layout, repaired: repaired) { state throws(XDPBlockError) in
      try body(state.maps, status(of: state, layout: layout))
    }
  }

  /// What runs in XDP on the layout's interface, whoever attached it (for `status` when
  /// xdp-block is not attached).
  public static func programs(on layout: PinLayout) throws(XDPBlockError) -> XDPInterfacePrograms {
    try DispatcherHook.programs(layout)
  }
}
