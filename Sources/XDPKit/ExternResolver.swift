import XDPKitMaps
import XDPKitObject
import SystemPackage
import XDPKitSys

/// How the linker rewrites a reference to an extern.
enum ExternValue: Equatable {
  /// A `__kconfig` value at this offset of the `.kconfig` map.
  case configValue(offset: Int)
  /// A kernel variable or kfunc by its BTF id: in vmlinux (`module == nil`) or in the split
  /// BTF of the named kernel module, whose BTF object the program load passes by descriptor.
  case btfID(UInt32, module: String?)
  /// A typeless kernel variable by address.
  case address(UInt64)
  /// A weak extern the kernel does not have: loads read 0, calls are poisoned.
  case absent
}

/// The call immediate of a poisoned call to a missing weak kfunc: the verifier rejects it as
/// an unknown helper if the call is reachable, and dead-code elimination removes it if not.
/// (The same base libbpf uses, so that logs read alike.)
let poisonedKfuncCallBase: Int32 = 2_002_000_000

/// The kernel configuration, read and parsed at most once per process.
enum RunningKernelConfig {
  static let parsed = parse(SystemInfo.kernelConfigurationText(), source: "the kernel configuration")

  /// The configuration in `text` (read from `source`), or why there is none.
  static func parse(_ text: Result<String, KernelConfigReadError>, source: String)
    -> Result<KernelConfig, KernelConfigReadError>
  {
    text.flatMap { text in
      do throws(KernelConfigError) { return .success(try KernelConfig(text: text)) } catch {
        return .failure(KernelConfigReadError(reason: "\(source): \(error)"))
      }
    }
  }
}

extension Loader {
  /// Resolves every extern of the object against the running kernel, creates the `.kconfig`
  /// map when there are `__kconfig` externs, and returns how each reference is rewritten.
  mutating func resolveExterns() throws(LoadError) -> [String: ExternValue] {
    let externs: [BPFExtern]
    do { externs = try object.externs() } catch { throw .invalidExtern(error) }
    guard !externs.isEmpty else { return [:] }
    var values: [String: ExternValue] = [:]

    // __kconfig values.
    let configExterns = externs.filter { if case .kernelConfig = $0.kind { true } else { false } }
    if !configExterns.isEmpty {
      var linux: [String: UInt64] = [:]
      for ext in configExterns where ext.name.hasPrefix("LINUX_") {
        switch ext.name {
        case "LINUX_KERNEL_VERSION": linux[ext.name] = UInt64(SystemInfo.kernelVersionCode())
        case "LINUX_HAS_SYSCALL_WRAPPER": linux[ext.name] = hasSyscallWrapper() ? 1 : 0
        // Whether bpf_get_attach_cookie() (helper 174, 5.15) is there, as libbpf decides it:
        // <bpf/usdt.bpf.h> reads it.
        case "LINUX_HAS_BPF_COOKIE":
          linux[ext.name] = KernelFeatures.helper(174, programType: .tracepoint).isSupported ? 1 : 0
        default: break
        }
      }
      var config: KernelConfig? = nil
      var reason = ""
      if configExterns.contains(where: { !$0.name.hasPrefix("LINUX_") }) {
        let source = options.kernelConfigPath.map {
          RunningKernelConfig.parse(SystemInfo.kernelConfigurationText(path: $0), source: $0)
        } ?? RunningKernelConfig.parsed
        switch source {
        case .success(let parsed): config = parsed
        case .failure(let error): reason = error.reason
        }
      }
      let data: KernelConfigData
      do { data = try KernelConfigData(externs: configExterns, config: config, configReason: reason, linux: linux) } catch {
        throw .unresolvedExtern(error)
      }
      try createKernelConfigMap(data, externs: configExterns)
      for (name, offset) in data.offsets { values[name] = .configValue(offset: offset) }
    }

    // __ksym variables and kfuncs.
    let kernelExterns = externs.filter { if case .kernelConfig = $0.kind { false } else { true } }
    let typeless = Set(kernelExterns.compactMap { ext -> String? in
      if case .kernelVariable(type: nil) = ext.kind { return ext.name }
      return nil
    })
    var addresses: [String: UInt64] = [:]
    if !typeless.isEmpty {
      do { addresses = try SystemInfo.kernelSymbolAddresses(named: typeless) } catch {
        throw .unresolvedExtern(.missingKernelSymbol(name: typeless.sorted()[0], place: "/proc/kallsyms (\(error.reason))"))
      }
    }
    for ext in kernelExterns {
      switch ext.kind {
      case .kernelVariable(type: nil):
        if let address = addresses[ext.name] {
          values[ext.name] = .address(address)
        } else if ext.isWeak {
          values[ext.name] = .absent
        } else {
          throw .unresolvedExtern(.missingKernelSymbol(name: ext.name, place: "/proc/kallsyms (or its addresses are hidden by kernel.kptr_restrict)"))
        }
      case .kernelVariable(type: .some):
        values[ext.name] = try resolveKernelBTF(ext, kind: .variable).value
      case .kernelFunction(let prototype):
        let (value, btf) = try resolveKernelBTF(ext, kind: .function)
        if case .btfID(let id, _) = value, let btf {
          try checkPrototype(of: ext, local: prototype, kernelFunction: id, in: btf)
        }
        values[ext.name] = value
      case .kernelConfig:
        break
      }
    }
    return values
  }

