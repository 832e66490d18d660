import XDPKitObject
import XDPKitSys

/// One program of an installed dispatcher.
public struct XDPComponentInfo: Sendable, Equatable, CustomStringConvertible {
  /// The slot it runs in (`prog0` is first).
  public var slot: Int
  /// Its name: the kernel's (at most 15 bytes), completed from its BTF when truncated.
  public var name: String
  /// The kernel's program id.
  public var id: UInt32
  /// The program tag, 16 hex digits.
  public var tag: String
  /// Priority and chain-call actions it was installed with.
  public var runConfig: XDPRunConfig
  /// Whether it was loaded as supporting XDP frags.
  public var supportsFrags: Bool

  public var description: String { "prog\(slot): \(name) (id \(id), \(runConfig))" }
}

/// A multi-program dispatcher attached to an interface, and its programs.
public struct XDPDispatcherInfo: Sendable, Equatable {
  /// The dispatcher program's id.
  public var id: UInt32
  /// The protocol version it speaks (1 or 2).
  public var version: UInt32
  /// The mode it is attached in.
  public var mode: XDPAttachMode
  /// Whether it was loaded with XDP frags support.
  public var supportsFrags: Bool
  /// Its programs in run order.
  public var components: [XDPComponentInfo]
}

/// What runs in XDP on an interface.
public enum XDPInterfacePrograms: Sendable, Equatable {
  /// No XDP program (in native or generic mode).
  case none
  /// One program that is not a dispatcher.
  case single(id: UInt32, name: String, mode: XDPAttachMode)
  /// A multi-program dispatcher.
  case dispatcher(XDPDispatcherInfo)
}

/// A dispatcher read from the kernel and its pins, with descriptors for its programs.
struct InstalledDispatcher {
  var program: BPFFileDescriptor
  var info: XDPDispatcherInfo
  var config: XDPDispatcherConfig
  /// The component programs in slot order, opened from their pins.
  var programs: [LoadedProgram]
  /// Their kernel descriptions, in the same order.
  var programInfos: [ProgramInfo]
}

/// What was found on the interface.
enum InstalledXDP {
  case none
  case single(id: UInt32, name: String, mode: XDPAttachMode)
  case dispatcher(InstalledDispatcher)

  var summary: XDPInterfacePrograms {
    switch self {
    case .none: return .none
    case .single(let id, let name, let mode): return .single(id: id, name: name, mode: mode)
    case .dispatcher(let d): return .dispatcher(d.info)
    }
  }

  /// Reads what is attached to interface `index` (in the calling thread's namespace). The
  /// caller holds the state directory's lock, so that the pins are consistent.
  static func read(
    interfaceIndex index: Int32, interface: NetworkInterface,
    state: () throws(MultiProgramError) -> BPFFSDirectory
  ) throws(MultiProgramError) -> InstalledXDP
  {
    let attachment: XDPAttachmentState
    do { attachment = try RouteNetlink.xdpState(interfaceIndex: index) } catch {
      throw .interface(AttachError(netlink: error, interface: interface, mode: .auto))
    }
    let id: UInt32
    let mode: XDPAttachMode
    if let drv = attachment.driverProgramID ?? (attachment.mode == .driver ? attachment.programID : nil), drv != 0 {
      (id, mode) = (drv, .native)
    } else if let skb = attachment.genericProgramID ?? (attachment.mode == .generic ? attachment.programID : nil), skb != 0 {
      (id, mode) = (skb, .generic)
    } else {
      return .none
    }
    let fd: BPFFileDescriptor
    let info: ProgramInfo
    do {
      fd = try BPF.openProgram(id: id)
      info = try BPF.programInfo(fd)
    } catch {
      throw .syscall("open program \(id) attached to \(interface)", error)
    }
    guard info.name == "xdp_dispatcher", info.mapIDs.count == 1, info.btfID != 0 else {
      return .single(id: id, name: info.name, mode: mode)
    }
    let config = try readConfig(of: info)
    // The protocol's version check comes first: a newer dispatcher is refused before its pins
    // are read.
    var programs: [LoadedProgram] = []
    var infos: [ProgramInfo] = []
    let directoryName = DispatcherPins.directoryName(interfaceIndex: index, dispatcherID: id)
    let pins: BPFFSDirectory? = config.programCount > 0 ? try state() : nil
    var components: [XDPComponentInfo] = []
    for slot in 0..<config.programCount {
      guard let pins else { break }
      let directory: BPFFSDirectory
      do { directory = try pins.subdirectory(directoryName) } catch {
        throw .pins(error)
      }
      let program: LoadedProgram
      do { program = try LoadedProgram.open(pinnedAs: DispatcherPins.programPin(slot: slot), in: directory) } catch {
        throw .pins(error)
      }
      let programInfo: ProgramInfo
      do { programInfo = try program.info() } catch { throw .syscall("info of program in slot \(slot)", error) }
      programs.append(program)
      infos.append(programInfo)
      components.append(XDPComponentInfo(
        slot: slot, name: fullName(programInfo), id: programInfo.id, tag: programInfo.tagString,
        runConfig: config.runConfig(slot: slot),
        supportsFrags: config.programFlags[slot] & XDPDispatcherConfig.fragsFlag != 0))
    }
    let summary = XDPDispatcherInfo(id: id, version: config.version, mode: mode, supportsFrags: config.isFrags,
                                    components: components)
    return .dispatcher(InstalledDispatcher(program: fd, info: summary, config: config, programs: programs,
                                           programInfos: infos))
  }

