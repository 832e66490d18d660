import XDPKit

/// A published state, opened from its pins: the link (for a firewall attached alone), the
/// program that should run, the maps and the record of whom it belongs to.
struct PinnedState {
  /// The state directory's name (`state-…`).
  let name: String
  /// The state directory.
  let directory: BPFFSDirectory
  let record: StateRecord
  /// The pinned link and what the kernel says of it; `nil` for a firewall behind a dispatcher.
  let link: XDPLink?
  let linkInfo: LinkInfo?
  let program: LoadedProgram
  let programInfo: ProgramInfo
  let maps: FirewallMaps

  /// The id of the program running on the interface for this state: the link's, or the
  /// dispatcher component's.
  var runningProgramID: UInt32 { linkInfo?.programID ?? programInfo.id }
}

/// Why a published state cannot be acted on: what a command found when it checked the state
/// before acting.
public enum StateProblem: Error, Sendable, Equatable, CustomStringConvertible {
  /// A pin or the record is missing or is not what it should be.
  case unreadable(String)
  /// The link is no longer attached to any interface.
  case linkDetached
  /// The state's network namespace no longer exists.
  case namespaceGone(String)
  /// A network namespace of the same name exists, but it is a later one.
  case namespaceReplaced(String)
  /// The state was made from another network namespace than this process's.
  case hostNamespaceDiffers
  /// The interface no longer exists.
  case interfaceGone(String)
  /// An interface of that name exists, but it is not the one the state was made for.
  case interfaceReplaced(name: String, recorded: Int32, now: Int32)
  /// The link is attached to another interface index than the recorded one.
  case linkElsewhere(linkIndex: UInt32, recorded: Int32)
  /// The link runs another program than the pinned one.
  case programMismatch(link: UInt32, pinned: UInt32)
  /// Pinned maps the program does not use.
  case mapsNotUsed([String])
  /// The program has skip words (its `.bss` map), but they are not pinned at `path`: no
  /// command could keep them true, so none acts on the state.
  case skipWordsNotPinned(path: String)
  /// The firewall was added to the interface's multi-program dispatcher, but its program is
  /// no longer one of the programs there (another loader removed it, or replaced the
  /// interface's program); `now` says what runs there.
  case leftDispatcher(programID: UInt32, interface: String, now: String)

  public var description: String {
    switch self {
    case .unreadable(let what): return what
    case .linkDetached: return "its link is no longer attached to an interface"
    case .namespaceGone(let name): return "network namespace \(name) no longer exists"
    case .namespaceReplaced(let name):
      return "network namespace \(name) was deleted and made again since the firewall was attached"
    case .hostNamespaceDiffers:
      return "it was attached from another network namespace than this command runs in"
    case .interfaceGone(let name): return "interface \(name) no longer exists"
    case .interfaceReplaced(let name, let recorded, let now):
      return "interface \(name) is now index \(now), but the firewall was attached to index \(recorded)"
    case .linkElsewhere(let index, let recorded):
      return "its link is attached to interface index \(index), not to the recorded index \(recorded)"
    case .programMismatch(let link, let pinned):
      return "its link runs program id \(link), not the pinned program id \(pinned)"
    case .mapsNotUsed(let names):
      return "the pinned maps \(names.joined(separator: ", ")) are not the maps its program uses"
    case .skipWordsNotPinned(let path):
      return "its program has skip words (.bss), but \(path) is missing: detach and attach again"
    case .leftDispatcher(let id, let interface, let now):
      return "its program id \(id) is no longer one of the XDP programs on \(interface) (now \(now)); "
        + "another loader removed it (xdp-loader unload?)"
    }
  }
}

/// What a command finds in an interface's state directory.
enum StateCheck {
  /// Nothing is published.
  case absent
  /// A state is published and belongs to the interface: the link holds the pinned program on
  /// it, with the pinned maps.
  case active(PinnedState)
  /// A state is published but does not tell the truth about the interface.
  case broken(StateProblem, PinnedState?)
}

extension StateStore {
  /// Opens the published state and checks it against the interface, its namespace, the link
  /// and the program, in that order.
  func check() throws(XDPBlockError) -> StateCheck {
    guard let name = try currentName() else { return .absent }
    let generation: BPFFSDirectory
    do { generation = try directory.subdirectory(name) } catch {
      return .broken(.unreadable("\(error)"), nil)
    }
    let state: PinnedState
    do {
      state = try open(name: name, generation)
    } catch {
      return .broken(error, nil)
    }
    if let problem = try problem(with: state) { return .broken(problem, state) }
    return .active(state)
  }

