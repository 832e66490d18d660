import SystemPackage
import XDPKitObject
import XDPKitSys
import XDPPrograms

/// A program to add to an interface's dispatcher, not loaded yet.
struct PendingComponent {
  var object: BPFObject
  var program: String
  var options: LoadOptions
  var runConfig: XDPRunConfig
  var isFrags: Bool
}

/// What decides where a program runs among the others: the protocol's order.
struct RunOrderKey: Equatable {
  var priority: UInt32
  /// The function name, compared bytewise.
  var name: [UInt8]
  /// Whether the program is already installed (loaded) rather than being added.
  var isInstalled: Bool
  /// The kernel's tag, compared bytewise (installed programs).
  var tag: [UInt8]
  /// Load time in nanoseconds since boot (installed programs).
  var loadTime: UInt64
  /// The kernel id (installed programs): settles what the protocol leaves open.
  var id: UInt32

  /// Priority, then name, then installed before new, then tag, then load time, then id.
  static func runsBefore(_ a: RunOrderKey, _ b: RunOrderKey) -> Bool {
    if a.priority != b.priority { return a.priority < b.priority }
    if a.name != b.name { return a.name.lexicographicallyPrecedes(b.name) }
    if a.isInstalled != b.isInstalled { return a.isInstalled }
    if a.tag != b.tag { return a.tag.lexicographicallyPrecedes(b.tag) }
    if a.loadTime != b.loadTime { return a.loadTime < b.loadTime }
    return a.id < b.id
  }
}

/// One slot of the dispatcher being built.
private struct PlannedSlot {
  enum Source {
    case existing(LoadedProgram, ProgramInfo)
    case new
  }
  var name: String
  var runConfig: XDPRunConfig
  var isFrags: Bool
  var source: Source

  var orderKey: RunOrderKey {
    var key = RunOrderKey(priority: runConfig.priority, name: Array(name.utf8), isInstalled: false, tag: [],
                          loadTime: 0, id: 0)
    if case .existing(_, let info) = source {
      key.isInstalled = true
      key.tag = info.tag
      key.loadTime = info.loadTime
      key.id = info.id
    }
    return key
  }
}

/// One change to an interface's set of dispatcher programs, carried out as libxdp's protocol
/// says: under the xdp directory's lock, read the installed dispatcher and its programs, build
/// a new dispatcher with the new set (each program linked into its slot), pin it, then attach
/// it — with XDP_FLAGS_UPDATE_IF_NOEXIST where there was none, or in place of the old one with
/// XDP_FLAGS_REPLACE — and unpin the old one. The interface always has one of the two. When
/// the interface's program changed meanwhile, the new dispatcher is unpinned and the change
/// starts over.
enum DispatcherChange {
  enum Request {
    case add(PendingComponent, mode: XDPAttachMode)
    case remove(programID: UInt32)
  }

  /// What an add produced.
  struct Added {
    var object: LoadedObject
    var program: LoadedProgram
    var programID: UInt32
  }

  static let maximumAttempts = 10

  /// The shipped dispatcher object, parsed once.
  static let dispatcherObject: Result<BPFObject, ObjectError> = {
    guard let bytes = XDPPrograms.object(named: "xdp_dispatcher") else {
      return .failure(.truncatedHeader(size: 0, need: 64))  // not embedded: reported as empty
    }
    do throws(ObjectError) { return .success(try BPFObject(bytes: bytes)) } catch { return .failure(error) }
  }()

