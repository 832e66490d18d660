/// One BTF type: a record of the type section of `.BTF` (`struct btf_type` and the data that
/// follows it), decoded.
///
/// The kind-specific contents are in ``body``; the kind flag, whose meaning depends on the kind,
/// is kept as read in ``kindFlag`` and interpreted by ``isSigned``, ``forwardKind`` and the
/// bitfield split of ``Member``. The raw words of the record (``info``, ``sizeOrType``) are
/// computed from these, so a type read from a section is written back unchanged by
/// ``BTF/encoded()``.
///
/// Names are kept both as offsets into the string table (which is what is encoded) and as
/// resolved strings. When a type is stored into a ``BTF`` with ``BTF/replaceType(id:with:)`` or
/// ``BTF/appendType(_:)``, its names are resolved again from the offsets.
public struct BTFType: Sendable, Equatable {
  /// The name, or `nil` for an anonymous type (name offset 0).
  public var name: String?
  /// Offset of the name in the string table; 0 for anonymous types.
  public var nameOffset: UInt32
  /// Bit 31 of the `info` word. It says whether an enum is signed, whether a forward declaration
  /// is of a union, and whether struct and union member offsets carry bitfield sizes.
  public var kindFlag: Bool
  /// The kind-specific contents.
  public var body: Body

  /// Creates a type. The name strings of the type and its items are left `nil`; a ``BTF``
  /// resolves them from the offsets when the type is stored into it.
  public init(nameOffset: UInt32 = 0, kindFlag: Bool = false, body: Body) {
    self.name = nil
    self.nameOffset = nameOffset
    self.kindFlag = kindFlag
    self.body = body
  }

  /// `void`, type id 0.
  public static let void = BTFType(body: .void)

  /// The kind, derived from ``body``.
  public var kind: BTFKind { body.kind }

  /// The `vlen` bits of the `info` word: the number of members, values, parameters or
  /// entries, or for a function its linkage; 0 for other kinds.
  public var vlen: Int {
    switch body {
    case .struct(_, let members), .union(_, let members): members.count
    case .enum(_, let values): values.count
    case .enum64(_, let values): values.count
    case .functionPrototype(_, let parameters): parameters.count
    case .dataSection(_, let entries): entries.count
    case .function(_, let linkage): Int(linkage.rawValue)
    default: 0
    }
  }

  /// The raw `info` word: kind flag in bit 31, kind in bits 24–28, vlen in bits 0–15.
  /// (A vlen beyond 16 bits is truncated; ``BTF`` never stores such a type.)
  public var info: UInt32 {
    (kindFlag ? 1 << 31 : 0) | UInt32(kind.rawValue) << 24
      | (UInt32(truncatingIfNeeded: vlen) & 0xFFFF)
  }

  /// The raw word after `info`: the size for INT, STRUCT, UNION, ENUM, ENUM64, DATASEC and
  /// FLOAT; the referenced type id for PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC,
  /// FUNC_PROTO (return type), VAR, DECL_TAG and TYPE_TAG; 0 for VOID, ARRAY and FWD.
  public var sizeOrType: UInt32 {
    switch body {
    case .void, .array, .forward: 0
    case .int(let info): info.size
    case .struct(let size, _), .union(let size, _), .enum(let size, _), .enum64(let size, _),
      .dataSection(let size, _), .float(let size):
      size
    case .pointer(let target), .typedef(let target), .volatile(let target), .const(let target),
      .restrict(let target), .typeTag(let target):
      target
    case .function(let prototype, _): prototype
    case .functionPrototype(let returnType, _): returnType
    case .variable(let type, _): type
    case .declarationTag(let type, _): type
    }
  }

  /// For INT, whether the encoding has the signed bit; for ENUM and ENUM64, the kind flag;
  /// `false` for other kinds.
  public var isSigned: Bool {
    switch body {
    case .int(let info): info.encoding.contains(.signed)
    case .enum, .enum64: kindFlag
    default: false
    }
  }

