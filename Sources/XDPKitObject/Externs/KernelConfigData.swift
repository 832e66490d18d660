/// Why an extern could not be resolved.
public enum ExternError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A non-weak `__kconfig` extern names an option the kernel configuration does not set.
  case missingConfigValue(name: String)
  /// The option's value does not fit the extern's C type.
  case invalidConfigValue(name: String, value: String, type: BPFExtern.ConfigType)
  /// The object has `CONFIG_*` externs and no kernel configuration could be read.
  case configurationUnavailable(name: String, reason: String)
  /// A non-weak kernel variable or kfunc is not in the kernel (its BTF, or `/proc/kallsyms`).
  case missingKernelSymbol(name: String, place: String)
  /// A kfunc's prototype in the object differs from the kernel's.
  case incompatibleKernelFunction(name: String, reason: String)
  /// A `LINUX_*` extern that no loader defines.
  case unknownLinuxExtern(name: String)

  public var description: String {
    switch self {
    case .missingConfigValue(let name):
      return "__kconfig extern \(name): the kernel configuration does not set it (declare it __weak to get 0)"
    case .invalidConfigValue(let name, let value, let type):
      return "__kconfig extern \(name): value \(value) does not fit its type \(type)"
    case .configurationUnavailable(let name, let reason):
      return "__kconfig extern \(name): no kernel configuration: \(reason)"
    case .missingKernelSymbol(let name, let place):
      return "extern \(name) is not in \(place) (declare it __weak to load without it)"
    case .incompatibleKernelFunction(let name, let reason):
      return "kfunc \(name): \(reason)"
    case .unknownLinuxExtern(let name):
      return "__kconfig extern \(name): not a value any loader provides (LINUX_KERNEL_VERSION, LINUX_HAS_SYSCALL_WRAPPER, LINUX_HAS_BPF_COOKIE)"
    }
  }
}

/// The contents of the `.kconfig` map: each `__kconfig` extern's value at its own offset.
public struct KernelConfigData: Sendable, Equatable {
  /// Byte offset of each extern's value, by name.
  public var offsets: [String: Int]
  /// The map value.
  public var bytes: [UInt8]

  /// Lays out and encodes `externs` (the `__kconfig` ones among them) from `config` and the
  /// loader-computed `LINUX_*` values in `linux`. `config` is `nil` when none could be read;
  /// `configReason` then says why, for the error of the first `CONFIG_*` extern that needs it.
  public init(
    externs: [BPFExtern], config: KernelConfig?, configReason: String = "",
    linux: [String: UInt64]
  ) throws(ExternError) {
    offsets = [:]
    bytes = []
    for (ext, type) in Self.layoutOrder(externs) {
      let alignment = Self.alignment(of: type)
      while bytes.count % alignment != 0 { bytes.append(0) }
      offsets[ext.name] = bytes.count
      var value = [UInt8](repeating: 0, count: type.size)
      if ext.name.hasPrefix("LINUX_") {
        guard let number = linux[ext.name] else {
          if !ext.isWeak { throw .unknownLinuxExtern(name: ext.name) }
          bytes += value
          continue
        }
        value = try Self.encode(number: number, text: "\(number)", as: type, name: ext.name)
      } else if let config {
        if let text = config.values[ext.name] {
          value = try Self.encode(text: text, as: type, name: ext.name)
        } else if !ext.isWeak {
          throw .missingConfigValue(name: ext.name)
        }
      } else if !ext.isWeak {
        throw .configurationUnavailable(name: ext.name, reason: configReason)
      }
      bytes += value
    }
    while bytes.count % 8 != 0 { bytes.append(0) }
  }

  /// The `__kconfig` externs of `externs` in the order their values are laid out: by
  /// alignment, largest first, then by size, smallest first, then by name. This packs the
  /// values with little padding and gives the same offsets as libbpf, so that a program's
  /// instructions do not depend on which loader loaded it.
  static func layoutOrder(_ externs: [BPFExtern]) -> [(BPFExtern, BPFExtern.ConfigType)] {
    let configs = externs.compactMap { ext -> (BPFExtern, BPFExtern.ConfigType)? in
      guard case .kernelConfig(let type) = ext.kind else { return nil }
      return (ext, type)
    }
    return configs.sorted { a, b in
      let (alignA, alignB) = (alignment(of: a.1), alignment(of: b.1))
      if alignA != alignB { return alignA > alignB }
      if a.1.size != b.1.size { return a.1.size < b.1.size }
      return a.0.name < b.0.name
    }
  }