  @discardableResult
  static func apply(_ request: Request, interface: NetworkInterface) throws(MultiProgramError) -> Added? {
    let index: Int32
    do { index = try interface.resolveIndex() } catch { throw .interface(error) }
    let (state, lock) = try DispatcherPins.openLocked()
    defer { withExtendedLifetime(lock) {} }
    var added: Added? = nil
    for _ in 0..<maximumAttempts {
      let installed = try InstalledXDP.read(interfaceIndex: index, interface: interface, state: { state })
      var slots: [PlannedSlot] = []
      var old: InstalledDispatcher? = nil
      switch installed {
      case .none: break
      case .single(let id, let name, _):
        throw .notADispatcher(programID: id, name: name, reason: "its name is not xdp_dispatcher or it has no configuration map")
      case .dispatcher(let dispatcher):
        guard dispatcher.config.version == XDPDispatcherConfig.currentVersion else {
          throw .olderDispatcher(programID: dispatcher.info.id, version: dispatcher.config.version)
        }
        old = dispatcher
        for (slot, program) in dispatcher.programs.enumerated() {
          let component = dispatcher.info.components[slot]
          slots.append(PlannedSlot(name: component.name, runConfig: component.runConfig,
                                   isFrags: component.supportsFrags,
                                   source: .existing(program, dispatcher.programInfos[slot])))
        }
      }
      var mode: XDPAttachMode
      switch request {
      case .add(let pending, let requested):
        mode = old?.info.mode ?? requested
        if let old, requested != .auto, requested != old.info.mode {
          throw .modeMismatch(requested: requested, attached: old.info.mode)
        }
        slots.append(PlannedSlot(name: pending.program, runConfig: pending.runConfig, isFrags: pending.isFrags,
                                 source: .new))
      case .remove(let id):
        guard let old, let position = old.info.components.firstIndex(where: { $0.id == id }) else {
          throw .notAttached(programID: id, interface: interface.description)
        }
        mode = old.info.mode
        slots.remove(at: position)
      }
      guard slots.count <= XDPDispatcherConfig.slotCount else { throw .tooManyPrograms(slots.count) }

      if slots.isEmpty, let old {
        // The last program leaves: detach the dispatcher, if it is still the one we read.
        do {
          try RouteNetlink.setXDP(interfaceIndex: index, programFD: -1, flags: modeFlags(mode),
                                  expectedProgramFD: old.program.rawValue)
        } catch where isRace(error.errno) {
          continue
        } catch {
          throw .interface(AttachError(netlink: error, interface: interface, mode: mode))
        }
        DispatcherPins.remove(DispatcherPins.directoryName(interfaceIndex: index, dispatcherID: old.info.id),
                              slots: old.config.programCount, in: state)
        return nil
      }

      slots.sort { RunOrderKey.runsBefore($0.orderKey, $1.orderKey) }
      let dispatcher = try loadDispatcher(slots: slots)
      let dispatcherProgram: LoadedProgram
      let dispatcherID: UInt32
      do {
        dispatcherProgram = try dispatcher.program("xdp_dispatcher")
        dispatcherID = try dispatcherProgram.id
      } catch {
        throw .dispatcherUnusable("the loaded dispatcher: \(error)")
      }

      // Link every program into its slot of the new dispatcher.
      var links: [(TracingLink, LoadedProgram)] = []
      for (slot, planned) in slots.enumerated() {
        let program: LoadedProgram
        switch planned.source {
        case .existing(let existing, _):
          program = existing
        case .new:
          guard case .add(let pending, _) = request else { continue }
          if added == nil {
            added = try loadComponent(pending, dispatcher: dispatcherProgram, slot: slot)
          }
          program = added!.program
        }
        do {
          links.append((try program.attach(replacing: "prog\(slot)", in: dispatcherProgram), program))
        } catch {
          throw .linking(program: planned.name, slot: slot, error)
        }
      }

      // Pin before attaching: once attached, the programs stay linked whatever happens to us.
      let directoryName = DispatcherPins.directoryName(interfaceIndex: index, dispatcherID: dispatcherID)
      do {
        let directory = try state.subdirectory(directoryName, create: true)
        for (slot, (link, program)) in links.enumerated() {
          guard let fd = link.fileDescriptor else { continue }
          try directory.pin(fd, as: DispatcherPins.linkPin(slot: slot))
          try program.pin(in: directory, as: DispatcherPins.programPin(slot: slot))
        }
      } catch {
        DispatcherPins.remove(directoryName, slots: links.count, in: state)
        throw .pins(error)
      }

      if let old {
        do {
          try RouteNetlink.setXDP(interfaceIndex: index, programFD: dispatcherProgram.fileDescriptor.rawValue,
                                  flags: modeFlags(mode), expectedProgramFD: old.program.rawValue)
        } catch {
          DispatcherPins.remove(directoryName, slots: links.count, in: state)
          if isRace(error.errno) { continue }
          throw .interface(AttachError(netlink: error, interface: interface, mode: mode))
        }
      } else {
        do {
          mode = try attachNew(dispatcherProgram, index: index, interface: interface, mode: mode)
        } catch {
          DispatcherPins.remove(directoryName, slots: links.count, in: state)
          if case .interface(.alreadyAttached) = error { continue }
          throw error
        }
      }
      if let old {
        DispatcherPins.remove(DispatcherPins.directoryName(interfaceIndex: index, dispatcherID: old.info.id),
                              slots: old.config.programCount, in: state)
      }
      return added
    }
    throw .raced(attempts: maximumAttempts)
  }

