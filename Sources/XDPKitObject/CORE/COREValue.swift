/// What one side (local or target) of a relocation computes.
struct COREValue: Equatable {
  /// The value the instruction gets (or, for the local side, should already hold).
  var value: UInt64
  /// For a FIELD_BYTE_OFFSET of a field that is not a bitfield: the field's size, which the
  /// memory access reads or writes.
  var fieldSize: Int? = nil
  /// With ``fieldSize``: the field's type, modifiers and typedefs skipped.
  var fieldType: BTFTypeID? = nil
  /// Whether the instruction must hold the local value before patching (not for bitfields,
  /// whose accesses clang shapes freely, nor for target type ids).
  var validate: Bool = true
}

/// Computes relocation values from an access spec, following the kernel's documented meaning
/// of each `enum bpf_core_relo_kind`.
enum COREValueCalculator {
  /// The value of a field relocation on `spec` in `btf`. `spec == nil` means the target has
  /// no such field: FIELD_EXISTS is 0, every other field kind cannot be computed (`nil`, the
  /// instruction is poisoned).
  static func field(_ spec: COREAccessSpec?, kind: BTFExt.CORERelocation.Kind, btf: BTF)
    throws(BTFError) -> COREValue?
  {
    if kind == .fieldExists { return COREValue(value: spec == nil ? 0 : 1) }
    guard let spec, let last = spec.accessors.last else { return nil }
    if last.name == nil {
      // The access ends in an array element (or is the root itself).
      let size = try btf.resolvedSize(of: last.typeID)
      switch kind {
      case .fieldByteOffset:
        return COREValue(value: UInt64(spec.bitOffset / 8), fieldSize: size, fieldType: last.typeID)
      case .fieldByteSize: return COREValue(value: UInt64(size))
      default: throw .typeHasNoSize(typeID: last.typeID, kind: btf.types[Int(last.typeID)].kind)
      }
    }
    let container = btf.types[Int(last.typeID)]
    guard let member = COREMatch.member(of: container, at: last.index) else {
      throw .noSuchType(id: last.typeID, count: btf.types.count)
    }
    let fieldType = try btf.skippingModifiers(member.type)
    let field = btf.types[Int(fieldType)]
    let bitfieldSize = container.kindFlag ? Int(member.bitfieldSize) : 0
    let bitOffset = spec.bitOffset
    var byteSize: Int
    var byteOffset: Int
    var bitSize: Int
    if bitfieldSize > 0 {
      // The smallest aligned load of the field type's size (doubled as needed, up to 8 bytes)
      // that covers the bitfield.
      bitSize = bitfieldSize
      byteSize = Int(field.sizeOrType)
      guard byteSize > 0 else { throw .typeHasNoSize(typeID: fieldType, kind: field.kind) }
      byteOffset = bitOffset / 8 / byteSize * byteSize
      while bitOffset + bitSize - byteOffset * 8 > byteSize * 8 {
        guard byteSize < 8 else { throw .sizeOverflow(typeID: fieldType) }
        byteSize *= 2
        byteOffset = bitOffset / 8 / byteSize * byteSize
      }
    } else {
      byteSize = try btf.resolvedSize(of: fieldType)
      byteOffset = bitOffset / 8
      bitSize = byteSize * 8
    }
    let bitfield = bitfieldSize > 0
    switch kind {
    case .fieldByteOffset:
      return COREValue(value: UInt64(byteOffset), fieldSize: bitfield ? nil : byteSize,
                       fieldType: bitfield ? nil : fieldType, validate: !bitfield)
    case .fieldByteSize:
      return COREValue(value: UInt64(byteSize), validate: !bitfield)
    case .fieldSigned:
      return COREValue(value: field.isSigned ? 1 : 0, validate: !bitfield)
    case .fieldLeftShiftU64:
      return COREValue(value: UInt64(64 - (bitOffset + bitSize - byteOffset * 8)), validate: !bitfield)
    case .fieldRightShiftU64:
      return COREValue(value: UInt64(64 - bitSize), validate: !bitfield)
    default:
      return nil
    }
  }

  /// The value of a type relocation. A missing target type gives 0 for every kind.
  static func type(_ spec: COREAccessSpec?, kind: BTFExt.CORERelocation.Kind, btf: BTF)
    throws(BTFError) -> COREValue
  {
    guard let spec else { return COREValue(value: 0, validate: kind != .typeIDTarget) }
    switch kind {
    case .typeIDLocal, .typeIDTarget:
      return COREValue(value: UInt64(spec.rootTypeID), validate: kind != .typeIDTarget)
    case .typeSize: return COREValue(value: UInt64(try btf.resolvedSize(of: spec.rootTypeID)))
    default: return COREValue(value: 1)  // exists, matches
    }
  }

  /// The value of an enum value relocation. A missing enumerator gives 0 for ENUMVAL_EXISTS;
  /// its value cannot be computed (`nil`, the instruction is poisoned).
  static func enumValue(_ spec: COREAccessSpec?, kind: BTFExt.CORERelocation.Kind, btf: BTF)
    -> COREValue?
  {
    if kind == .enumValueExists { return COREValue(value: spec == nil ? 0 : 1) }
    guard let accessor = spec?.accessors.first else { return nil }
    let type = btf.types[Int(accessor.typeID)]
    switch type.body {
    case .enum(_, let values) where accessor.index < values.count:
      // Signed enums extend the sign, unsigned ones (kind flag clear) zeros.
      let raw = values[accessor.index]
      return COREValue(value: type.kindFlag
        ? UInt64(bitPattern: Int64(raw.value)) : UInt64(raw.unsignedValue))
    case .enum64(_, let values) where accessor.index < values.count:
      return COREValue(value: values[accessor.index].value)
    default: return nil
    }
  }
}