  /// Finds a `__ksym` variable or kfunc in vmlinux BTF, then in the loaded modules' split BTF
  /// (``findKernelType(_:kind:)``). A module match opens that module's BTF object for the
  /// program load. Returns how references are rewritten and the BTF the symbol is in.
  private mutating func resolveKernelBTF(_ ext: BPFExtern, kind: BTFKind) throws(LoadError)
    -> (value: ExternValue, btf: BTF?)
  {
    let (match, searched) = try findKernelType(ext.name, kind: kind)
    guard let match else {
      if ext.isWeak { return (.absent, nil) }
      throw .unresolvedExtern(.missingKernelSymbol(name: ext.name, place: searched))
    }
    if let module = match.module {
      try openModuleBTF(module, for: ext.name)
      notes.append("extern \(ext.name) resolved in the BTF of module \(module)")
    }
    return (.btfID(match.id, module: match.module), match.btf)
  }

  /// Opens the kernel's BTF object of `module` (kept for the rest of the load), and gives it
  /// the next `fd_array` slot. Slot 0 stays unused: a kfunc call's offset 0 means vmlinux.
  private mutating func openModuleBTF(_ module: String, for symbol: String) throws(LoadError) {
    guard moduleBTFs[module] == nil else { return }
    let descriptor: BPFFileDescriptor?
    do { descriptor = try BPF.kernelBTF(named: module) } catch {
      throw .unresolvedExtern(.missingKernelSymbol(
        name: symbol, place: "module \(module), whose BTF object could not be opened (\(error))"))
    }
    guard let descriptor else {
      throw .unresolvedExtern(.missingKernelSymbol(
        name: symbol, place: "module \(module): its BTF file exists but the kernel lists no BTF object of that name"))
    }
    moduleBTFs[module] = (slot: moduleBTFs.count + 1, descriptor: descriptor)
  }

  /// A kfunc's prototype must have the kernel's parameter count and the same void-ness of the
  /// return value: anything else would pass arguments the kernel function does not take.
  private func checkPrototype(
    of ext: BPFExtern, local: BTFTypeID, kernelFunction id: UInt32, in kernel: BTF
  ) throws(LoadError) {
    guard let objectBTF = object.btf,
          case .functionPrototype(let localReturn, let localParameters)? = try? objectBTF.type(id: local).body,
          case .function(let kernelPrototype, _)? = try? kernel.type(id: id).body,
          case .functionPrototype(let kernelReturn, let kernelParameters)? = try? kernel.type(id: kernelPrototype).body
    else {
      throw .unresolvedExtern(.incompatibleKernelFunction(name: ext.name, reason: "its prototype cannot be read"))
    }
    if localParameters.count != kernelParameters.count {
      throw .unresolvedExtern(.incompatibleKernelFunction(
        name: ext.name, reason: "the object declares \(localParameters.count) parameters, the kernel's has \(kernelParameters.count)"))
    }
    if (localReturn == 0) != (kernelReturn == 0) {
      throw .unresolvedExtern(.incompatibleKernelFunction(
        name: ext.name, reason: localReturn == 0 ? "the object declares it void, the kernel's returns a value" : "the object expects a value, the kernel's returns void"))
    }
  }

  private func hasSyscallWrapper() -> Bool {
    guard let prefix = SystemInfo.syscallWrapperPrefix(machine: SystemInfo.machine()) else { return false }
    let name = prefix + "sys_bpf"
    return ((try? SystemInfo.kernelSymbolAddresses(named: [name])) ?? [:])[name] != nil
  }

  /// The read-only `.kconfig` array map holding the values, frozen like `.rodata`; mmapped
  /// read-only where the kernel has mmapable arrays (5.5+), so that reading a `__kconfig`
  /// value after load is a memory read.
  private mutating func createKernelConfigMap(_ data: KernelConfigData, externs: [BPFExtern]) throws(LoadError) {
    let size = UInt32(max(data.bytes.count, 8))
    var flags: MapCreateFlags = [.readOnlyForPrograms]
    if KernelFeatures.mmapableArrays.isSupported { flags.insert(.mmapable) }
    let attributes = MapCreateAttributes(type: .array, keySize: 4, valueSize: size, maxEntries: 1,
                                         flags: flags, name: ".kconfig")
    let fd: BPFFileDescriptor
    do { fd = try BPF.createMap(attributes) } catch { throw .mapCreation(map: ".kconfig", error) }
    var bytes = data.bytes
    if bytes.count < Int(size) { bytes += [UInt8](repeating: 0, count: Int(size) - bytes.count) }
    var key: UInt32 = 0
    let result = bytes.withUnsafeBytes { BPF.updateElement(map: fd.rawValue, key: &key, value: $0.baseAddress!, flags: .any) }
    if case .failure(let e) = result { throw .mapCreation(map: ".kconfig", e) }
    do { try BPF.freeze(map: fd) } catch { throw .mapCreation(map: ".kconfig", error) }
    dataMaps[".kconfig"] = BPFMap(fileDescriptor: fd, name: ".kconfig", type: .array, keySize: 4,
                                  valueSize: Int(size), maxEntries: 1, flags: flags.rawValue)
    if flags.contains(.mmapable) {
      // Frozen: only a read-only mapping is allowed, and only one is wanted.
      if let mapping = GlobalDataMapping.map(fd, valueSize: Int(size), readOnly: true) {
        dataMappings[".kconfig"] = mapping
      } else {
        notes.append(".kconfig: mmap of the mmapable map failed (\(Errno.current)); values go through bpf(2)")
      }
    }
    loaderSections.append(DataSection(kernelConfig: data, externs: externs))
  }
}
