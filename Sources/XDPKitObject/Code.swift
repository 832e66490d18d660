/// A function found in an executable section: a program entry point or a subprogram.
public struct BPFFunction: Sendable, Equatable {
  /// The symbol name.
  public var name: String
  /// Index of the symbol in the symbol table.
  public var symbolIndex: Int
  /// Index of the executable section holding the function.
  public var sectionIndex: Int
  /// Name of that section, e.g. `xdp` or `.text`.
  public var sectionName: String
  /// Byte offset of the first instruction inside the section (a multiple of 8).
  public var offset: UInt64
  /// Size in bytes (a multiple of 8).
  public var size: UInt64
  /// Whether the symbol is global (STB_GLOBAL/STB_WEAK) rather than static.
  public var isGlobal: Bool
  /// The raw instruction bytes, little-endian, `size` bytes long.
  public var bytes: [UInt8]
  /// For a fragment of another function, that function's name: compilers that split a
  /// function into hot and cold parts emit the cold part as `name.cold` or `name.cold.N`,
  /// reached by jumps from `name` (and jumping back). A fragment is never a program; it is
  /// loaded as part of its parent. `nil` for an ordinary function.
  public var fragmentOf: String? = nil

  /// Number of 8-byte instruction slots (a 16-byte `ld_imm64` counts as two).
  public var instructionCount: Int { bytes.count / 8 }

  /// The name of the function that `name` is a cold fragment of: `name` without its `.cold`
  /// or `.cold.N` suffix; `nil` when `name` has no such suffix.
  public static func fragmentParentName(_ name: String) -> String? {
    var rest = Substring(name)
    if let dot = rest.lastIndex(of: "."), rest[rest.index(after: dot)...].allSatisfy(\.isNumber),
       rest.index(after: dot) < rest.endIndex {
      rest = rest[..<dot]
    }
    guard rest.hasSuffix(".cold"), rest.count > ".cold".count else { return nil }
    return String(rest.dropLast(".cold".count))
  }

  /// Whether `name` has `.cold` in it: only then can it name a fragment (a byte search, much
  /// cheaper than ``fragmentParentName(_:)`` for the names of ordinary functions).
  static func mentionsCold(_ name: String) -> Bool {
    var name = name
    return name.withUTF8 { bytes in
      guard bytes.count >= 5 else { return false }
      for i in 0...(bytes.count - 5)
      where bytes[i] == UInt8(ascii: ".") && bytes[i + 1] == UInt8(ascii: "c")
        && bytes[i + 2] == UInt8(ascii: "o") && bytes[i + 3] == UInt8(ascii: "l")
        && bytes[i + 4] == UInt8(ascii: "d") {
        return true
      }
      return false
    }
  }

  /// The decoded instructions, one per 8-byte slot.
  public var instructions: [BPFInstruction] {
    bytes.withUnsafeBytes { raw in
      let count = raw.count / 8
      return [BPFInstruction](unsafeUninitializedCapacity: count) { buffer, initialized in
        for i in 0..<count {
          buffer.initializeElement(at: i, to: BPFInstruction(word: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))))
        }
        initialized = count
      }
    }
  }
}

/// A program: a function in an executable section other than `.text` that is not a fragment
/// of another function (see ``BPFFunction/fragmentOf``), with what its section name says
/// about loading it.
public struct BPFProgram: Sendable, Equatable {
  /// The function: name, section, instructions.
  public var function: BPFFunction
  /// Program type, expected attach type and flags inferred from the section name.
  public var kind: ProgramSectionKind
  /// Relocations whose offset lies inside this function (offsets are section offsets).
  public var relocations: [BPFRelocation]

  /// The program's name (its symbol name).
  public var name: String { function.name }
  /// The section it was compiled into, e.g. `xdp`.
  public var sectionName: String { function.sectionName }
  /// The inferred program type, if the section name is recognised.
  public var programType: BPFProgramType? { kind.programType }
}

/// The relocation types BPF objects use (`R_BPF_*` from the LLVM BPF backend).
public enum BPFRelocationType: UInt32, Sendable, Equatable, CustomStringConvertible {
  /// No relocation.
  case none = 0
  /// 64-bit immediate of an `ld_imm64` (maps, global data, function pointers).
  case r64_64 = 1
  /// Absolute 64-bit data (DWARF, `.maps` initial values).
  case abs64 = 2
  /// Absolute 32-bit data (DWARF, `.BTF`, `.BTF.ext`).
  case abs32 = 3
  /// 32-bit data not applied by dynamic loaders (`.BTF`, `.BTF.ext` offsets).
  case nodyld32 = 4
  /// The 32-bit immediate of a call instruction (bpf-to-bpf calls).
  case r64_32 = 10

  public var description: String {
    switch self {
    case .none: return "R_BPF_NONE"
    case .r64_64: return "R_BPF_64_64"
    case .abs64: return "R_BPF_64_ABS64"
    case .abs32: return "R_BPF_64_ABS32"
    case .nodyld32: return "R_BPF_64_NODYLD32"
    case .r64_32: return "R_BPF_64_32"
    }
  }
}

/// What a relocation refers to, as the loader will need to resolve it.
public enum RelocationTarget: Sendable, Equatable {
  /// A map of this object (legacy `maps` or BTF `.maps`), by name.
  case map(name: String)
  /// A byte offset inside a global-data section (`.data`, `.rodata`, `.bss`, `.data.*`, …);
  /// `variable` names the variable at that offset when a symbol covers it.
  case data(section: String, offset: Int64, variable: String?)
  /// A call to a BPF function of this object: target section index and byte offset in it.
  case call(section: Int, offset: Int64)
  /// The address of a BPF function (`ld_imm64` with BPF_PSEUDO_FUNC, e.g. a `bpf_loop` callback).
  case functionAddress(section: Int, offset: Int64)
  /// An undefined symbol: a `__kconfig` / `__ksym` extern or a kfunc.
  case external(name: String)
  /// A relocation outside code: in `.maps`, the symbol stored in a program-array or
  /// map-in-map slot (see ``BPFMapDefinition/initialValues``). Not applied to instructions.
  case sectionData(section: Int, offset: UInt64)
}

/// One relocation entry with its symbol resolved and its target classified.
public struct BPFRelocation: Sendable, Equatable {
  /// Index of the section the relocation applies to.
  public var sectionIndex: Int
  /// Byte offset inside that section.
  public var offset: UInt64
  /// The relocation type.
  public var type: BPFRelocationType
  /// Index of the symbol in the symbol table.
  public var symbolIndex: Int
  /// Name of the symbol (for a section symbol, the section's name).
  public var symbolName: String
  /// What the relocation refers to.
  public var target: RelocationTarget
}

/// The relocations of one section (the contents of `.rel<section>`).
public struct SectionRelocations: Sendable, Equatable {
  /// Index of the `.rel…` section itself.
  public var relocationSectionIndex: Int
  /// Index of the section the relocations apply to.
  public var targetSectionIndex: Int
  /// Name of that section.
  public var targetSectionName: String
  /// The entries, in file order.
  public var entries: [BPFRelocation]
}