  static func alignment(of type: BPFExtern.ConfigType) -> Int {
    switch type {
    case .bool, .char, .string: 1
    case .tristate: 4
    case .integer(let size, _): size
    }
  }

  /// The bytes of a configuration value (`y`, `m`, `n`, a number, a quoted string).
  static func encode(text: String, as type: BPFExtern.ConfigType, name: String) throws(ExternError) -> [UInt8] {
    let invalid = ExternError.invalidConfigValue(name: name, value: text, type: type)
    switch (type, text) {
    case (.bool, "y"): return [1]
    case (.bool, "n"): return [0]
    case (.tristate, "y"): return littleEndian(1, size: 4)
    case (.tristate, "n"): return littleEndian(0, size: 4)
    case (.tristate, "m"): return littleEndian(2, size: 4)
    case (.char, "y"), (.char, "n"), (.char, "m"): return [text.utf8.first ?? 0]
    // clang marks no 1-byte integer as CHAR (`char` is SIGNED, `unsigned char` has no
    // encoding), so a one-byte extern takes a y/n/m value as its letter, as libbpf does, and
    // a number as the integer it is.
    case (.integer(size: 1, _), "y"), (.integer(size: 1, _), "n"), (.integer(size: 1, _), "m"):
      return [text.utf8.first ?? 0]
    case (.string(let capacity), _):
      guard text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") else { throw invalid }
      let inner = Array(text.utf8.dropFirst().dropLast())
      // The string and its NUL must fit: a truncated value would be silently wrong.
      guard inner.count < capacity else { throw invalid }
      return inner + [UInt8](repeating: 0, count: capacity - inner.count)
    case (.integer(let size, let signed), _):
      guard let parsed = parseInteger(text) else { throw invalid }
      return try encode(number: parsed.bitPattern, text: text, as: .integer(size: size, signed: signed), name: name,
                        negative: parsed.negative)
    default:
      throw invalid
    }
  }

  static func encode(number: UInt64, text: String, as type: BPFExtern.ConfigType, name: String,
                     negative: Bool = false) throws(ExternError) -> [UInt8] {
    let invalid = ExternError.invalidConfigValue(name: name, value: text, type: type)
    switch type {
    case .integer(let size, let signed):
      let bits = UInt64(size * 8)
      if negative {
        guard signed else { throw invalid }
        let value = Int64(bitPattern: number)
        guard bits == 64 || value >= -(Int64(1) << (bits - 1)) else { throw invalid }
      } else {
        let limit: UInt64 = bits == 64 ? (signed ? UInt64(Int64.max) : .max) : (UInt64(1) << (bits - (signed ? 1 : 0))) - 1
        guard number <= limit else { throw invalid }
      }
      return littleEndian(number, size: size)
    case .bool:
      guard number <= 1 else { throw invalid }
      return [UInt8(number)]
    default:
      throw invalid
    }
  }

  /// A decimal (optionally negative) or `0x` hexadecimal number, as Kconfig writes them.
  static func parseInteger(_ text: String) -> (bitPattern: UInt64, negative: Bool)? {
    var digits = Substring(text)
    let negative = digits.hasPrefix("-")
    if negative { digits = digits.dropFirst() }
    let value: UInt64?
    if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
      value = UInt64(digits.dropFirst(2), radix: 16)
    } else {
      value = UInt64(digits, radix: 10)
    }
    guard let magnitude = value else { return nil }
    if negative {
      guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
      return (UInt64(bitPattern: 0 &- Int64(bitPattern: magnitude)), true)
    }
    return (magnitude, false)
  }

  static func littleEndian(_ value: UInt64, size: Int) -> [UInt8] {
    (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
  }
}

extension DataSection {
  /// The `.kconfig` section the loader makes for `__kconfig` externs: read-only, with one
  /// variable per extern at its offset in `data`.
  public init(kernelConfig data: KernelConfigData, externs: [BPFExtern]) {
    var variables: [DataVariable] = []
    for ext in externs {
      guard case .kernelConfig(let type) = ext.kind, let offset = data.offsets[ext.name] else { continue }
      variables.append(DataVariable(name: ext.name, offset: UInt64(offset), size: UInt64(type.size),
                                    isGlobal: true, typeID: nil))
    }
    self.init(sectionIndex: -1, name: ".kconfig", kind: .rodata, size: UInt64(data.bytes.count),
              initialBytes: data.bytes, variables: variables, btfTypeID: nil)
  }
}