  /// EBUSY (a program appeared) or EEXIST (not the expected one any more): start over.
  private static func isRace(_ errno: Errno) -> Bool {
    errno == .resourceBusy || errno == .fileExists
  }

  private static func modeFlags(_ mode: XDPAttachMode) -> XDPFlags {
    mode == .generic ? .skbMode : mode == .native ? .driverMode : []
  }

  /// Attaches a first dispatcher with XDP_FLAGS_UPDATE_IF_NOEXIST; `.auto` tries native, then
  /// generic. Returns the mode used.
  private static func attachNew(_ program: LoadedProgram, index: Int32, interface: NetworkInterface,
                                mode: XDPAttachMode) throws(MultiProgramError) -> XDPAttachMode {
    let modes: [XDPAttachMode] = mode == .auto ? [.native, .generic] : [mode]
    var failure: AttachError? = nil
    for candidate in modes {
      do {
        try RouteNetlink.setXDP(interfaceIndex: index, programFD: program.fileDescriptor.rawValue,
                                flags: modeFlags(candidate).union(.updateIfNoExist))
        return candidate
      } catch {
        let attachError = AttachError(netlink: error, interface: interface, mode: candidate)
        if case .modeNotSupported = attachError { failure = attachError; continue }
        throw .interface(attachError)
      }
    }
    throw .interface(failure ?? .failed("no mode to attach in"))
  }

  /// Loads the dispatcher with its configuration for `slots`. With BPF_F_XDP_HAS_FRAGS when
  /// every program supports frags and the kernel has the flag (``KernelFeatures/xdpFragments``,
  /// Linux 5.18+); otherwise without.
  private static func loadDispatcher(slots: [PlannedSlot]) throws(MultiProgramError) -> LoadedObject {
    let object: BPFObject
    do { object = try dispatcherObject.get() } catch {
      throw .dispatcherUnusable("the shipped xdp_dispatcher.o: \(error)")
    }
    let frags = slots.allSatisfy(\.isFrags) && KernelFeatures.xdpFragments.answer != .unsupported
    let config = XDPDispatcherConfig(slots: slots.map { ($0.runConfig, $0.isFrags) }, dispatcherFrags: frags)
    var options = LoadOptions(programs: ["xdp_dispatcher"])
    options.globals["conf"] = DispatcherConfigValue(config.encoded())
    options.programOverrides["xdp_dispatcher"] = ProgramLoadOverride(type: nil, flags: frags ? [.xdpHasFragments] : [])
    do { return try object.load(options: options) } catch { throw .dispatcherLoad(error) }
  }

  /// Loads the component as an extension of slot `slot` of `dispatcher`.
  private static func loadComponent(_ pending: PendingComponent, dispatcher: LoadedProgram, slot: Int)
    throws(MultiProgramError) -> Added
  {
    var options = pending.options
    options.programs = [pending.program]
    options.programOverrides[pending.program] = ProgramLoadOverride(type: .ext, flags: [])
    options.attachTargets[pending.program] = .program(dispatcher, function: "prog\(slot)")
    do {
      let loaded = try pending.object.load(options: options)
      let program = try loaded.program(pending.program)
      return Added(object: loaded, program: program, programID: try program.id)
    } catch let error as LoadError {
      throw .componentLoad(program: pending.program, error)
    } catch {
      throw .dispatcherUnusable("the loaded component \(pending.program): \(error)")
    }
  }
}
