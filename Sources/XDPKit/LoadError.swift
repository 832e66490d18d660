import SystemPackage
import XDPKitMaps

/// Why loading an object failed. Each case names the stage and the object (map, program,
/// variable) it failed on, and carries the underlying error — for programs, the verifier log.
public enum LoadError: Error, Sendable, CustomStringConvertible {
  /// A map could not be created (BPF_MAP_CREATE) or filled.
  case mapCreation(map: String, SyscallError)
  /// A map left `max_entries` at 0 and ``LoadOptions/maxEntries`` does not set it.
  case missingMaxEntries(map: String)
  /// An option names a map the object does not define.
  case unknownMap(ObjectLookupError)
  /// An option names a program the object does not define.
  case unknownProgram(ObjectLookupError)
  /// ``LoadOptions/globals`` names a variable no data section contains.
  case unknownVariable(ObjectLookupError)
  /// A global's value has the wrong size for its variable.
  case variableSizeMismatch(variable: String, expected: UInt64, actual: Int)
  /// A pinned map exists at `path` but differs from the definition in `field`.
  case pinnedMapMismatch(map: String, path: String, field: String, expected: UInt64, actual: UInt64)
  /// Opening or pinning a pin-by-name map failed.
  case pinning(map: String, path: String, BPFFSError)
  /// A relocation in `program` cannot be applied; `reason` says what is unsupported or wrong.
  case relocation(program: String, offset: UInt64, reason: String)
  /// A CO-RE relocation could not be applied (or its poisoned instruction was reached by the
  /// verifier). Never loaded with clang's local offsets.
  case coreRelocation(CORERelocationFailure)
  /// An object has CO-RE relocations and the kernel BTF they are resolved against cannot be
  /// read (``LoadOptions/kernelBTFPath``, or /sys/kernel/btf/vmlinux).
  case kernelBTF(program: String, KernelBTFError)
  /// The program's type cannot be loaded by this library yet (needs an attach target).
  case unsupportedProgram(program: String, section: String, reason: String)
  /// The kernel rejected the program. The error carries the verifier log.
  case program(name: String, ProgramLoadError)
  /// Setting an initial value of a program array or map-in-map slot to `value` ("program
  /// NAME" or "map NAME") failed.
  case initialValue(map: String, slot: Int, value: String, SyscallError)
  /// An initial value names a slot outside the map.
  case initialValueOutOfRange(map: String, slot: Int, maxEntries: Int)
  /// A slot's initial value (`value`: "program NAME" or "map NAME") is a program or map this
  /// load did not load: a program left out by ``LoadOptions/programs`` or skipped as a kind
  /// this kernel cannot load (`reason`). The slot would stay empty, so the load fails instead.
  case initialValueNotLoaded(map: String, slot: Int, value: String, reason: String)
  /// A map name cannot be used as a pin file name (it contains `/` or is `.`/`..`).
  case invalidPinName(map: String)
  /// Raising RLIMIT_MEMLOCK failed on a kernel that needs it.
  case memlock(SyscallError)
  /// The kernel refused a program that needs BPF trampolines (freplace, fentry/fexit/fmod_ret,
  /// LSM) with EPERM because it is under lockdown: no capability lifts that.
  case lockedDown(program: String, type: BPFProgramType, mode: LockdownMode)
  /// A program needs a BTF attach target and none is known: a freplace program without
  /// ``LoadOptions/attachTargets``, or a section name without a target.
  case missingAttachTarget(program: String, section: String, reason: String)
  /// The attach target `target` of `program` is not in the BTF named by `in`.
  case attachTargetNotFound(program: String, target: String, in: String)
  /// The BTF of the target program `target` could not be read.
  case attachTargetUnreadable(program: String, target: String, reason: String)
  /// An extern (`__kconfig`, `__ksym`, kfunc) could not be resolved against this kernel.
  case unresolvedExtern(ExternError)
  /// An extern's description in the object is unusable (no BTF, a type a value cannot have).
  case invalidExtern(ObjectError)
  /// A missing `__weak` kfunc is called where the verifier cannot prove the call dead: guard
  /// it with `bpf_ksym_exists()`.
  case missingWeakKernelFunctionCalled(program: String, kfunc: String)
  /// The kernel's BTF, needed to resolve an attach target or a relocation, cannot be read.
  case kernelBTFUnavailable(path: String, reason: String)

  public var description: String { text + privilegeHint }

  /// The errno of the underlying call, when there is one.
  public var errno: Errno? {
    switch self {
    case .mapCreation(_, let e), .initialValue(_, _, _, let e), .memlock(let e): return e.errno
    case .pinning(_, _, let e): return e.errno
    case .program(_, let e): return e.syscall.errno
    default: return nil
    }
  }

