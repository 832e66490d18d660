import XDPKitObject
import XDPKitSys

/// A named type found in the kernel's BTF: in vmlinux, or in a loaded module's split BTF.
struct KernelTypeMatch {
  /// Its id, numbered as the kernel numbers it (a module's ids continue vmlinux's).
  var id: UInt32
  /// The BTF it is in; a module's split BTF includes vmlinux's types.
  var btf: BTF
  /// The module's name; `nil` for vmlinux.
  var module: String?
}

extension Loader {
  /// Looks up the type `name` of kind `kind` in vmlinux BTF (``LoadOptions/kernelBTFPath``),
  /// then in the split BTF of the loaded modules (``moduleDirectory``, read only then). Kfuncs,
  /// `__ksym` variables and tracing attach targets are found this way.
  ///
  /// - Returns: the match, or `nil` and where it was looked for, for the caller's error.
  func findKernelType(_ name: String, kind: BTFKind) throws(LoadError) -> (match: KernelTypeMatch?, searched: String) {
    let vmlinuxPath = options.kernelBTFPath ?? KernelBTF.vmlinuxPath
    let kernel: KernelBTF
    do { kernel = try KernelBTF.load(path: vmlinuxPath) } catch {
      throw .kernelBTFUnavailable(path: vmlinuxPath, reason: "\(error)")
    }
    if let id = kernel.btf.typeID(named: name, kind: kind) {
      return (KernelTypeMatch(id: UInt32(id), btf: kernel.btf, module: nil), "")
    }
    guard let directory = moduleDirectory else {
      return (nil, "vmlinux BTF (\(vmlinuxPath)); kernel module BTF is not searched with a custom kernel BTF "
        + "file unless LoadOptions.kernelModuleBTFDirectory is set")
    }
    let modules: [KernelBTF]
    do { modules = try KernelBTF.modules(base: kernel, directory: directory) } catch {
      throw .kernelBTFUnavailable(path: directory, reason: "\(error)")
    }
    for module in modules {
      if let moduleName = module.module, let id = module.typeID(named: name, kind: kind) {
        return (KernelTypeMatch(id: UInt32(id), btf: module.btf, module: moduleName), "")
      }
    }
    return (nil, "vmlinux BTF (\(vmlinuxPath)) or the BTF of \(modules.count) loaded module(s) in \(directory)")
  }
}
