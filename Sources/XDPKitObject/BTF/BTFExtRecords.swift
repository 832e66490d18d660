extension BTFExt {
  /// A function record (`struct bpf_func_info`): which FUNC type describes the function that
  /// starts at an instruction.
  public struct FuncInfo: Sendable, Equatable {
    /// Size of the fields known here: `insn_off`, `type_id`.
    public static let minimumSize: UInt32 = 8

    /// Offset of the function's first instruction from the start of its ELF section, in
    /// **bytes**, as clang writes it in object files. The kernel wants an instruction index
    /// relative to the program; the loader converts (see ``instructionIndex``).
    public var insnOffset: UInt32
    /// The FUNC type of the function.
    public var typeID: BTFTypeID

    /// Creates a function record.
    public init(insnOffset: UInt32, typeID: BTFTypeID) {
      self.insnOffset = insnOffset
      self.typeID = typeID
    }

    /// ``insnOffset`` in 8-byte instructions from the start of the ELF section.
    public var instructionIndex: UInt32 { insnOffset / 8 }
  }

  /// A line record (`struct bpf_line_info`): the source line an instruction came from.
  ///
  /// The file name and the source line are kept as string-table offsets and read from the
  /// table when ``fileName`` or ``lineText`` is asked for: an object compiled with `-g` has a
  /// record for nearly every source line, and the loader only copies the offsets.
  public struct LineInfo: Sendable, Equatable {
    /// Size of the fields known here: `insn_off`, `file_name_off`, `line_off`, `line_col`.
    public static let minimumSize: UInt32 = 16

    /// Offset of the instruction from the start of its ELF section, in **bytes**, as clang
    /// writes it in object files; the loader converts it to an instruction index.
    public var insnOffset: UInt32
    /// Offset of the source file name in the BTF string table.
    public var fileNameOffset: UInt32
    /// Offset of the text of the source line in the BTF string table.
    public var lineOffset: UInt32
    /// Line number in bits 10–31, column in bits 0–9.
    public var lineCol: UInt32
    /// Where ``fileName`` and ``lineText`` come from.
    private let names: Names

    private enum Names: Sendable {
      /// The BTF string table the offsets were checked against when the record was parsed.
      case table([UInt8])
      /// Given to ``init(insnOffset:fileNameOffset:lineOffset:lineCol:fileName:lineText:)``.
      case given(fileName: String, lineText: String)
    }

    /// Creates a line record.
    public init(
      insnOffset: UInt32, fileNameOffset: UInt32, lineOffset: UInt32, lineCol: UInt32,
      fileName: String, lineText: String
    ) {
      self.insnOffset = insnOffset
      self.fileNameOffset = fileNameOffset
      self.lineOffset = lineOffset
      self.lineCol = lineCol
      self.names = .given(fileName: fileName, lineText: lineText)
    }

    /// A parsed record whose name offsets were checked against `strings`.
    init(
      insnOffset: UInt32, fileNameOffset: UInt32, lineOffset: UInt32, lineCol: UInt32,
      strings: [UInt8]
    ) {
      self.insnOffset = insnOffset
      self.fileNameOffset = fileNameOffset
      self.lineOffset = lineOffset
      self.lineCol = lineCol
      self.names = .table(strings)
    }

    /// The source file name, resolved from ``fileNameOffset``.
    public var fileName: String {
      switch names {
      case .table(let strings): Self.string(in: strings, at: fileNameOffset)
      case .given(let fileName, _): fileName
      }
    }

    /// The text of the source line, resolved from ``lineOffset``.
    public var lineText: String {
      switch names {
      case .table(let strings): Self.string(in: strings, at: lineOffset)
      case .given(_, let lineText): lineText
      }
    }

    /// The string at `offset`, which was checked to lie in `strings` before a NUL (or to be 0).
    private static func string(in strings: [UInt8], at offset: UInt32) -> String {
      strings.withUnsafeBufferPointer { table in
        let start = min(Int(offset), table.count)
        var end = start
        while end < table.count && table[end] != 0 { end += 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: table[start..<end]), as: UTF8.self)
      }
    }

    /// Equal offsets, line and column, and equal strings.
    public static func == (lhs: LineInfo, rhs: LineInfo) -> Bool {
      lhs.insnOffset == rhs.insnOffset && lhs.fileNameOffset == rhs.fileNameOffset
        && lhs.lineOffset == rhs.lineOffset && lhs.lineCol == rhs.lineCol
        && lhs.fileName == rhs.fileName && lhs.lineText == rhs.lineText
    }

    /// ``insnOffset`` in 8-byte instructions from the start of the ELF section.
    public var instructionIndex: UInt32 { insnOffset / 8 }
    /// The line number, `line_col >> 10`.
    public var lineNumber: UInt32 { lineCol >> 10 }
    /// The column, `line_col & 0x3ff`.
    public var column: UInt32 { lineCol & 0x3FF }
  }

  /// A CO-RE relocation (`struct bpf_core_relo`): an instruction whose immediate or offset
  /// depends on the layout of a type in the target kernel.
  public struct CORERelocation: Sendable, Equatable {
    /// Size of the fields known here: `insn_off`, `type_id`, `access_str_off`, `kind`.
    public static let minimumSize: UInt32 = 16

    /// Offset of the instruction from the start of its ELF section, in **bytes**.
    public var insnOffset: UInt32
    /// The local root type of the access.
    public var typeID: BTFTypeID
    /// Offset of the access string in the BTF string table.
    public var accessStringOffset: UInt32
    /// The access string, e.g. `0:1:2`: member and array indexes from the root type.
    public var accessString: String
    /// What is relocated.
    public var kind: Kind

    /// Creates a CO-RE relocation.
    public init(
      insnOffset: UInt32, typeID: BTFTypeID, accessStringOffset: UInt32, accessString: String,
      kind: Kind
    ) {
      self.insnOffset = insnOffset
      self.typeID = typeID
      self.accessStringOffset = accessStringOffset
      self.accessString = accessString
      self.kind = kind
    }

    /// ``insnOffset`` in 8-byte instructions from the start of the ELF section.
    public var instructionIndex: UInt32 { insnOffset / 8 }

    /// `enum bpf_core_relo_kind`. Values the reader does not know are kept as
    /// ``unknown(_:)``; equality and hashing compare raw values.
    public enum Kind: Sendable, Hashable, CustomStringConvertible {
      /// `BPF_CORE_FIELD_BYTE_OFFSET` (0).
      case fieldByteOffset
      /// `BPF_CORE_FIELD_BYTE_SIZE` (1).
      case fieldByteSize
      /// `BPF_CORE_FIELD_EXISTS` (2).
      case fieldExists
      /// `BPF_CORE_FIELD_SIGNED` (3).
      case fieldSigned
      /// `BPF_CORE_FIELD_LSHIFT_U64` (4).
      case fieldLeftShiftU64
      /// `BPF_CORE_FIELD_RSHIFT_U64` (5).
      case fieldRightShiftU64
      /// `BPF_CORE_TYPE_ID_LOCAL` (6).
      case typeIDLocal
      /// `BPF_CORE_TYPE_ID_TARGET` (7).
      case typeIDTarget
      /// `BPF_CORE_TYPE_EXISTS` (8).
      case typeExists
      /// `BPF_CORE_TYPE_SIZE` (9).
      case typeSize
      /// `BPF_CORE_ENUMVAL_EXISTS` (10).
      case enumValueExists
      /// `BPF_CORE_ENUMVAL_VALUE` (11).
      case enumValueValue
      /// `BPF_CORE_TYPE_MATCHES` (12).
      case typeMatches
      /// Any other value.
      case unknown(UInt32)

      private static let known: [Kind] = [
        .fieldByteOffset, .fieldByteSize, .fieldExists, .fieldSigned, .fieldLeftShiftU64,
        .fieldRightShiftU64, .typeIDLocal, .typeIDTarget, .typeExists, .typeSize,
        .enumValueExists, .enumValueValue, .typeMatches,
      ]

      /// Decodes a raw `bpf_core_relo_kind`.
      public init(rawValue: UInt32) {
        self = rawValue < Self.known.count ? Self.known[Int(rawValue)] : .unknown(rawValue)
      }

      /// The raw `bpf_core_relo_kind` value.
      public var rawValue: UInt32 {
        switch self {
        case .fieldByteOffset: 0
        case .fieldByteSize: 1
        case .fieldExists: 2
        case .fieldSigned: 3
        case .fieldLeftShiftU64: 4
        case .fieldRightShiftU64: 5
        case .typeIDLocal: 6
        case .typeIDTarget: 7
        case .typeExists: 8
        case .typeSize: 9
        case .enumValueExists: 10
        case .enumValueValue: 11
        case .typeMatches: 12
        case .unknown(let value): value
        }
      }

      /// The kernel's name without the `BPF_CORE_` prefix, or the number.
      public var description: String {
        switch Kind(rawValue: rawValue) {
        case .fieldByteOffset: "FIELD_BYTE_OFFSET"
        case .fieldByteSize: "FIELD_BYTE_SIZE"
        case .fieldExists: "FIELD_EXISTS"
        case .fieldSigned: "FIELD_SIGNED"
        case .fieldLeftShiftU64: "FIELD_LSHIFT_U64"
        case .fieldRightShiftU64: "FIELD_RSHIFT_U64"
        case .typeIDLocal: "TYPE_ID_LOCAL"
        case .typeIDTarget: "TYPE_ID_TARGET"
        case .typeExists: "TYPE_EXISTS"
        case .typeSize: "TYPE_SIZE"
        case .enumValueExists: "ENUMVAL_EXISTS"
        case .enumValueValue: "ENUMVAL_VALUE"
        case .typeMatches: "TYPE_MATCHES"
        case .unknown(let value): "kind(\(value))"
        }
      }

      /// Compares raw values.
      public static func == (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue == rhs.rawValue }

      /// Hashes the raw value.
      public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    }
  }
}
