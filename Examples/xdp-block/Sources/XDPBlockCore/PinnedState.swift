import XDPKit

/// A published state, opened from its pins: the link, the program it should run, the maps
/// and the record of whom it belongs to.
struct PinnedState {
  /// The state directory's name (`state-…`).
  let name: String
  /// The state directory.
  let directory: BPFFSDirectory
  let record: StateRecord
  let link: XDPLink
  let linkInfo: LinkInfo
  let program: LoadedProgram
  let programInfo: ProgramInfo
  let maps: FirewallMaps
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
    let link: XDPLink
    let linkInfo: LinkInfo
    do {
      link = try XDPLink.open(pinnedAs: Self.linkName, in: generation)
      linkInfo = try link.info()
    } catch {
      throw .unreadable("its link: \(error)")
    }
    let program: LoadedProgram
    let programInfo: ProgramInfo
    do {
      program = try LoadedProgram.open(pinnedAs: Self.programName, in: generation)
      programInfo = try program.info()
    } catch {
      throw .unreadable("its program: \(error)")
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
    let linked = state.linkInfo.xdpInterfaceIndex ?? 0
    if linked == 0 { return .linkDetached }
    if Int32(bitPattern: linked) != record.interfaceIndex {
      return .linkElsewhere(linkIndex: linked, recorded: record.interfaceIndex)
    }
    guard let index = try SystemSetup.interfaceIndex(layout.interface, namespace: layout.namespace) else {
      return .interfaceGone(layout.interface)
    }
    if index != record.interfaceIndex {
      return .interfaceReplaced(name: layout.interface, recorded: record.interfaceIndex, now: index)
    }
    if state.linkInfo.programID != state.programInfo.id {
      return .programMismatch(link: state.linkInfo.programID, pinned: state.programInfo.id)
    }
    let used = Set(state.programInfo.mapIDs)
    let strangers = state.maps.all.filter { entry in (try? entry.map.id).map { !used.contains($0) } ?? true }
    if !strangers.isEmpty { return .mapsNotUsed(strangers.map(\.name)) }
    return nil
  }
}
