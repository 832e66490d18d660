import Glibc
import Synchronization
import SystemPackage
import XDPKitObject
import XDPKitSys

/// The probes behind ``KernelFeatures``: the smallest program, map or BTF that tells each
/// answer, made and closed at once.
enum FeatureProbes {
  /// `r0 = 0`, `exit`.
  static let returnZero: [UInt64] = [0xb7, 0x95]

  // Attach types (enum bpf_attach_type) that some program types must be loaded with.
  static let cgroupInet4Connect = BPFAttachType(rawValue: 10)
  static let cgroupGetsockopt = BPFAttachType(rawValue: 21)
  static let traceFentry = BPFAttachType(rawValue: 24)
  static let lsmMac = BPFAttachType(rawValue: 27)
  static let skLookup = BPFAttachType(rawValue: 36)
  static let netfilter = BPFAttachType(rawValue: 45)
  /// BPF_F_SLEEPABLE: syscall programs must be sleepable.
  static let sleepable = ProgramLoadFlags(rawValue: 1 << 4)

  /// The load attributes of a minimal program of `type`.
  static func minimalProgram(_ type: BPFProgramType, instructions: [UInt64] = returnZero) -> ProgramLoadAttributes {
    var attributes = ProgramLoadAttributes(type: type, instructions: instructions, license: "GPL", name: "xdpkit_probe")
    switch type {
    case .cgroupSockAddr: attributes.expectedAttachType = cgroupInet4Connect
    case .cgroupSockopt: attributes.expectedAttachType = cgroupGetsockopt
    case .skLookup: attributes.expectedAttachType = skLookup
    case .netfilter: attributes.expectedAttachType = netfilter
    case .syscall: attributes.flags = sleepable
    case .tracing: attributes.expectedAttachType = traceFentry; attributes.attachBTFID = 1
    case .lsm: attributes.expectedAttachType = lsmMac; attributes.attachBTFID = 1
    case .ext: attributes.attachBTFID = 1
    default: break
    }
    return attributes
  }

  /// Loads `attributes` with a verifier log; the result and the log's text.
  static func load(_ attributes: ProgramLoadAttributes) -> (Result<BPFFileDescriptor, SyscallError>, String) {
    var buffer = [UInt8](repeating: 0, count: 4096)
    let result = buffer.withUnsafeMutableBytes { bytes in
      BPF.loadProgram(attributes, log: BPFLogBuffer(level: .basic, buffer: bytes)).result
    }
    let text = String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    return (result, text)
  }

  /// The verifier's last message before its statistics ("processed N insns …"), for the
  /// detail of an answer.
  static func lastLine(_ log: String) -> String {
    log.split(separator: "\n").last { !$0.hasPrefix("processed ") && !$0.hasPrefix("verification time") }
      .map(String.init) ?? ""
  }

  /// Whether the verifier's log says the program may not call the helper: "invalid func" or
  /// "unknown func" (no such helper), or "program of this type cannot use helper" (6.10+).
  static func refusesHelper(_ log: String) -> Bool {
    log.contains("invalid func ") || log.contains("unknown func ") || log.contains("cannot use helper")
  }

  static func programType(_ type: BPFProgramType) -> FeatureSupport {
    let (result, log) = load(minimalProgram(type))
    switch result {
    case .success:  // the descriptor closes when released
      return FeatureSupport(answer: .supported, errno: nil, detail: "BPF_PROG_LOAD of \(type) succeeded")
    case .failure(let error):
      if type == .structOps && error.errno == notSupportedInternal {
        return FeatureSupport(answer: .supported, errno: error.errno,
                              detail: "BPF_PROG_LOAD of \(type) asked for a kernel struct to implement: ENOTSUPP")
      }
      // The verifier got as far as the attach target: it knew the type. An extension without a
      // target program is "Cannot replace kernel functions" (6.1); a tracing or LSM program
      // against BTF id 1 is "not a function".
      if [.tracing, .lsm, .ext].contains(type),
         log.contains("is not a function") || log.contains("not a func") || log.contains("Cannot replace kernel functions") {
        return FeatureSupport(answer: .supported, errno: error.errno,
                              detail: "the verifier checked the attach target: \(lastLine(log))")
      }
      if error.errno == .notPermitted || (error.errno == .permissionDenied && log.isEmpty) {
        return FeatureSupport(answer: .undetermined, errno: error.errno, detail: "BPF_PROG_LOAD of \(type): \(error.errno)"
                              + (SystemInfo.lockdownMode()?.refusesTrampolines == true ? " (lockdown)" : ""))
      }
      return FeatureSupport(answer: .unsupported, errno: error.errno,
                            detail: "BPF_PROG_LOAD of \(type): \(error.errno)" + (log.isEmpty ? "" : ": \(lastLine(log))"))
    }
  }

  static func helper(_ id: UInt32, programType: BPFProgramType) -> FeatureSupport {
    let type = KernelFeatures.programType(programType)
    guard type.isSupported else {
      return FeatureSupport(answer: type.answer, errno: type.errno, detail: "program type: \(type.detail)")
    }
    // call #id; r0 = 0; exit. The helper's arguments are whatever r1–r5 hold, so the verifier may
    // refuse them, but only after it looked the helper up.
    let call = UInt64(0x85) | UInt64(id) << 32
    let (result, log) = load(minimalProgram(programType, instructions: [call] + returnZero))
    switch result {
    case .success:
      return FeatureSupport(answer: .supported, errno: nil, detail: "BPF_PROG_LOAD with the call succeeded")
    case .failure(let error):
      if refusesHelper(log) {
        return FeatureSupport(answer: .unsupported, errno: error.errno, detail: lastLine(log))
      }
      if log.isEmpty {
        return FeatureSupport(answer: .undetermined, errno: error.errno, detail: "BPF_PROG_LOAD: \(error.errno), no verifier log")
      }
      return FeatureSupport(answer: .supported, errno: error.errno, detail: "the verifier knew the helper: \(lastLine(log))")
    }
  }

