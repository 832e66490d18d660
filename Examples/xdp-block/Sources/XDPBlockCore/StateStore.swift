import Glibc
import XDPKit

/// One interface's state directory (see ``PinLayout``), opened through checked directories
/// and locked: the only way xdp-block reads or changes pinned state.
///
/// - **Trust.** Every directory is reached by ``BPFFSDirectory`` (no symbolic links; owned by
///   the effective user, not writable by others; created 0700 whatever the umask).
/// - **Locking.** An exclusive flock(2) on the interface directory serialises every command
///   that reads or changes the state. Another holder is waited for up to ``lockTimeout``.
/// - **Atomic publish.** A new state is built in a fresh `state-…` directory and published by
///   replacing the `current` symbolic link with rename(2), so a reader sees the old state or
///   the new one, never a part.
/// - **Recovery.** Anything but the published state is left over from a process that died
///   mid-change (the lock is held while it exists otherwise); ``collectGarbage()`` undoes it
///   before a command acts.
final class StateStore {
  /// How long a command waits for another xdp-block holding the lock.
  static let lockTimeout: Duration = .seconds(2)
  /// The link naming the published state.
  static let currentName = "current"
  /// The link made next to ``currentName`` and renamed over it to publish.
  static let nextName = "next"
  /// The pins and record in a state directory.
  static let linkName = "link"
  static let programName = "program"
  static let recordName = "record"

  let layout: PinLayout
  /// The interface directory (locked).
  let directory: BPFFSDirectory
  private let lock: BPFFSDirectory.Lock

  private init(layout: PinLayout, directory: BPFFSDirectory, lock: BPFFSDirectory.Lock) {
    self.layout = layout
    self.directory = directory
    self.lock = lock
  }

  /// Opens and locks the interface's directory; with `create`, makes the directories that
  /// are missing. Returns `nil` when there is no directory and `create` is false.
  static func open(_ layout: PinLayout, create: Bool) throws(XDPBlockError) -> StateStore? {
    // A directory removed by another process while this one waited for its lock is left
    // behind and opened anew.
    for _ in 0..<5 {
      let directory: BPFFSDirectory
      do {
        var current = try BPFFSDirectory.open(layout.root, create: create, exclusive: true)
        for component in layout.components {
          current = try current.subdirectory(component, create: create)
        }
        directory = current
      } catch {
        if case .syscall(_, let e) = error, e.errno == .noSuchFileOrDirectory {
          if !create { return nil }
          continue  // a parent was removed between opening it and creating in it
        }
        throw .unsafeState(error)
      }
      let lock: BPFFSDirectory.Lock
      do { lock = try directory.lock(timeout: lockTimeout) } catch {
        if case .lockTimeout = error { throw .busy(layout) }
        throw .unsafeState(error)
      }
      if (try? directory.isRemoved) == false {
        return StateStore(layout: layout, directory: directory, lock: lock)
      }
    }
    throw .busy(layout)
  }

  // MARK: Reading

  /// The name of the published state directory, or `nil` when nothing is published.
  func currentName() throws(XDPBlockError) -> String? {
    let name: String?
    do { name = try directory.readSymbolicLink(Self.currentName) } catch { throw .unsafeState(error) }
    guard let name else { return nil }
    guard Self.isGenerationName(name) else {
      throw .failed("\(directory.pathOf(Self.currentName)) points to \"\(name)\", not to a state directory of xdp-block")
    }
    return name
  }

  /// The published state directory, or `nil` when nothing is published.
  func current() throws(XDPBlockError) -> BPFFSDirectory? {
    guard let name = try currentName() else { return nil }
    do { return try directory.subdirectory(name) } catch { throw .unsafeState(error) }
  }

  static func isGenerationName(_ name: String) -> Bool {
    name.hasPrefix("state-") && name.utf8.dropFirst(6).allSatisfy { (0x30...0x39).contains($0) || $0 == 0x2d }
      && name.utf8.count > 6
  }

  // MARK: Changing

  /// Creates a fresh, empty state directory (mode 0700).
  func makeGeneration() throws(XDPBlockError) -> (name: String, directory: BPFFSDirectory) {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    let name = "state-\(now.tv_sec)-\(now.tv_nsec)-\(getpid())"
    do { return (name, try directory.subdirectory(name, create: true)) } catch { throw .unsafeState(error) }
  }

  /// Makes `name` the published state in one step: a new link `next` renamed over `current`.
  func publish(_ name: String) throws(XDPBlockError) {
    do {
      _ = try directory.remove(Self.nextName)
      try directory.makeSymbolicLink(Self.nextName, target: name)
      try directory.rename(Self.nextName, to: Self.currentName)
    } catch {
      throw .unsafeState(error)
    }
  }

  /// Withdraws the published state (removes `current`), so that the state directory becomes
  /// a left-over that ``collectGarbage()`` removes if this process does not get to it.
  func unpublish() throws(XDPBlockError) {
    do { _ = try directory.remove(Self.currentName) } catch { throw .unsafeState(error) }
  }

