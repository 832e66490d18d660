/// A symbol a program uses but the object does not define: a `__kconfig` value, a `__ksym`
/// kernel variable or a kfunc. The loader resolves each one against the running kernel.
public struct BPFExtern: Sendable, Equatable {
  /// How a `__kconfig` extern's C type says its value is stored.
  public enum ConfigType: Sendable, Equatable, CustomStringConvertible {
    /// `bool` (`_Bool`): 1 for `y`, 0 for `n`.
    case bool
    /// `enum libbpf_tristate`: 0 for `n`, 1 for `y`, 2 for `m`.
    case tristate
    /// `char`: the value letter itself (`'y'`, `'n'`, `'m'`).
    case char
    /// An integer of `size` bytes.
    case integer(size: Int, signed: Bool)
    /// A `char` array of `capacity` bytes, for string options.
    case string(capacity: Int)

    /// Bytes the value takes.
    public var size: Int {
      switch self {
      case .bool, .char: 1
      case .tristate: 4
      case .integer(let size, _): size
      case .string(let capacity): capacity
      }
    }

    public var description: String {
      switch self {
      case .bool: "bool"
      case .tristate: "tristate"
      case .char: "char"
      case .integer(let size, let signed): "\(signed ? "" : "u")int\(size * 8)"
      case .string(let capacity): "char[\(capacity)]"
      }
    }
  }

  /// What kind of extern it is.
  public enum Kind: Sendable, Equatable {
    /// A `__kconfig` extern (in the `.kconfig` DATASEC).
    case kernelConfig(ConfigType)
    /// A `__ksym` kernel variable; `type` is its type in the object's BTF, `nil` for a
    /// typeless (`const void`) one, which is resolved by address from `/proc/kallsyms`.
    case kernelVariable(type: BTFTypeID?)
    /// A kfunc: a kernel function called from BPF, with its FUNC_PROTO in the object's BTF.
    case kernelFunction(prototype: BTFTypeID)
  }

  /// The symbol name.
  public var name: String
  /// What it is.
  public var kind: Kind
  /// Declared `__weak`: it may be missing, and is then zero (or, for a kfunc, absent, so
  /// that `bpf_ksym_exists()` is false).
  public var isWeak: Bool
  /// The VAR or FUNC describing it in the object's BTF.
  public var btfTypeID: BTFTypeID
}

extension BPFObject {
  /// The externs the object's code refers to, in the order of first reference. Each one is
  /// described by its BTF (clang emits it for every extern it keeps): an extern without BTF,
  /// or of a C type a `__kconfig` value cannot have, is an error naming it.
  public func externs() throws(ObjectError) -> [BPFExtern] {
    var names: [String] = []
    var seen: Set<String> = []
    for section in relocations {
      for entry in section.entries {
        if case .external(let name) = entry.target, seen.insert(name).inserted { names.append(name) }
      }
    }
    guard !names.isEmpty else { return [] }
    guard let btf else { throw .externWithoutBTF(name: names[0]) }

    // Which DATASEC lists each extern VAR.
    var sectionOf: [BTFTypeID: String] = [:]
    for type in btf.types {
      if case .dataSection(_, let entries) = type.body, let name = type.name {
        for entry in entries { sectionOf[entry.type] = name }
      }
    }
    var result: [BPFExtern] = []
    for name in names {
      let weak = elf.symbols.contains { $0.isUndefined && $0.binding == ELFConstants.stbWeak && $0.isNamed(name) }
      guard let (id, type) = btf.types.enumerated().lazy.compactMap({ index, type -> (BTFTypeID, BTFType)? in
        guard type.name == name else { return nil }
        switch type.body {
        case .variable(_, .extern), .function(_, .extern): return (BTFTypeID(index), type)
        default: return nil
        }
      }).first else {
        throw .externWithoutBTF(name: name)
      }
      // clang lists a `__ksym` extern (VAR or FUNC) in the `.ksyms` DATASEC and a `__kconfig`
      // one in `.kconfig`; any other extern is for a linker to resolve, not the kernel.
      let section = sectionOf[id]
      guard section == ".ksyms" || section == ".kconfig" else { throw .externNotKernelSymbol(name: name) }
      let kind: BPFExtern.Kind
      switch type.body {
      case .function(let prototype, _):
        kind = .kernelFunction(prototype: prototype)
      case .variable(let variableType, _):
        if section == ".kconfig" {
          kind = .kernelConfig(try Self.configType(of: variableType, in: btf, extern: name))
        } else {
          let resolved = (try? btf.skippingModifiers(variableType)) ?? 0
          kind = .kernelVariable(type: resolved == 0 ? nil : variableType)
        }
      default:
        throw .externWithoutBTF(name: name)
      }
      result.append(BPFExtern(name: name, kind: kind, isWeak: weak, btfTypeID: id))
    }
    return result
  }

  /// The storage class of a `__kconfig` extern's type.
  static func configType(of id: BTFTypeID, in btf: BTF, extern name: String) throws(ObjectError)
    -> BPFExtern.ConfigType
  {
    let unsupported = ObjectError.unsupportedExternType(name: name, reason: "a __kconfig value must be bool, char, an integer, enum libbpf_tristate or a char array")
    guard let resolved = try? btf.skippingModifiers(id), let type = try? btf.type(id: resolved) else {
      throw unsupported
    }
    switch type.body {
    case .int(let info):
      if info.encoding.contains(.bool) && info.size == 1 { return .bool }
      if info.encoding.contains(.char) && info.size == 1 { return .char }
      guard [1, 2, 4, 8].contains(info.size) else { throw unsupported }
      return .integer(size: Int(info.size), signed: info.encoding.contains(.signed))
    case .enum(let size, _) where type.name == "libbpf_tristate" && size == 4:
      return .tristate
    case .array(let array):
      guard let element = try? btf.skippingModifiers(array.elementType),
            case .int(let info)? = try? btf.type(id: element).body, info.size == 1, array.count > 0
      else { throw unsupported }
      return .string(capacity: Int(array.count))
    default:
      throw unsupported
    }
  }
}
