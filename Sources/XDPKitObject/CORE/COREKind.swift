extension BTFExt.CORERelocation.Kind {
  /// What the relocation computes, in words: "field byte offset", "enum value exists", ….
  public var summary: String {
    switch self {
    case .fieldByteOffset: "field byte offset"
    case .fieldByteSize: "field byte size"
    case .fieldExists: "field exists"
    case .fieldSigned: "field signedness"
    case .fieldLeftShiftU64: "field left shift"
    case .fieldRightShiftU64: "field right shift"
    case .typeIDLocal: "local type id"
    case .typeIDTarget: "target type id"
    case .typeExists: "type exists"
    case .typeSize: "type size"
    case .enumValueExists: "enum value exists"
    case .enumValueValue: "enum value"
    case .typeMatches: "type matches"
    case .unknown(let value): "kind \(value)"
    }
  }

  /// The field kinds (0–5): the access string walks members and array elements.
  public var isFieldBased: Bool { (0...5).contains(rawValue) }
  /// The type kinds (6–9, 12): the access string is `0`.
  public var isTypeBased: Bool { (6...9).contains(rawValue) || rawValue == 12 }
  /// The enum value kinds (10, 11): the access string is the index of the enumerator.
  public var isEnumValueBased: Bool { rawValue == 10 || rawValue == 11 }
}