  /// BPF_F_NO_PREALLOC, BPF_F_MMAPABLE.
  static let noPreallocation = MapCreateFlags(rawValue: 1)
  static let mmapable = MapCreateFlags(rawValue: 1 << 10)
  /// ENOTSUPP (524, kernel-internal): a struct_ops map without a kernel value type.
  static let notSupportedInternal = Errno(rawValue: 524)

  static func mapType(_ type: BPFMapType) -> FeatureSupport {
    var attributes = MapCreateAttributes(type: type, keySize: 4, valueSize: 4, maxEntries: 1, name: "xdpkit_probe")
    // Descriptors close when released.
    var inner: BPFFileDescriptor?
    var btf: BPFFileDescriptor?
    switch type {
    case .stackTrace: attributes.valueSize = 8
    case .structOps: attributes.btfVmlinuxValueTypeID = 1  // not a struct_ops value type: ENOTSUPP
    case .lpmTrie: attributes.keySize = 8; attributes.flags = noPreallocation
    case .cgroupStorage, .perCPUCgroupStorage: attributes.keySize = 16; attributes.maxEntries = 0
    case .queue, .stack, .bloomFilter: attributes.keySize = 0
    case .ringBuffer, .userRingBuffer:
      attributes.keySize = 0; attributes.valueSize = 0; attributes.maxEntries = UInt32(getpagesize())
    case .arena:
      attributes.keySize = 0; attributes.valueSize = 0; attributes.flags = mmapable
    case .arrayOfMaps, .hashOfMaps:
      do throws(SyscallError) {
        inner = try BPF.createMap(MapCreateAttributes(type: .array, keySize: 4, valueSize: 4, maxEntries: 1))
      } catch {
        return FeatureSupport(answer: .undetermined, errno: error.errno, detail: "the inner array map: \(error)")
      }
      attributes.innerMap = inner
    case .skStorage, .inodeStorage, .taskStorage, .cgrpStorage:
      attributes.flags = noPreallocation
      attributes.maxEntries = 0
      do throws(SyscallError) { btf = try intBTF() } catch {
        return FeatureSupport(answer: .undetermined, errno: error.errno, detail: "the probe BTF: \(error)")
      }
      attributes.btf = btf
      attributes.btfKeyTypeID = 1
      attributes.btfValueTypeID = 1
    default: break
    }
    do throws(SyscallError) {
      _ = try BPF.createMap(attributes)
      return FeatureSupport(answer: .supported, errno: nil, detail: "BPF_MAP_CREATE of \(type) succeeded")
    } catch {
      if type == .structOps && error.errno == notSupportedInternal {
        return FeatureSupport(answer: .supported, errno: error.errno,
                              detail: "BPF_MAP_CREATE of \(type) asked for a kernel value type: ENOTSUPP")
      }
      if error.errno == .notPermitted {
        // EPERM usually means no privilege. If this process creates a plain array, it has the
        // privilege, and the kernel (a security module, lockdown, or a type it keeps to
        // itself, as some kernels do for arenas) refuses this type to it: unsupported here.
        guard type != .array, case .supported = KernelFeatures.mapType(.array).answer else {
          return FeatureSupport(answer: .undetermined, errno: error.errno, detail: "BPF_MAP_CREATE of \(type): EPERM")
        }
        return FeatureSupport(answer: .unsupported, errno: error.errno,
                              detail: "BPF_MAP_CREATE of \(type): EPERM, although this process creates array maps")
      }
      return FeatureSupport(answer: .unsupported, errno: error.errno, detail: "BPF_MAP_CREATE of \(type): \(error.errno)")
    }
  }

  /// A BTF whose type 1 is `int`, loaded.
  static func intBTF() throws(SyscallError) -> BPFFileDescriptor {
    var btf = BTF()
    let bytes: [UInt8]
    do {
      _ = try btf.appendType(BTFType(
        nameOffset: try btf.appendString("int"), body: .int(.init(size: 4, encoding: .signed, bits: 32))))
      bytes = btf.encoded()
    } catch {
      throw SyscallError(command: .btfLoad, errno: .invalidArgument)
    }
    return try bytes.withUnsafeBytes { BPF.loadBTF($0).result }.get()
  }

  static func btfKind(_ kind: BTFKernelFeatures) -> FeatureSupport { BTFFeatureProbe.probe(kind) }

  static let helperNumbers = Mutex<[String: UInt32]?>(nil)

  /// `enum bpf_func_id` of the kernel's BTF: `BPF_FUNC_map_lookup_elem` = 1 becomes
  /// `bpf_map_lookup_elem` → 1.
  static func readHelperNumbers() -> [String: UInt32] {
    guard let kernel = try? KernelBTF.load(),
          let id = kernel.btf.typeID(named: "bpf_func_id", kind: .enum),
          case .enum(_, let values)? = try? kernel.btf.type(id: id).body
    else { return [:] }
    var numbers: [String: UInt32] = [:]
    for value in values {
      guard let name = value.name, name.hasPrefix("BPF_FUNC_"), value.value > 0 else { continue }
      numbers["bpf_" + name.dropFirst("BPF_FUNC_".count)] = UInt32(value.value)
    }
    return numbers
  }
}