  /// For FWD, what it declares: ``BTFKind/union`` when the kind flag is set, otherwise
  /// ``BTFKind/struct``. `nil` for other kinds.
  public var forwardKind: BTFKind? {
    guard case .forward = body else { return nil }
    return kindFlag ? .union : .struct
  }

  /// Every type id this type refers to, in record order: pointee, element and index types,
  /// member, parameter and return types, variable types, data section entries, tag targets.
  public var referencedTypeIDs: [BTFTypeID] {
    switch body {
    case .void, .int, .enum, .enum64, .forward, .float: []
    case .pointer(let target), .typedef(let target), .volatile(let target), .const(let target),
      .restrict(let target), .typeTag(let target):
      [target]
    case .array(let info): [info.elementType, info.indexType]
    case .struct(_, let members), .union(_, let members): members.map(\.type)
    case .function(let prototype, _): [prototype]
    case .functionPrototype(let returnType, let parameters): [returnType] + parameters.map(\.type)
    case .variable(let type, _): [type]
    case .dataSection(_, let entries): entries.map(\.type)
    case .declarationTag(let type, _): [type]
    }
  }
}

extension BTFType {
  /// The kind-specific contents of a type record.
  public enum Body: Sendable, Equatable {
    /// `void`, type id 0. Never read from a record.
    case void
    /// INT: size in bytes, encoding, bit offset and bit count.
    case int(IntegerInfo)
    /// PTR: the pointee type.
    case pointer(to: BTFTypeID)
    /// ARRAY: element type, index type and element count.
    case array(ArrayInfo)
    /// STRUCT: size in bytes and members.
    case `struct`(size: UInt32, members: [Member])
    /// UNION: size in bytes and members.
    case union(size: UInt32, members: [Member])
    /// ENUM: size in bytes and values. The kind flag says whether the values are signed.
    case `enum`(size: UInt32, values: [EnumValue])
    /// ENUM64: size in bytes and 64-bit values. The kind flag says whether they are signed.
    case enum64(size: UInt32, values: [Enum64Value])
    /// FWD: a forward declaration; the kind flag says whether of a union or a struct.
    case forward
    /// TYPEDEF: the aliased type. The name is the typedef's name.
    case typedef(BTFTypeID)
    /// VOLATILE: the qualified type.
    case volatile(BTFTypeID)
    /// CONST: the qualified type.
    case const(BTFTypeID)
    /// RESTRICT: the qualified type.
    case restrict(BTFTypeID)
    /// FUNC: the FUNC_PROTO describing the signature, and the linkage (stored in `vlen`).
    case function(prototype: BTFTypeID, linkage: Linkage)
    /// FUNC_PROTO: return type (0 for void) and parameters.
    case functionPrototype(returnType: BTFTypeID, parameters: [Parameter])
    /// VAR: the variable's type and linkage.
    case variable(type: BTFTypeID, linkage: Linkage)
    /// DATASEC: the section size and the variables in it. Clang writes size 0 and the loader
    /// fills in the ELF section size.
    case dataSection(size: UInt32, entries: [DataSectionEntry])
    /// FLOAT: size in bytes.
    case float(size: UInt32)
    /// DECL_TAG: the tagged type, and the member or parameter index, or -1 for the whole type.
    /// The tag text is the type's name.
    case declarationTag(type: BTFTypeID, componentIndex: Int32)
    /// TYPE_TAG: the tagged type. The tag text is the type's name.
    case typeTag(BTFTypeID)

    /// The kind this body encodes as.
    public var kind: BTFKind {
      switch self {
      case .void: .void
      case .int: .int
      case .pointer: .pointer
      case .array: .array
      case .struct: .struct
      case .union: .union
      case .enum: .enum
      case .enum64: .enum64
      case .forward: .forward
      case .typedef: .typedef
      case .volatile: .volatile
      case .const: .const
      case .restrict: .restrict
      case .function: .function
      case .functionPrototype: .functionPrototype
      case .variable: .variable
      case .dataSection: .dataSection
      case .float: .float
      case .declarationTag: .declarationTag
      case .typeTag: .typeTag
      }
    }
  }

