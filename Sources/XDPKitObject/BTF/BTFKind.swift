/// A BTF type id: an index into ``BTF/types``. Id 0 is `void`.
public typealias BTFTypeID = UInt32

/// The kind of a BTF type. The raw value is the `BTF_KIND_*` number of the Linux uapi header
/// `linux/btf.h`, stored in bits 24–28 of a type record's `info` word.
public enum BTFKind: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  /// `BTF_KIND_UNKN`: type id 0, `void`. No record in a type section has this kind.
  case void = 0
  /// `BTF_KIND_INT`: an integer, `char` or `bool`.
  case int = 1
  /// `BTF_KIND_PTR`: a pointer.
  case pointer = 2
  /// `BTF_KIND_ARRAY`: a fixed-size array.
  case array = 3
  /// `BTF_KIND_STRUCT`: a struct.
  case `struct` = 4
  /// `BTF_KIND_UNION`: a union.
  case union = 5
  /// `BTF_KIND_ENUM`: an enumeration with values of up to 32 bits.
  case `enum` = 6
  /// `BTF_KIND_FWD`: a forward declaration of a struct or union.
  case forward = 7
  /// `BTF_KIND_TYPEDEF`: a typedef.
  case typedef = 8
  /// `BTF_KIND_VOLATILE`: the `volatile` qualifier.
  case volatile = 9
  /// `BTF_KIND_CONST`: the `const` qualifier.
  case const = 10
  /// `BTF_KIND_RESTRICT`: the `restrict` qualifier.
  case restrict = 11
  /// `BTF_KIND_FUNC`: a function, referring to its prototype.
  case function = 12
  /// `BTF_KIND_FUNC_PROTO`: a function prototype: return type and parameters.
  case functionPrototype = 13
  /// `BTF_KIND_VAR`: a global variable.
  case variable = 14
  /// `BTF_KIND_DATASEC`: an ELF data section and the variables in it.
  case dataSection = 15
  /// `BTF_KIND_FLOAT`: a floating-point type.
  case float = 16
  /// `BTF_KIND_DECL_TAG`: a tag attached to a declaration or one of its members or parameters.
  case declarationTag = 17
  /// `BTF_KIND_TYPE_TAG`: a tag attached to a type.
  case typeTag = 18
  /// `BTF_KIND_ENUM64`: an enumeration with values of up to 64 bits.
  case enum64 = 19

  /// The kernel's name for the kind, e.g. `FUNC_PROTO`.
  public var description: String {
    switch self {
    case .void: "VOID"
    case .int: "INT"
    case .pointer: "PTR"
    case .array: "ARRAY"
    case .struct: "STRUCT"
    case .union: "UNION"
    case .enum: "ENUM"
    case .forward: "FWD"
    case .typedef: "TYPEDEF"
    case .volatile: "VOLATILE"
    case .const: "CONST"
    case .restrict: "RESTRICT"
    case .function: "FUNC"
    case .functionPrototype: "FUNC_PROTO"
    case .variable: "VAR"
    case .dataSection: "DATASEC"
    case .float: "FLOAT"
    case .declarationTag: "DECL_TAG"
    case .typeTag: "TYPE_TAG"
    case .enum64: "ENUM64"
    }
  }

  /// Whether the `vlen` bits of the `info` word carry a value for this kind: an item count for
  /// structs, unions, enums, prototypes and data sections, the linkage for functions.
  var usesVlen: Bool {
    switch self {
    case .struct, .union, .enum, .enum64, .functionPrototype, .dataSection, .function: true
    default: false
    }
  }
}
