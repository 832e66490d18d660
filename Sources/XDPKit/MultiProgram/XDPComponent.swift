import Synchronization
import XDPKitObject
import XDPKitSys

/// An XDP program of an object, to run behind a multi-program dispatcher next to other
/// programs on the same interface — XDPKit's, xdp-loader's, xdp-filter's or any loader's that
/// follows libxdp's protocol.
///
/// ```swift
/// let firewall = XDPComponent(object: object, program: "xdp_firewall")
/// let attached = try firewall.attach(to: "eth0", priority: 10, chainCallActions: [.pass])
/// let stats = try attached.object.perCPUArray("STATS", value: UInt64.self)
/// try attached.detach()        // the other programs on eth0 keep running
/// ```
///
/// See <doc:MultiProgram>.
public struct XDPComponent: Sendable {
  /// The object holding the program.
  public let object: BPFObject
  /// The XDP program's name (its function's name).
  public let program: String
  /// How to load the object (maps, globals, pinning); the program type and attach target are
  /// set by the dispatcher code.
  public let options: LoadOptions

  /// A component from `program` of `object`, to be loaded with `options`.
  public init(object: BPFObject, program: String, options: LoadOptions = LoadOptions()) {
    self.object = object
    self.program = program
    self.options = options
  }

  /// The run configuration the object declares for the program (`XDP_RUN_CONFIG`), or the
  /// defaults (priority 50, chain on XDP_PASS).
  public func declaredRunConfig() throws(MultiProgramError) -> XDPRunConfig {
    let programs = object.programs.filter { $0.programType == .xdp }
    guard programs.contains(where: { $0.name == program }) else {
      throw .noSuchProgram(program, available: programs.map(\.name))
    }
    guard let btf = object.btf else { return XDPRunConfig() }
    do { return try btf.xdpRunConfig(function: program) ?? XDPRunConfig() } catch {
      throw .invalidRunConfig(program: program, error)
    }
  }

  /// Loads the program as an extension of a dispatcher's slot and adds it to the dispatcher on
  /// `interface`: a new dispatcher when there is none, or one that replaces the installed
  /// dispatcher atomically with the other programs relinked, in run order (priority, then the
  /// protocol's tie-breaks). The interface never goes without a program.
  ///
  /// - Parameters:
  ///   - interface: the interface, in the calling thread's network namespace.
  ///   - mode: for a new dispatcher, the mode to attach it in (``XDPAttachMode/auto``: native,
  ///     else generic). An installed dispatcher keeps its mode; asking for another one is
  ///     ``MultiProgramError/modeMismatch(requested:attached:)``.
  ///   - priority: overrides the object's `XDP_RUN_CONFIG` priority (lower runs first).
  ///   - chainCallActions: overrides its chain-call actions: after these verdicts the next
  ///     program runs; any other verdict is the dispatcher's.
  /// - Returns: the attachment, which owns the loaded object (its maps). The program stays
  ///   attached (pinned) when the value is released or the process exits, until
  ///   ``XDPComponentAttachment/detach()`` or another loader removes it.
  /// - Throws: ``MultiProgramError``; on a kernel that refuses freplace under lockdown,
  ///   ``MultiProgramError/componentLoad(program:_:)`` with ``LoadError/lockedDown(program:type:mode:)``,
  ///   leaving the interface as it was.
  ///
  /// The corresponding calls are BPF_PROG_LOAD (dispatcher, and the program as
  /// BPF_PROG_TYPE_EXT), BPF_LINK_CREATE, BPF_OBJ_PIN and RTM_SETLINK (IFLA_XDP), under
  /// flock(2) on the xdp bpffs directory.
  public func attach(to interface: NetworkInterface, mode: XDPAttachMode = .auto, priority: UInt32? = nil,
                     chainCallActions: Set<XDPAction>? = nil) throws(MultiProgramError) -> XDPComponentAttachment {
    var config = try declaredRunConfig()
    if let priority { config.priority = priority }
    if let chainCallActions {
      config.chainCallActions = chainCallActions.reduce(0) { $0 | (1 << $1.rawValue) }
    }
    guard mode != .offload else {
      throw .interface(.modeNotSupported(mode: mode, interface: interface.description,
                                         cause: .refused("a dispatcher cannot be offloaded")))
    }
    let isFrags = object.programs.first { $0.name == program }?.kind.allowsFragments ?? false
    let pending = PendingComponent(object: object, program: program, options: options, runConfig: config,
                                   isFrags: isFrags)
    let index: Int32
    do { index = try interface.resolveIndex() } catch { throw .interface(error) }
    guard let added = try DispatcherChange.apply(.add(pending, mode: mode), interface: interface) else {
      throw .dispatcherUnusable("adding \(program) produced no program")
    }
    return XDPComponentAttachment(object: added.object, program: added.program, programID: added.programID,
                                  interface: interface, interfaceIndex: index, runConfig: config)
  }
}

/// A program running behind an interface's multi-program dispatcher, added by
/// ``XDPComponent/attach(to:mode:priority:chainCallActions:)``.
///
/// The attachment is pinned: releasing this value does not detach the program.
public final class XDPComponentAttachment: Sendable {
  /// The loaded object: the component program and its maps.
  public let object: LoadedObject
  /// The component program (an extension of a dispatcher slot).
  public let program: LoadedProgram
  /// The program's kernel id, by which it is found in the dispatcher.
  public let programID: UInt32
  /// The interface as given.
  public let interface: NetworkInterface
  /// Its index (in the namespace it was attached from).
  public let interfaceIndex: Int32
  /// The priority and chain-call actions it was installed with.
  public let runConfig: XDPRunConfig
  private let detached = Mutex(false)

  init(object: LoadedObject, program: LoadedProgram, programID: UInt32, interface: NetworkInterface,
       interfaceIndex: Int32, runConfig: XDPRunConfig) {
    self.object = object
    self.program = program
    self.programID = programID
    self.interface = interface
    self.interfaceIndex = interfaceIndex
    self.runConfig = runConfig
  }

  /// Whether ``detach()`` succeeded.
  public var isDetached: Bool { detached.withLock { $0 } }

  /// Removes this program, and only it, from the interface's dispatcher: the dispatcher is
  /// replaced atomically by one without it (or detached, when it was the last program). Call
  /// it in the network namespace the program was attached from.
  ///
  /// - Throws: ``MultiProgramError/notAttached(programID:interface:)`` when it is no longer
  ///   there (someone else removed it), and the errors of replacing the dispatcher.
  public func detach() throws(MultiProgramError) {
    try XDP.removeProgram(id: programID, from: .index(interfaceIndex))
    detached.withLock { $0 = true }
  }
}

extension XDP {
  /// Removes the program with kernel id `id` from the multi-program dispatcher on `interface`,
  /// whoever added it (XDPKit, xdp-loader, …), as ``XDPComponentAttachment/detach()`` does:
  /// the dispatcher is replaced atomically by one without it, or detached when it was the last.
  ///
  /// - Throws: ``MultiProgramError/notAttached(programID:interface:)`` when the dispatcher has
  ///   no such program, ``MultiProgramError/notADispatcher(programID:name:reason:)`` when the
  ///   interface has a single program, and the errors of replacing the dispatcher.
  public static func removeProgram(id: UInt32, from interface: NetworkInterface) throws(MultiProgramError) {
    try DispatcherChange.apply(.remove(programID: id), interface: interface)
  }
}