  private func open(name: String, _ generation: BPFFSDirectory) throws(StateProblem) -> PinnedState {
    guard let text = try? generation.readSymbolicLink(Self.recordName), let record = StateRecord(text: text) else {
      throw .unreadable("its record (\(generation.pathOf(Self.recordName))) is missing or unreadable")
    }
    var link: XDPLink? = nil
    var linkInfo: LinkInfo? = nil
    if record.hook == .link {
      do {
        let opened = try XDPLink.open(pinnedAs: Self.linkName, in: generation)
        linkInfo = try opened.info()
        link = opened
      } catch {
        throw .unreadable("its link: \(error)")
      }
    }
    let program: LoadedProgram
    let programInfo: ProgramInfo
    do {
      program = try LoadedProgram.open(pinnedAs: Self.programName, in: generation)
      programInfo = try program.info()
    } catch {
      throw .unreadable("its program: \(error)")
    }
    if case .dispatcher(_, let recorded) = record.hook, recorded != programInfo.id {
      throw .unreadable("its record names program id \(recorded), but the pinned program is id \(programInfo.id)")
    }
    let maps: FirewallMaps
    do { maps = try FirewallMaps(pinnedIn: generation) } catch {
      throw .unreadable("its maps: \(error)")
    }
    return PinnedState(
      name: name, directory: generation, record: record, link: link, linkInfo: linkInfo, program: program,
      programInfo: programInfo, maps: maps)
  }

  private func problem(with state: PinnedState) throws(XDPBlockError) -> StateProblem? {
    let record = state.record
    do {
      let inode = try SystemSetup.namespaceInode(layout.namespace)
      if inode != record.namespaceInode {
        return layout.namespace.map { .namespaceReplaced($0) } ?? .hostNamespaceDiffers
      }
    } catch {
      switch error {
      case .noSuchNamespace(let name), .notANamespace(let name, _): return .namespaceGone(name)
      default: throw error
      }
    }
    if let linkInfo = state.linkInfo {
      let linked = linkInfo.xdpInterfaceIndex ?? 0
      if linked == 0 { return .linkDetached }
      if Int32(bitPattern: linked) != record.interfaceIndex {
        return .linkElsewhere(linkIndex: linked, recorded: record.interfaceIndex)
      }
    }
    guard let index = try SystemSetup.interfaceIndex(layout.interface, namespace: layout.namespace) else {
      return .interfaceGone(layout.interface)
    }
    if index != record.interfaceIndex {
      return .interfaceReplaced(name: layout.interface, recorded: record.interfaceIndex, now: index)
    }
    if let linkInfo = state.linkInfo, linkInfo.programID != state.programInfo.id {
      return .programMismatch(link: linkInfo.programID, pinned: state.programInfo.id)
    }
    if case .dispatcher = record.hook {
      let id = state.programInfo.id
      let programs: XDPInterfacePrograms
      do { programs = try DispatcherHook.programs(layout) } catch {
        return .leftDispatcher(programID: id, interface: layout.interfaceDescription, now: "unreadable: \(error)")
      }
      if case .dispatcher(let dispatcher) = programs, dispatcher.components.contains(where: { $0.id == id }) {
        // Still there.
      } else {
        return .leftDispatcher(programID: id, interface: layout.interfaceDescription, now: programs.wording)
      }
    }
    if state.maps.skipWords == nil, Self.hasUnpinnedSkipWords(state) {
      return .skipWordsNotPinned(path: state.directory.pathOf(SkipWords.pinName))
    }
    let used = Set(state.programInfo.mapIDs)
    let strangers = state.maps.all.filter { entry in (try? entry.map.id).map { !used.contains($0) } ?? true }
    if !strangers.isEmpty { return .mapsNotUsed(strangers.map(\.name)) }
    return nil
  }
}

extension StateStore {
  /// Whether the program of a state without a skip-words pin uses a map besides the pinned
  /// ones and its `.rodata` (its configuration, never pinned): the `.bss` of a firewall built
  /// with skip words. State pinned by an older build has neither the pin nor the map. Counted
  /// from the program's map ids, which needs no privilege beyond the pins'.
  static func hasUnpinnedSkipWords(_ state: PinnedState) -> Bool {
    let pinned = Set(state.maps.all.compactMap { try? $0.map.id })
    return Set(state.programInfo.mapIDs).subtracting(pinned).count > 1
  }
}

extension XDPInterfacePrograms {
  /// "no XDP program", "program xdp_pass (id 41) alone", "dispatcher id 40 with xdp_mark (id 41)".
  public var wording: String {
    switch self {
    case .none: return "no XDP program"
    case .single(let id, let name, _): return "program \(name) (id \(id)) alone"
    case .dispatcher(let dispatcher):
      let programs = dispatcher.components.map { "\($0.name) (id \($0.id))" }
      return "dispatcher id \(dispatcher.id) with " + (programs.isEmpty ? "no programs" : programs.joined(separator: ", "))
    }
  }
}