  /// The dispatcher's configuration map value, checked as the protocol says: one array map
  /// with a 4-byte key, one entry, read-only for programs.
  private static func readConfig(of info: ProgramInfo) throws(MultiProgramError) -> XDPDispatcherConfig {
    func notDispatcher(_ reason: String) -> MultiProgramError {
      .notADispatcher(programID: info.id, name: info.name, reason: reason)
    }
    let bytes: [UInt8]
    do {
      let map = try BPF.openMap(id: info.mapIDs[0], access: .readOnly)
      let mapInfo = try BPF.mapInfo(map)
      guard mapInfo.keySize == 4, mapInfo.valueSize >= 2, mapInfo.maxEntries == 1,
            mapInfo.flags.contains(.readOnlyForPrograms) else {
        throw notDispatcher("its map is not a configuration map (key \(mapInfo.keySize), value \(mapInfo.valueSize), \(mapInfo.maxEntries) entries, flags \(mapInfo.flags.rawValue))")
      }
      var value = [UInt8](repeating: 0, count: Int(mapInfo.valueSize))
      var key: UInt32 = 0
      let result = value.withUnsafeMutableBytes { buffer in
        BPF.lookupElement(map: map.rawValue, key: &key, value: buffer.baseAddress!)
      }
      try result.get()
      bytes = value
    } catch let error as MultiProgramError {
      throw error
    } catch let error as SyscallError {
      throw .syscall("read the configuration of dispatcher \(info.id)", error)
    } catch {
      throw .syscall("read the configuration of dispatcher \(info.id)", SyscallError(operation: .file("map"), errno: .ioError))
    }
    var btfVersion: UInt32? = nil
    if bytes.first != XDPDispatcherConfig.magic {
      do {
        let btf = try BTF(bytes: try BPF.btfData(try BPF.openBTF(id: info.btfID)))
        btfVersion = try btf.xdpDispatcherVersion()
      } catch {
        throw notDispatcher("its BTF could not be read: \(error)")
      }
    }
    return try XDPDispatcherConfig.decode(bytes, btfVersion: btfVersion, programID: info.id)
  }

  /// The kernel keeps 15 bytes of a name; a longer one is completed from the program's BTF,
  /// when exactly one function there starts with the truncated name.
  static func fullName(_ info: ProgramInfo) -> String {
    guard info.name.utf8.count >= 15, info.btfID != 0,
          let btf = try? BTF(bytes: try BPF.btfData(try BPF.openBTF(id: info.btfID)))
    else { return info.name }
    let matches = btf.types.compactMap { type -> String? in
      guard case .function = type.body, let name = type.name, name.hasPrefix(info.name) else { return nil }
      return name
    }
    if matches.contains(info.name) { return info.name }
    return matches.count == 1 ? matches[0] : info.name
  }
}

extension XDP {
  /// What runs in XDP on `interface`: nothing, a single program, or a multi-program
  /// dispatcher (XDPKit's, xdp-loader's or any loader's that follows libxdp's protocol, version
  /// 1 or 2) with its programs in run order, each with its priority and chain-call actions.
  ///
  /// - Throws: ``MultiProgramError/newerDispatcher(programID:version:supported:)`` for a
  ///   dispatcher of a later protocol version, and the errors of reading its pins.
  ///
  /// The corresponding calls are RTM_GETLINK, BPF_PROG_GET_FD_BY_ID, BPF_MAP_LOOKUP_ELEM on
  /// the dispatcher's configuration and BPF_OBJ_GET on its pins, under flock(2) on the xdp
  /// bpffs directory.
  public static func programs(on interface: NetworkInterface) throws(MultiProgramError) -> XDPInterfacePrograms {
    let index: Int32
    do { index = try interface.resolveIndex() } catch { throw .interface(error) }
    // The pins (and the lock that keeps them consistent) are needed only for a dispatcher's
    // programs: an interface without one is listed without touching bpffs.
    var held: (directory: BPFFSDirectory, lock: BPFFSDirectory.Lock)? = nil
    defer { withExtendedLifetime(held) {} }
    let pins = { () throws(MultiProgramError) -> BPFFSDirectory in
      if let held { return held.directory }
      let (directory, lock) = try DispatcherPins.openLocked(create: false)
      held = (directory, lock)
      return directory
    }
    let first = try InstalledXDP.read(interfaceIndex: index, interface: interface, state: pins)
    guard held != nil else { return first.summary }
    // Read again under the lock: the dispatcher may have changed before it was taken.
    return try InstalledXDP.read(interfaceIndex: index, interface: interface, state: pins).summary
  }
}
