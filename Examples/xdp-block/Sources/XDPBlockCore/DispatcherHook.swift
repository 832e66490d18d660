import XDPKit
import XDPPrograms

/// xdp-block's firewall as one program of an interface's multi-program dispatcher (libxdp's
/// protocol, see Sources/XDPKit/Documentation.docc/MultiProgram.md), next to programs of xdp-loader, xdp-filter
/// or other XDPKit tools.
///
/// Every call here runs its network calls inside the layout's network namespace. The
/// dispatcher's own pins live under `/sys/fs/bpf/xdp` (`LIBXDP_BPFFS`), shared with every
/// loader; xdp-block pins the firewall's program and maps in its state directory as well, so
/// that `add`, `list` and `stats` find them and `detach` knows which program is its own.
enum DispatcherHook {
  /// The name of the pinned ``AttachIntent`` in a state directory being built.
  static let intentName = "intent"

  /// The firewall's program as a dispatcher component, with `configuration`'s globals.
  static func component(configuration: FirewallConfiguration) throws(XDPBlockError) -> XDPComponent {
    let object: BPFObject
    do { object = try BPFObject(bytes: XDPPrograms.firewall) } catch {
      throw .load("the embedded xdp_firewall object: \(error)")
    }
    return XDPComponent(object: object, program: LoadedFirewall.programName, options: configuration.loadOptions)
  }

  /// What runs in XDP on the layout's interface.
  static func programs(_ layout: PinLayout) throws(XDPBlockError) -> XDPInterfacePrograms {
    try SystemSetup.inNetworkNamespaceTyped(layout.namespace) { () throws(XDPBlockError) in
      do throws(MultiProgramError) { return try XDP.programs(on: .name(layout.interface)) } catch {
        throw XDPBlockError.dispatcher(error, interface: layout.interfaceDescription)
      }
    }
  }

  /// Adds the firewall to the interface's dispatcher (a new one when the interface has no
  /// program), with `priority` or else the object's run configuration (priority 50, chain on
  /// XDP_PASS: what the firewall passes goes on to the next program, what it drops does not).
  static func add(
    _ component: XDPComponent, layout: PinLayout, mode: XDPAttachMode, priority: UInt32?
  ) throws(MultiProgramError) -> XDPComponentAttachment {
    do {
      return try SystemSetup.inNetworkNamespace(layout.namespace) { () throws -> XDPComponentAttachment in
        try component.attach(to: .name(layout.interface), mode: mode, priority: priority)
      }
    } catch let error as MultiProgramError {
      throw error
    } catch {
      throw .dispatcherUnusable("enter network namespace \(layout.namespace ?? "?"): \(error)")
    }
  }

  /// Why the kernel cannot run the firewall behind a dispatcher, when `error` says it cannot
  /// load freplace (BPF_PROG_TYPE_EXT) programs at all: under lockdown, or a kernel without
  /// them (EINVAL and no verifier log). `nil` for any other failure.
  static func freplaceUnavailable(_ error: MultiProgramError) -> String? {
    guard case .componentLoad(_, let load) = error else { return nil }
    switch load {
    case .lockedDown(_, _, let mode):
      return "the kernel is under lockdown (\(mode)), which refuses freplace (BPF_PROG_TYPE_EXT) programs"
    case .program(_, let failure) where failure.syscall.errno == .invalidArgument && failure.verifierLog.isEmpty:
      return "the kernel refuses freplace (BPF_PROG_TYPE_EXT) programs (EINVAL)"
    default:
      return nil
    }
  }

  /// Removes program `id` from the dispatcher on the layout's interface if it is still one of
  /// its programs and the interface is still the one of index `interfaceIndex`. Returns
  /// whether it was removed; an interface or namespace that is gone has nothing to remove.
  @discardableResult
  static func remove(programID id: UInt32, layout: PinLayout, interfaceIndex: Int32) throws(XDPBlockError) -> Bool {
    guard try isSameInterface(layout, interfaceIndex) else { return false }
    guard case .dispatcher(let dispatcher) = try programs(layout), dispatcher.components.contains(where: { $0.id == id })
    else { return false }
    try SystemSetup.inNetworkNamespaceTyped(layout.namespace) { () throws(XDPBlockError) in
      do throws(MultiProgramError) { try XDP.removeProgram(id: id, from: .name(layout.interface)) } catch {
        if case .notAttached = error { return }  // someone else removed it meanwhile
        throw XDPBlockError.dispatcher(error, interface: layout.interfaceDescription)
      }
    }
    return true
  }

  /// Removes what an attach that died after adding the firewall (but before pinning it) left
  /// in the dispatcher: programs named xdp_firewall loaded since the intent, except `sparing`
  /// (the published state's program). Returns the ids removed.
  static func removeAdded(by intent: AttachIntent, layout: PinLayout, sparing: Set<UInt32>) throws(XDPBlockError)
    -> [UInt32]
  {
    guard try isSameInterface(layout, intent.interfaceIndex),
      case .dispatcher(let dispatcher) = try programs(layout)
    else { return [] }
    var removed: [UInt32] = []
    for component in dispatcher.components where component.name == LoadedFirewall.programName && !sparing.contains(component.id) {
      guard let info = try? BPF.programInfo(try BPF.openProgram(id: component.id)), info.loadTime >= intent.since else {
        continue
      }
      if try remove(programID: component.id, layout: layout, interfaceIndex: intent.interfaceIndex) {
        removed.append(component.id)
      }
    }
    return removed
  }

  /// Whether the layout's namespace and interface exist and the interface has index `index`.
  private static func isSameInterface(_ layout: PinLayout, _ index: Int32) throws(XDPBlockError) -> Bool {
    do {
      return try SystemSetup.interfaceIndex(layout.interface, namespace: layout.namespace) == index
    } catch {
      switch error {
      case .noSuchNamespace, .notANamespace: return false
      default: throw error
      }
    }
  }
}

extension FirewallConfiguration {
  /// The load options that give the firewall object this configuration: its `.rodata`
  /// globals `events_enabled` and `events_per_second`.
  var loadOptions: LoadOptions {
    var options = LoadOptions()
    options.globals["events_enabled"] = UInt32(eventsEnabled ? 1 : 0)
    if let eventsPerSecond { options.globals["events_per_second"] = eventsPerSecond }
    return options
  }
}

extension XDPRunConfig {
  /// "priority 50, chain on XDP_PASS".
  public var priorityAndChain: String {
    let actions = chainCallActionNames
    return "priority \(priority), chain on " + (actions.isEmpty ? "nothing" : actions.joined(separator: ", "))
  }
}