  /// What to do about EPERM: it nearly always means missing capabilities.
  private var privilegeHint: String {
    guard errno == .notPermitted else { return "" }
    return " — needs CAP_BPF (or CAP_SYS_ADMIN) and CAP_NET_ADMIN; run as root"
  }

  private var text: String {
    switch self {
    case .mapCreation(let map, let e): return "load maps: map \(map): \(e)"
    case .missingMaxEntries(let map):
      return "load maps: map \(map) leaves max_entries at 0; set LoadOptions.maxEntries[\"\(map)\"]"
    case .unknownMap(let e): return "options: \(e)"
    case .unknownProgram(let e): return "options: \(e)"
    case .unknownVariable(let e): return "options: \(e)"
    case .variableSizeMismatch(let v, let expected, let actual):
      return "options: global \(v) is \(expected) bytes, the value given is \(actual) bytes"
    case .pinnedMapMismatch(let map, let path, let field, let expected, let actual):
      return "load maps: map \(map): pinned map at \(path) has \(field) \(actual), the object wants \(expected)"
    case .pinning(let map, _, let e): return "load maps: map \(map): \(e)"
    case .relocation(let program, let offset, let reason):
      return "relocate program \(program): instruction at byte \(offset): \(reason)"
    case .coreRelocation(let failure): return "relocate program \(failure.program): \(failure)"
    case .kernelBTF(let program, let e):
      return "relocate program \(program): CO-RE relocations need the kernel's BTF: \(e)"
    case .unsupportedProgram(let program, let section, let reason):
      return "load program \(program) (section \(section)): \(reason)"
    case .program(let name, let e): return "load program \(name): \(e)"
    case .initialValue(let map, let slot, let value, let e):
      // The kernel refuses a program unlike the array's first (its type, expected attach
      // type, XDP frags setting) with EINVAL and no message.
      let hint = value.hasPrefix("program ") && e.errno == .invalidArgument
        ? "; a program array takes only programs of the same type and XDP frags setting as the first it holds" : ""
      return "load maps: map \(map) slot \(slot): storing \(value) failed: \(e)\(hint)"
    case .initialValueOutOfRange(let map, let slot, let max):
      return "load maps: map \(map): initial value for slot \(slot), but the map has \(max) entries"
    case .initialValueNotLoaded(let map, let slot, let value, let reason):
      return "load maps: map \(map) slot \(slot): its initial value is \(value), which was not loaded (\(reason)); load it too, or remove the slot's initial value"
    case .invalidPinName(let map):
      return "load maps: map name '\(map)' cannot be a pin file name"
    case .memlock(let e): return "raise RLIMIT_MEMLOCK: \(e)"
    case .lockedDown(let program, let type, let mode):
      return "load program \(program): the kernel is under lockdown (\(mode)), which refuses \(type) programs (BPF trampolines) with EPERM whatever the capabilities; boot without lockdown (lockdown=none, or Secure Boot off) to load it"
    case .missingAttachTarget(let program, let section, let reason):
      return "load program \(program) (section \(section)): no attach target: \(reason)"
    case .attachTargetNotFound(let program, let target, let place):
      return "load program \(program): attach target \(target) not found in \(place)"
    case .attachTargetUnreadable(let program, let target, let reason):
      return "load program \(program): cannot read the BTF of target program \(target): \(reason)"
    case .unresolvedExtern(let e): return "resolve externs: \(e)"
    case .invalidExtern(let e): return "resolve externs: \(e)"
    case .missingWeakKernelFunctionCalled(let program, let kfunc):
      return "load program \(program): it calls the weak kfunc \(kfunc), which this kernel does not have, where the verifier cannot prove the call unreachable; guard it with bpf_ksym_exists(\(kfunc))"
    case .kernelBTFUnavailable(let path, let reason):
      return "kernel BTF \(path): \(reason); the kernel needs CONFIG_DEBUG_INFO_BTF"
    }
  }

  /// Whether the error is about one program's kind, which this loader or kernel cannot load
  /// (an unknown section, struct_ops, a trampoline program without a target or under
  /// lockdown), rather than about the object or the program's code. Such programs are skipped
  /// when ``LoadOptions/programs`` does not name them.
  public var isProgramSpecificUnsupported: Bool {
    switch self {
    case .unsupportedProgram, .missingAttachTarget, .attachTargetNotFound, .attachTargetUnreadable, .lockedDown:
      return true
    default:
      return false
    }
  }

  /// The verifier log, when the kernel rejected a program.
  public var verifierLog: String? {
    if case .program(_, let e) = self { return e.verifierLog }
    if case .coreRelocation(let f) = self { return f.verifierLog }
    return nil
  }
}
