import XDPKitObject
import XDPKitSys

extension Loader {
  /// Applies the CO-RE relocations of a linked program against the kernel's BTF
  /// (``LoadOptions/kernelBTFPath`` or /sys/kernel/btf/vmlinux, read once per process and only
  /// when a program has CO-RE relocations). Relocations that cannot be resolved poison their
  /// instruction; they are returned so that a verifier rejection there can name them.
  func applyCORE(to linked: inout LinkedProgram, program: String) throws(LoadError)
    -> [PlacedCORERelocation]
  {
    guard !linked.coreRelocations.isEmpty else { return [] }
    guard let local = object.btf else {
      // .BTF.ext was parsed against .BTF, so this cannot happen for a parsed object.
      throw .coreRelocation(failure(
        linked.coreRelocations[0], program: program, reason: .unresolved("the object has no .BTF")))
    }
    let kernel: KernelBTF
    do {
      kernel = try KernelBTF.load(path: options.kernelBTFPath ?? KernelBTF.vmlinuxPath)
    } catch {
      throw .kernelBTF(program: program, error)
    }
    let resolver = COREResolver(local: local, target: kernel.target)
    // The patcher works on decoded instructions: decoded once for the program, written back
    // as words at the end (only programs with CO-RE records get here).
    var instructions = linked.instructions.map(BPFInstruction.init(word:))
    defer { linked.instructions = instructions.map(\.word) }
    var poisoned: [PlacedCORERelocation] = []
    for placed in linked.coreRelocations {
      do throws(COREError) {
        guard placed.record.insnOffset % 8 == 0 else {
          throw .unresolved("instruction offset \(placed.record.insnOffset) is not a multiple of 8")
        }
        var resolution = try resolver.resolve(placed.record)
        if resolution.candidateCount == 0 && placed.record.kind != .typeIDLocal,
          let directory = moduleDirectory
        {
          // Not in vmlinux: look in the loaded modules' split BTF (read now, once).
          let modules: [KernelBTF]
          do { modules = try KernelBTF.modules(base: kernel, directory: directory) } catch {
            throw .unresolved("reading module BTF: \(error)")
          }
          resolution = try Self.resolveInModules(placed.record, local: local, modules: modules)
            ?? resolution
        }
        try COREPatcher.apply(resolution, to: &instructions, at: placed.instruction)
        if resolution.poisoned {
          var entry = placed
          entry.unresolvedReason = resolution.candidateCount == 0
            ? "no matching type in kernel BTF"
            : "none of the \(resolution.candidateCount) kernel type(s) of that name has it"
          poisoned.append(entry)
        }
      } catch {
        throw .coreRelocation(failure(placed, program: program, reason: error))
      }
    }
    return poisoned
  }

  /// Where module split BTF is read from: ``LoadOptions/kernelModuleBTFDirectory``, or
  /// /sys/kernel/btf when the kernel BTF is the running kernel's; `nil` (no modules) when a
  /// custom kernel BTF file is used without a module directory.
  var moduleDirectory: String? {
    options.kernelModuleBTFDirectory ?? (options.kernelBTFPath == nil ? "/sys/kernel/btf" : nil)
  }

  /// The resolution of `record` in the first module whose BTF has candidates for it; every
  /// other module with candidates must agree. `nil` when no module has any.
  static func resolveInModules(
    _ record: BTFExt.CORERelocation, local: BTF, modules: [KernelBTF]
  ) throws(COREError) -> COREResolution? {
    var found: [(module: KernelBTF, resolution: COREResolution)] = []
    for module in modules {
      let resolution = try COREResolver(local: local, target: module.target).resolve(record)
      if resolution.candidateCount > 0 { found.append((module, resolution)) }
    }
    guard let first = found.first else { return nil }
    for other in found.dropFirst()
    where other.resolution.targetValue != first.resolution.targetValue
      || other.resolution.poisoned != first.resolution.poisoned
    {
      throw .ambiguous(
        candidates: found.compactMap { $0.resolution.target?.rootTypeID },
        values: found.map(\.resolution.targetValue))
    }
    return first.resolution
  }

  /// If the verifier refused `program` at an instruction that a poisoned CO-RE relocation
  /// left (a call to helper 0xbad2310), the error naming that relocation; else `nil`.
  func poisonedRelocationError(
    _ error: ProgramLoadError, poisoned: [PlacedCORERelocation], program: String
  ) -> LoadError? {
    let log = error.verifierLog
    guard !poisoned.isEmpty, log.contains("unknown#\(COREPatcher.poisonHelperID)")
    else { return nil }
    // The verifier prints "N: (85) call unknown#195896080" for the instruction it reached.
    var reached: Int? = nil
    for line in log.split(separator: "\n") where line.contains("call unknown#\(COREPatcher.poisonHelperID)") {
      if let colon = line.firstIndex(of: ":"), let index = Int(line[..<colon]) { reached = index }
    }
    let placed = poisoned.first { $0.instruction == reached || $0.instruction + 1 == reached }
      ?? poisoned[0]
    return .coreRelocation(failure(
      placed, program: program, reason: .unresolved(placed.unresolvedReason ?? "not resolved"),
      verifierLog: log))
  }

  /// The failure report for `placed` in `program`: the path resolved in the object's BTF when
  /// it resolves, else the raw type id.
  func failure(
    _ placed: PlacedCORERelocation, program: String, reason: COREError, verifierLog: String? = nil
  ) -> CORERelocationFailure {
    let record = placed.record
    var path = "type [\(record.typeID)]"
    if let btf = object.btf,
      let spec = try? COREAccessSpec(
        btf: btf, rootTypeID: record.typeID, accessString: record.accessString, kind: record.kind)
    {
      path = spec.path
    }
    return CORERelocationFailure(
      program: program, instruction: placed.instruction, number: placed.number, kind: record.kind,
      path: path, accessString: record.accessString, reason: reason, verifierLog: verifierLog)
  }
}
