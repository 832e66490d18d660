import XDPKitObject
import XDPKitSys

/// What a program that needs a BTF attach target attaches to: the kernel function, tracepoint,
/// iterator or LSM hook named by its section (`fentry/tcp_v4_connect`, `tp_btf/xdp_exception`,
/// `iter/bpf_map`, `lsm/file_open`), or a global function of a loaded BPF program (freplace,
/// and fentry/fexit on BPF programs).
///
/// ```swift
/// var options = LoadOptions()
/// options.attachTargets["decide_drop"] = .program(dispatcher, function: "decide")
/// ```
public enum BTFAttachTarget: Sendable {
  /// A kernel symbol, named as in the section after the `/`; the loader looks it up in the
  /// kernel's BTF (`bpf_lsm_` and `bpf_iter_` prefixes and the `btf_trace_` typedef of BTF
  /// tracepoints are added as the program type requires).
  case kernel(String)
  /// The global function `function` of the loaded program `program`, found in that
  /// program's BTF. Use it for freplace programs, whose section names only the function.
  case program(LoadedProgram, function: String)
}

/// The resolved target: what BPF_PROG_LOAD takes as `attach_btf_id` and, in one union,
/// `attach_prog_fd` (a target program) or `attach_btf_obj_fd` (a target module's BTF).
struct ResolvedAttachTarget {
  var btfID: UInt32
  /// The target program, or the BTF object of the module the target is in; `nil` for vmlinux.
  var targetObject: BPFFileDescriptor?
}

extension Loader {
  /// The BTF name a program's attach target has in kernel BTF, and its kind.
  static func kernelTargetName(_ name: String, attachType: BPFAttachType?) -> (String, BTFKind) {
    switch attachType {
    case .traceRawTP?: return ("btf_trace_" + name, .typedef)
    case .traceIterator?: return ("bpf_iter_" + name, .function)
    case .lsmMAC?: return ("bpf_lsm_" + name, .function)
    default: return (name, .function)
    }
  }

  /// Finds the attach target of `program`: from ``LoadOptions/attachTargets``, else from its
  /// section name.
  mutating func resolveAttachTarget(for program: BPFProgram, type: BPFProgramType) throws(LoadError)
    -> ResolvedAttachTarget
  {
    let target: BTFAttachTarget
    if let given = options.attachTargets[program.name] {
      target = given
    } else if type == .ext {
      throw .missingAttachTarget(
        program: program.name, section: program.sectionName,
        reason: "a freplace program replaces a function of another loaded program; set LoadOptions.attachTargets[\"\(program.name)\"] = .program(target, function: \"\(program.kind.attachTarget ?? "NAME")\")")
    } else if let name = program.kind.attachTarget {
      target = .kernel(name)
    } else {
      throw .missingAttachTarget(
        program: program.name, section: program.sectionName,
        reason: "the section name names no attach target (expected \(program.sectionName)/FUNCTION)")
    }
    switch target {
    case .kernel(let name):
      let (btfName, kind) = Self.kernelTargetName(name, attachType: program.kind.expectedAttachType)
      return try resolveKernelTarget(btfName, kind: kind, program: program.name)
    case .program(let target, let function):
      let id: BTFTypeID?
      do { id = try target.functionTypeID(named: function) } catch {
        throw .attachTargetUnreadable(program: program.name, target: target.name, reason: error.reason)
      }
      guard let id else {
        throw .attachTargetNotFound(program: program.name, target: function, in: "the BTF of program \(target.name)")
      }
      return ResolvedAttachTarget(btfID: UInt32(id), targetObject: target.fileDescriptor)
    }
  }

  /// The kernel function, tracepoint, iterator or hook `btfName` of kind `kind`: in vmlinux
  /// BTF, else in a loaded module's split BTF, whose BTF object the load then names.
  private mutating func resolveKernelTarget(_ btfName: String, kind: BTFKind, program: String)
    throws(LoadError) -> ResolvedAttachTarget
  {
    let (match, searched) = try findKernelType(btfName, kind: kind)
    guard let match else { throw .attachTargetNotFound(program: program, target: btfName, in: searched) }
    guard let module = match.module else { return ResolvedAttachTarget(btfID: match.id, targetObject: nil) }
    let descriptor: BPFFileDescriptor?
    do { descriptor = try BPF.kernelBTF(named: module) } catch {
      throw .attachTargetUnreadable(program: program, target: btfName, reason: "the BTF object of module \(module) could not be opened: \(error)")
    }
    guard let descriptor else {
      throw .attachTargetUnreadable(program: program, target: btfName, reason: "the kernel lists no BTF object for module \(module)")
    }
    notes.append("program \(program): attach target \(btfName) is in module \(module)")
    return ResolvedAttachTarget(btfID: match.id, targetObject: descriptor)
  }
}

/// Why a loaded program's BTF could not be read.
struct ProgramBTFError: Error {
  var reason: String
}

extension LoadedProgram {
  /// The BTF id of the FUNC `function` in the BTF this program was loaded with (read back from
  /// the kernel), `nil` when it has no such function. freplace targets are found this way.
  ///
  /// The corresponding bpf(2) commands are BPF_OBJ_GET_INFO_BY_FD (program, then BTF) and
  /// BPF_BTF_GET_FD_BY_ID.
  func functionTypeID(named function: String) throws(ProgramBTFError) -> BTFTypeID? {
    do {
      let info = try self.info()
      guard info.btfID != 0 else { throw ProgramBTFError(reason: "program \(name) was loaded without BTF") }
      return try BTF(bytes: try BPF.btfData(try BPF.openBTF(id: info.btfID))).typeID(named: function, kind: .function)
    } catch let error as ProgramBTFError {
      throw error
    } catch {
      throw ProgramBTFError(reason: "\(error)")
    }
  }
}