  /// The `BTF_INT_*` encoding bits of an INT type.
  public struct IntegerEncoding: OptionSet, Sendable, Hashable {
    /// The four encoding bits (bits 24–27 of the INT data word).
    public var rawValue: UInt8
    /// Creates an encoding from its bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// `BTF_INT_SIGNED`.
    public static let signed = IntegerEncoding(rawValue: 1 << 0)
    /// `BTF_INT_CHAR`.
    public static let char = IntegerEncoding(rawValue: 1 << 1)
    /// `BTF_INT_BOOL`.
    public static let bool = IntegerEncoding(rawValue: 1 << 2)
  }

  /// The contents of an INT type: its size and the `u32` that follows the record.
  public struct IntegerInfo: Sendable, Equatable {
    /// Size in bytes.
    public var size: UInt32
    /// Signed, char or bool.
    public var encoding: IntegerEncoding
    /// Bit offset of the value inside its storage (`BTF_INT_OFFSET`).
    public var offset: UInt8
    /// Number of value bits (`BTF_INT_BITS`).
    public var bits: UInt8

    /// Creates the contents of an INT type.
    public init(size: UInt32, encoding: IntegerEncoding, offset: UInt8 = 0, bits: UInt8) {
      self.size = size
      self.encoding = encoding
      self.offset = offset
      self.bits = bits
    }

    /// The raw data word: encoding in bits 24–27, offset in bits 16–23, bits in 0–7.
    public var dataWord: UInt32 {
      UInt32(encoding.rawValue & 0x0F) << 24 | UInt32(offset) << 16 | UInt32(bits)
    }
  }

  /// The contents of an ARRAY type (`struct btf_array`).
  public struct ArrayInfo: Sendable, Equatable {
    /// The element type.
    public var elementType: BTFTypeID
    /// The index type (clang uses an INT named `__ARRAY_SIZE_TYPE__`).
    public var indexType: BTFTypeID
    /// The number of elements.
    public var count: UInt32

    /// Creates the contents of an ARRAY type.
    public init(elementType: BTFTypeID, indexType: BTFTypeID, count: UInt32) {
      self.elementType = elementType
      self.indexType = indexType
      self.count = count
    }
  }

  /// A member of a STRUCT or UNION (`struct btf_member`).
  public struct Member: Sendable, Equatable {
    /// The member name, or `nil` for an anonymous member.
    public var name: String?
    /// Offset of the name in the string table; 0 when anonymous.
    public var nameOffset: UInt32
    /// The member type.
    public var type: BTFTypeID
    /// Offset of the member from the start of the struct, in bits.
    public var bitOffset: UInt32
    /// Width of a bitfield member in bits; 0 for a member that is not a bitfield. Only encoded
    /// when the struct's kind flag is set, which then limits ``bitOffset`` to 24 bits.
    public var bitfieldSize: UInt8

    /// Creates a member. The name string is resolved when the type is stored into a ``BTF``.
    public init(nameOffset: UInt32, type: BTFTypeID, bitOffset: UInt32, bitfieldSize: UInt8 = 0) {
      self.name = nil
      self.nameOffset = nameOffset
      self.type = type
      self.bitOffset = bitOffset
      self.bitfieldSize = bitfieldSize
    }

    /// The byte offset, or `nil` when the member does not start on a byte boundary.
    public var byteOffset: UInt32? {
      bitOffset % 8 == 0 ? bitOffset / 8 : nil
    }
  }

  /// A value of an ENUM (`struct btf_enum`).
  public struct EnumValue: Sendable, Equatable {
    /// The enumerator name.
    public var name: String?
    /// Offset of the name in the string table.
    public var nameOffset: UInt32
    /// The value as stored (`__s32`).
    public var value: Int32

    /// Creates an enumerator. The name string is resolved when the type is stored into a
    /// ``BTF``.
    public init(nameOffset: UInt32, value: Int32) {
      self.name = nil
      self.nameOffset = nameOffset
      self.value = value
    }