  /// Removes a state directory with everything in it. When `detach`, what it attached leaves
  /// the interface first: its link is detached, unless it is the link of the published state
  /// (`keepLinkID`); its program is removed from the interface's dispatcher (the recorded one,
  /// and, for an attach that died before it pinned its program, any it added), unless it is in
  /// `sparing` (the published state's program).
  func removeGeneration(
    _ name: String, detach: Bool, keepLinkID: UInt32? = nil, sparing: Set<UInt32> = []
  ) throws(XDPBlockError) {
    var attached: XDPLink? = nil
    var failure: AttachError? = nil
    if detach, let generation = try? directory.subdirectory(name) {
      try removeFromDispatcher(generation, sparing: sparing)
      if let link = try? XDPLink.open(pinnedAs: Self.linkName, in: generation),
        let info = try? link.info(), info.id != keepLinkID, (info.xdpInterfaceIndex ?? 0) != 0
      {
        attached = link
        do { try link.detach() } catch { failure = error }
      }
    }
    do { try directory.removeTree(name) } catch { throw .unsafeState(error) }
    // A link whose device is going away with its namespace may refuse BPF_LINK_DETACH; once
    // unpinned, it is released with the last descriptor anyway. Only a link that is still
    // attached after that is an error.
    if let attached, let failure, let info = try? attached.info(), (info.xdpInterfaceIndex ?? 0) != 0 {
      throw .failed("detach the link of \(directory.pathOf(name)): \(failure)")
    }
  }

  /// Removes the programs a state directory added to the interface's dispatcher: the one its
  /// record names, and with an ``AttachIntent`` (an attach that had not finished), the
  /// xdp_firewall programs loaded since — but none in `sparing`.
  private func removeFromDispatcher(_ generation: BPFFSDirectory, sparing: Set<UInt32>) throws(XDPBlockError) {
    if let text = try? generation.readSymbolicLink(Self.recordName), let record = StateRecord(text: text),
      case .dispatcher(_, let id) = record.hook, !sparing.contains(id)
    {
      try DispatcherHook.remove(programID: id, layout: layout, interfaceIndex: record.interfaceIndex)
    }
    if let text = try? generation.readSymbolicLink(DispatcherHook.intentName), let intent = AttachIntent(text: text) {
      _ = try DispatcherHook.removeAdded(by: intent, layout: layout, sparing: sparing)
    }
  }

  /// Undoes what a process that died mid-change left behind (any `state-…` directory but the
  /// published one, with the link or dispatcher program it attached, and a stray `next` link),
  /// and puts the published link back on its own program if a replace was cut short between
  /// swapping the program and publishing. Returns a note per repair, for the user.
  @discardableResult
  func collectGarbage() throws(XDPBlockError) -> [String] {
    var notes: [String] = []
    let published = try currentName()
    var publishedLinkID: UInt32? = nil
    var sparing: Set<UInt32> = []
    if let published, let generation = try? directory.subdirectory(published) {
      if let id = try? LoadedProgram.open(pinnedAs: Self.programName, in: generation).id { sparing.insert(id) }
      if let text = try? generation.readSymbolicLink(Self.recordName), let record = StateRecord(text: text),
        case .dispatcher(_, let id) = record.hook
      {
        sparing.insert(id)
      }
      if let link = try? XDPLink.open(pinnedAs: Self.linkName, in: generation), let info = try? link.info() {
        publishedLinkID = info.id
        if let program = try? LoadedProgram.open(pinnedAs: Self.programName, in: generation),
          let programID = try? program.id, programID != info.programID, let fd = link.linkDescriptor
        {
          do { try BPF.updateLink(fd, program: program.fileDescriptor, replacing: nil) } catch {
            throw .failed("put the pinned program back under the link in \(generation.path): \(error)")
          }
          notes.append("restored program id \(programID) under the link of \(layout.interfaceDescription) (a replace was interrupted)")
        }
      }
    }
    let entries: [String]
    do { entries = try directory.entries() } catch { throw .unsafeState(error) }
    for entry in entries where entry != Self.currentName && entry != published {
      if entry == Self.nextName {
        do { _ = try directory.remove(entry) } catch { throw .unsafeState(error) }
      } else if Self.isGenerationName(entry) {
        try removeGeneration(entry, detach: true, keepLinkID: publishedLinkID, sparing: sparing)
        notes.append("removed \(directory.pathOf(entry)), left by an xdp-block that was interrupted")
      }
    }
    return notes
  }

  /// Removes the interface directory, and the namespace's directory when that is empty too,
  /// once nothing is left in it. Holds the lock while doing so; a process waiting for it will
  /// see the directory removed and start over.
  func removeDirectoriesIfEmpty() {
    guard (try? directory.entries().isEmpty) == true else { return }
    guard var parent = try? BPFFSDirectory.open(layout.root) else { return }
    var chain: [BPFFSDirectory] = [parent]
    for component in layout.components.dropLast() {
      guard let next = try? parent.subdirectory(component) else { return }
      chain.append(next)
      parent = next
    }
    var name = layout.components.last ?? ""
    for (index, holder) in chain.enumerated().reversed() {
      guard (try? holder.remove(name)) == true else { return }
      // Keep the top-level "host" and "netns" directories; remove a namespace's when empty.
      if index <= 1 { return }
      name = layout.components[index - 1]
    }
  }
}
