import Logging
import SystemPackage
import XDPKit

/// How the firewall is configured at load time: its `.rodata` globals.
public struct FirewallConfiguration: Sendable, Equatable {
  /// Whether dropped packets emit drop events into EVENTS (`events_enabled`).
  public var eventsEnabled: Bool
  /// The most events per CPU per second (`events_per_second`); `nil` keeps the program's
  /// default (100).
  public var eventsPerSecond: UInt32?

  /// A configuration; by default events are off.
  public init(eventsEnabled: Bool = false, eventsPerSecond: UInt32? = nil) {
    self.eventsEnabled = eventsEnabled
    self.eventsPerSecond = eventsPerSecond
  }
}

/// The firewall (Programs/xdp_firewall.c, compiled by the package build into the generated
/// ``XDPFirewall``) loaded into the kernel: its program, ready to attach, and its maps.
public final class LoadedFirewall: Sendable {
  /// The program's name in the object.
  public static let programName = "xdp_firewall"

  /// The generated typed object: maps, program, configuration.
  public let typed: XDPFirewall.Loaded
  /// The XDP program.
  public let program: XDPProgram
  /// The maps, as the tool's typed views.
  public let maps: FirewallMaps

  /// The loaded object; owns the program and maps.
  public var loaded: LoadedObject { typed.object }

  /// Loads the firewall with `configuration`.
  ///
  /// Throws ``XDPBlockError/permissionDenied(operation:detail:)`` when the kernel refuses for
  /// lack of privilege and ``XDPBlockError/load(_:)`` for anything else (with the verifier
  /// log, if the verifier refused).
  public init(configuration: FirewallConfiguration = FirewallConfiguration()) throws(XDPBlockError) {
    let typed: XDPFirewall.Loaded
    do {
      typed = try XDPFirewall.load { config in
        config.eventsEnabled = configuration.eventsEnabled ? 1 : 0
        if let perSecond = configuration.eventsPerSecond { config.eventsPerSecond = perSecond }
      }
    } catch let error as LoadError {
      if error.errno == .notPermitted || error.errno == .permissionDenied {
        throw .permissionDenied(operation: "load xdp_firewall", detail: "\(error)")
      }
      var text = "\(error)"
      if let log = error.verifierLog, !log.isEmpty { text += "\nverifier log:\n\(log)" }
      throw .load(text)
    } catch {
      throw .load("the firewall object: \(error)")
    }
    self.typed = typed
    program = typed.xdpFirewall
    do throws(XDPBlockError) {
      let bss: BPFMap
      do { bss = try typed.object.dataMap(SkipWords.mapName) } catch {
        throw XDPBlockError.load("the firewall has no \(SkipWords.mapName) (its skip words): \(error)")
      }
      maps = try FirewallMaps(typed.maps, skipWords: SkipWords(bss))
      // Its tables are empty: the program skips them until an entry is added.
      try maps.markEmptyTables()
    } catch {
      typed.object.close()
      throw error
    }
  }

  /// The kernel's id of the loaded program (what `XDP.attachment(on:)` reports), or `nil`
  /// if it cannot be read.
  public var programID: UInt32? { try? program.program.id }

  /// Attaches the program to `interface` through a bpf_link, from inside `namespace` when
  /// given.
  ///
  /// Refuses with ``XDPBlockError/alreadyAttached(interface:programID:mode:)`` when another
  /// program is attached, or ``XDPBlockError/alreadyManaged(_:)`` when it is the dispatcher
  /// that runs xdp-block's persistent firewall; throws ``XDPBlockError/noSuchInterface(interface:namespace:)`` and
  /// ``XDPBlockError/modeNotSupported(interface:mode:detail:)`` for those cases. With
  /// ``XDPAttachMode/auto`` a driver without native XDP gets generic mode; `logger` is told.
  public func attach(
    to interface: String, namespace: String?, mode: XDPAttachMode, logger: Logger? = nil
  ) throws(XDPBlockError) -> XDPLink {
    do {
      return try SystemSetup.inNetworkNamespace(namespace) { () throws -> XDPLink in
        let state = try Self.attachment(on: interface, namespace: namespace)
        if state.isAttached {
          throw XDPBlockError.alreadyAttached(
            interface: interface, namespace: namespace, programID: state.programID, mode: state.mode.wording)
        }
        do {
          return try program.attach(to: .name(interface), mode: mode, method: .link, logger: logger)
        } catch let error as AttachError {
          throw XDPBlockError.attach(error, interface: interface, namespace: namespace, mode: mode)
        }
      }
    } catch let error as XDPBlockError {
      // xdp-block's own persistent firewall behind a dispatcher: the program attached is the
      // dispatcher, and the firewall one of its programs. Name it as such.
      if case .alreadyAttached(_, _, let programID?, _) = error, let layout = try? PinLayout(interface: interface, namespace: namespace),
        let status = try? PersistentFirewall.status(of: layout, repaired: { logger?.notice("\($0)") }), status.dispatcher?.id == programID
      {
        throw .alreadyManaged(layout)
      }
      throw error
    } catch {
      throw .failed("attach to \(interface): \(error)")
    }
  }

  /// What is attached to `interface` in the calling thread's namespace, with the tool's
  /// errors.
  static func attachment(on interface: String, namespace: String?) throws(XDPBlockError) -> XDPAttachmentState {
    do { return try XDP.attachment(on: .name(interface)) } catch {
      throw XDPBlockError.attach(error, interface: interface, namespace: namespace, mode: .auto)
    }
  }

  /// Adds every entry, in order. Returns the entries that were new.
  @discardableResult
  public func add(_ entries: [BlockEntry]) throws(XDPBlockError) -> [BlockEntry] {
    var added: [BlockEntry] = []
    for entry in entries {
      if try maps.add(entry) { added.append(entry) }
    }
    return added
  }
}

extension XDPAttachmentState.Mode {
  /// The mode in the tool's words: "native", "generic", "offload", "multiple".
  public var wording: String {
    switch self {
    case .driver: return "native"
    case .generic: return "generic"
    case .hardware: return "offload"
    case .multiple: return "multiple"
    default: return description
    }
  }
}

extension XDPAttachMode {
  /// The mode in words for messages: "native (driver)", "generic (skb)".
  public var wording: String {
    switch self {
    case .native: return "native"
    case .generic: return "generic"
    case .offload: return "offload"
    case .auto: return "auto"
    }
  }
}
