import Foundation
import Logging
import XDPKit

/// The firewall kept attached between commands, like xdp-filter: `attach` loads it, pins its
/// maps and its bpf_link under a ``PinLayout`` directory and exits; `add`, `remove`, `list`
/// and `stats` open the pinned maps; `detach` detaches the link and removes the directory.
///
/// Each command is its own process. Nothing is held in memory between them: the kernel keeps
/// the program attached because the link is pinned, and the entries and counters live in the
/// pinned maps.
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
    /// Whether stale state of an earlier attachment (interface gone, link defunct) was
    /// removed first.
    public var removedStaleState: Bool
  }

  /// What `detach` did.
  public struct DetachResult: Sendable {
    /// The program id the link held, when it could be read.
    public var programID: UInt32?
    /// Whether the link was still attached to an interface (not defunct) before detaching.
    public var wasAttached: Bool
    /// The directory removed.
    public var directory: String
  }

  /// The state of a pinned attachment.
  public struct Status: Sendable {
    /// The pinned link's program id.
    public var programID: UInt32
    /// The link's kernel id.
    public var linkID: UInt32
    /// The interface index the link is attached to; 0 when it is defunct (interface gone,
    /// or detached).
    public var interfaceIndex: UInt32
    /// The interface's XDP state as netlink reports it, when the interface could be queried.
    public var attachment: XDPAttachmentState?
    /// The interface's network namespace, when it was given and no longer exists.
    public var goneNamespace: String?

    /// Whether the link still holds the program on the interface.
    public var isActive: Bool { interfaceIndex != 0 && goneNamespace == nil }

    /// The mode the program runs in, as netlink reports it; `nil` if unknown.
    public var mode: XDPAttachMode? {
      switch attachment?.mode {
      case .some(.driver): return .native
      case .some(.generic): return .generic
      case .some(.hardware): return .offload
      default: return nil
      }
    }

    /// "attached in native mode (program id 42, link id 7)" or "defunct: …".
    public var summary: String {
      if let goneNamespace {
        return "defunct: network namespace \(goneNamespace) no longer exists (link id \(linkID))"
      }
      guard isActive else {
        return "defunct: the link (id \(linkID)) is no longer attached to an interface"
      }
      return "attached in \(mode?.wording ?? "unknown") mode (program id \(programID), link id \(linkID), bpf_link)"
    }
  }

  // MARK: attach

  /// Loads the firewall, pins its maps under `layout.directory`, attaches it to the interface
  /// through a bpf_link and pins the link, then adds `entries`.
  ///
  /// - When another program is attached: refuses with
  ///   ``XDPBlockError/alreadyAttached(interface:programID:mode:)`` unless `replace`, which
  ///   first detaches it through netlink (RTM_SETLINK with fd -1). Between that detach and the
  ///   new attach the interface briefly has no program. A program held by someone else's
  ///   bpf_link cannot be removed that way: ``XDPBlockError/attachedByLink(interface:programID:)``.
  /// - When xdp-block is attached already: refuses with
  ///   ``XDPBlockError/alreadyManaged(interface:directory:)`` unless `replace`, which loads
  ///   the firewall anew (with the new configuration), copies every entry over, and swaps the
  ///   program under the pinned link atomically (BPF_LINK_UPDATE): no packet goes unfiltered.
  ///   Hit counts and statistics start from zero.
  /// - State left by an attachment whose interface is gone is removed first.
  ///
  /// Everything created is removed again when a step fails.
  public static func attach(
    layout: PinLayout, mode: XDPAttachMode, replace: Bool, configuration: FirewallConfiguration,
    entries: [BlockEntry] = [], logger: Logger? = nil
  ) throws(XDPBlockError) -> AttachResult {
    try SystemSetup.mountBPFFileSystemIfNeeded()
    var removedStale = false
    if FileManager.default.fileExists(atPath: layout.directory) {
      if let status = try? status(of: layout), status.isActive {
        guard replace else {
          throw .alreadyManaged(interface: layout.interfaceDescription, directory: layout.directory)
        }
        let current = status.mode
        if mode != .auto, let current, current != mode {
          throw .failed("xdp-block is attached to \(layout.interfaceDescription) in \(current.wording) mode; "
            + "an in-place --replace keeps the mode: detach and attach again to change it")
        }
        return try reload(layout: layout, configuration: configuration, entries: entries, previous: status)
      }
      removeDirectory(layout)
      removedStale = true
    }

    // Look at the interface first, for clear errors before anything is created.
    let existing = try SystemSetup.inNetworkNamespaceTyped(layout.namespace) { () throws(XDPBlockError) in
      try LoadedFirewall.attachment(on: layout.interface, namespace: layout.namespace)
    }
    if existing.isAttached && !replace {
      throw .alreadyAttached(interface: layout.interface, namespace: layout.namespace,
                             programID: existing.programID, mode: existing.mode.wording)
    }

    let firewall = try LoadedFirewall(configuration: configuration)
    defer { firewall.loaded.close() }
    do {
      try FileManager.default.createDirectory(atPath: layout.directory, withIntermediateDirectories: true)
    } catch {
      throw .failed("create \(layout.directory): \(error)")
    }
    var link: XDPLink?
    do throws(XDPBlockError) {
      for (name, map) in firewall.maps.all {
        do { try map.pin(at: layout.mapPath(name)) } catch {
          throw XDPBlockError.map(operation: "pin \(name) at \(layout.mapPath(name))", error)
        }
      }
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
      do { try attached.pin(at: layout.linkPath) } catch {
        throw XDPBlockError.failed("pin the link at \(layout.linkPath): \(error)")
      }
      return AttachResult(
        layout: layout, mode: attached.mode, programID: firewall.programID, replaced: replaced,
        keptEntries: 0, added: added, removedStaleState: removedStale)
    } catch {
      if let link { try? link.detach() }
      removeDirectory(layout)
      throw error
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
  /// the old one, swapped in under the pinned link.
  private static func reload(
    layout: PinLayout, configuration: FirewallConfiguration, entries: [BlockEntry], previous: Status
  ) throws(XDPBlockError) -> AttachResult {
    let oldMaps = try FirewallMaps(pinnedIn: layout)
    let kept = try oldMaps.entries().map(\.entry)
    let firewall = try LoadedFirewall(configuration: configuration)
    defer { firewall.loaded.close() }
    _ = try firewall.add(kept)
    let added = try firewall.add(entries)

    // Pin the new maps beside the old ones, swap the program, then move the pins over.
    let staging = layout.directory + "/replacing"
    try? FileManager.default.removeItem(atPath: staging)
    do { try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false) } catch {
      throw .failed("create \(staging): \(error)")
    }
    defer { try? FileManager.default.removeItem(atPath: staging) }
    for (name, map) in firewall.maps.all {
      do { try map.pin(at: staging + "/" + name) } catch {
        throw .map(operation: "pin \(name) at \(staging)/\(name)", error)
      }
    }
    let link: XDPLink
    do {
      link = try XDPLink.open(pinnedAt: layout.linkPath)
      try link.replace(with: firewall.program)
    } catch {
      throw .failed("replace the program under \(layout.linkPath): \(error)")
    }
    for (name, _) in firewall.maps.all {
      // rename(2) within bpffs replaces the old pin in one step.
      if rename(staging + "/" + name, layout.mapPath(name)) != 0 {
        throw .failed("move the new \(name) pin into \(layout.directory): errno \(errno)")
      }
    }
    return AttachResult(
      layout: layout, mode: previous.mode ?? .auto, programID: firewall.programID,
      replaced: "the previous xdp-block program (id \(previous.programID))",
      keptEntries: kept.count, added: added, removedStaleState: false)
  }

  // MARK: status, maps, detach

  /// The pinned link's state, and the interface's XDP state queried from inside its namespace.
  ///
  /// Throws ``XDPBlockError/notAttached(_:)`` when no link is pinned.
  public static func status(of layout: PinLayout) throws(XDPBlockError) -> Status {
    guard FileManager.default.fileExists(atPath: layout.linkPath) else {
      throw .notAttached(layout)
    }
    let info: LinkInfo
    do { info = try XDPLink.open(pinnedAt: layout.linkPath).info() } catch {
      throw .failed("read the link pinned at \(layout.linkPath): \(error)")
    }
    var status = Status(programID: info.programID, linkID: info.id,
                        interfaceIndex: info.xdpInterfaceIndex ?? 0, attachment: nil)
    if let namespace = layout.namespace,
      !FileManager.default.fileExists(atPath: "\(namedNetworkNamespaceDirectory)/\(namespace)")
    {
      status.goneNamespace = namespace
    }
    if status.isActive {
      status.attachment = try? SystemSetup.inNetworkNamespace(layout.namespace) {
        try XDP.attachment(on: .name(layout.interface))
      }
    }
    return status
  }

  /// The pinned maps of `layout`, for `add`, `remove`, `list` and `stats`.
  public static func maps(_ layout: PinLayout) throws(XDPBlockError) -> FirewallMaps {
    try FirewallMaps(pinnedIn: layout)
  }

  /// Detaches the pinned link (BPF_LINK_DETACH, so the program leaves the interface even if
  /// another process still holds the link open), then removes the pin directory.
  ///
  /// Throws ``XDPBlockError/notAttached(_:)`` when there is no directory.
  public static func detach(layout: PinLayout) throws(XDPBlockError) -> DetachResult {
    guard FileManager.default.fileExists(atPath: layout.directory) else {
      throw .notAttached(layout)
    }
    var result = DetachResult(programID: nil, wasAttached: false, directory: layout.directory)
    if FileManager.default.fileExists(atPath: layout.linkPath) {
      do {
        let link = try XDPLink.open(pinnedAt: layout.linkPath)
        let info = try link.info()
        result.programID = info.programID
        let linked = (info.xdpInterfaceIndex ?? 0) != 0
        let namespaceGone = layout.namespace.map {
          !FileManager.default.fileExists(atPath: "\(namedNetworkNamespaceDirectory)/\($0)")
        } ?? false
        result.wasAttached = linked && !namespaceGone
        // A namespace being deleted may still hold the device for a moment: detach all the same.
        if linked {
          do { try link.detach() } catch where namespaceGone {
            // The device went with its namespace; so did the attachment.
          }
        }
      } catch {
        throw .failed("detach the link pinned at \(layout.linkPath): \(error)")
      }
    }
    removeDirectory(layout)
    return result
  }

  /// Removes the interface's directory with everything pinned in it, then the namespace's
  /// directory and the root when they are left empty.
  static func removeDirectory(_ layout: PinLayout) {
    try? FileManager.default.removeItem(atPath: layout.directory)
    for directory in [layout.namespaceDirectory, layout.root] where directory != layout.directory {
      // rmdir(2) removes only an empty directory: another interface's state stays.
      _ = rmdir(directory)
    }
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