    /// The value read as unsigned, for enums whose kind flag is clear.
    public var unsignedValue: UInt32 { UInt32(bitPattern: value) }
  }

  /// A value of an ENUM64 (`struct btf_enum64`), its two 32-bit halves combined.
  public struct Enum64Value: Sendable, Equatable {
    /// The enumerator name.
    public var name: String?
    /// Offset of the name in the string table.
    public var nameOffset: UInt32
    /// The value, `val_hi32 << 32 | val_lo32`.
    public var value: UInt64

    /// Creates an enumerator. The name string is resolved when the type is stored into a
    /// ``BTF``.
    public init(nameOffset: UInt32, value: UInt64) {
      self.name = nil
      self.nameOffset = nameOffset
      self.value = value
    }

    /// The value read as signed, for enums whose kind flag is set.
    public var signedValue: Int64 { Int64(bitPattern: value) }
    /// The low 32 bits (`val_lo32`).
    public var low: UInt32 { UInt32(truncatingIfNeeded: value) }
    /// The high 32 bits (`val_hi32`).
    public var high: UInt32 { UInt32(truncatingIfNeeded: value >> 32) }
  }

  /// A parameter of a FUNC_PROTO (`struct btf_param`). A final parameter with type 0 and no
  /// name marks a variadic function.
  public struct Parameter: Sendable, Equatable {
    /// The parameter name, or `nil`.
    public var name: String?
    /// Offset of the name in the string table.
    public var nameOffset: UInt32
    /// The parameter type.
    public var type: BTFTypeID

    /// Creates a parameter. The name string is resolved when the type is stored into a ``BTF``.
    public init(nameOffset: UInt32, type: BTFTypeID) {
      self.name = nil
      self.nameOffset = nameOffset
      self.type = type
    }
  }

  /// A variable placed in a DATASEC (`struct btf_var_secinfo`).
  public struct DataSectionEntry: Sendable, Equatable {
    /// The VAR type (or FUNC, for extern functions in `.ksyms`).
    public var type: BTFTypeID
    /// Offset of the variable in the section, in bytes. Clang writes the symbol's value; the
    /// loader may have to fix it up from the ELF symbol table.
    public var offset: UInt32
    /// Size of the variable in bytes.
    public var size: UInt32

    /// Creates a data section entry.
    public init(type: BTFTypeID, offset: UInt32, size: UInt32) {
      self.type = type
      self.offset = offset
      self.size = size
    }
  }

  /// The linkage of a FUNC (`enum btf_func_linkage`, stored in `vlen`) or VAR (`BTF_VAR_*`,
  /// stored in the `u32` after the record). Values the reader does not know are kept as
  /// ``unknown(_:)``; equality and hashing compare raw values.
  public enum Linkage: Sendable, Hashable, CustomStringConvertible {
    /// `BTF_FUNC_STATIC` / `BTF_VAR_STATIC`: 0.
    case `static`
    /// `BTF_FUNC_GLOBAL` / `BTF_VAR_GLOBAL_ALLOCATED`: 1.
    case global
    /// `BTF_FUNC_EXTERN` / `BTF_VAR_GLOBAL_EXTERN`: 2.
    case extern
    /// Any other value.
    case unknown(UInt32)

    /// Decodes a raw linkage value.
    public init(rawValue: UInt32) {
      switch rawValue {
      case 0: self = .static
      case 1: self = .global
      case 2: self = .extern
      default: self = .unknown(rawValue)
      }
    }

    /// The raw linkage value.
    public var rawValue: UInt32 {
      switch self {
      case .static: 0
      case .global: 1
      case .extern: 2
      case .unknown(let value): value
      }
    }

    /// `static`, `global`, `extern`, or the number.
    public var description: String {
      switch Linkage(rawValue: rawValue) {
      case .static: "static"
      case .global: "global"
      case .extern: "extern"
      case .unknown(let value): "linkage(\(value))"
      }
    }

    /// Compares raw values.
    public static func == (lhs: Linkage, rhs: Linkage) -> Bool { lhs.rawValue == rhs.rawValue }

    /// Hashes the raw value.
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
  }
}
