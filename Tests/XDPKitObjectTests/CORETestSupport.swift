// Builders for the hand-made local and target BTF of the CO-RE tests.

@testable import XDPKitObject

/// Builds a BTF type by type; every method returns the new type's id.
struct BTFBuilder {
  var btf = BTF()

  mutating func name(_ s: String?) throws -> UInt32 {
    guard let s else { return 0 }
    return try btf.appendString(s)
  }

  mutating func add(_ type: BTFType) throws -> BTFTypeID { try btf.appendType(type) }

  mutating func int(_ name: String, size: UInt32, signed: Bool = false) throws -> BTFTypeID {
    try add(BTFType(nameOffset: try self.name(name), body: .int(.init(
      size: size, encoding: signed ? .signed : [], bits: UInt8(size * 8)))))
  }

  /// A struct (or union); members are (name, type, bit offset, bitfield size).
  mutating func composite(
    _ name: String?, size: UInt32, union: Bool = false,
    _ members: [(String?, BTFTypeID, UInt32, UInt8)]
  ) throws -> BTFTypeID {
    var list: [BTFType.Member] = []
    for (memberName, type, offset, bits) in members {
      list.append(BTFType.Member(nameOffset: try self.name(memberName), type: type, bitOffset: offset,
                                 bitfieldSize: bits))
    }
    let bitfields = members.contains { $0.3 != 0 }
    return try add(BTFType(nameOffset: try self.name(name), kindFlag: bitfields,
                           body: union ? .union(size: size, members: list) : .struct(size: size, members: list)))
  }

  mutating func array(of element: BTFTypeID, count: UInt32, index: BTFTypeID) throws -> BTFTypeID {
    try add(BTFType(body: .array(.init(elementType: element, indexType: index, count: count))))
  }

  mutating func pointer(to id: BTFTypeID) throws -> BTFTypeID { try add(BTFType(body: .pointer(to: id))) }

  mutating func typedef(_ name: String, _ id: BTFTypeID) throws -> BTFTypeID {
    try add(BTFType(nameOffset: try self.name(name), body: .typedef(id)))
  }

  mutating func enumeration(_ name: String, signed: Bool = false, _ values: [(String, Int32)]) throws
    -> BTFTypeID
  {
    var list: [BTFType.EnumValue] = []
    for (n, v) in values { list.append(.init(nameOffset: try self.name(n), value: v)) }
    return try add(BTFType(nameOffset: try self.name(name), kindFlag: signed, body: .enum(size: 4, values: list)))
  }

  mutating func enumeration64(_ name: String, _ values: [(String, UInt64)]) throws -> BTFTypeID {
    var list: [BTFType.Enum64Value] = []
    for (n, v) in values { list.append(.init(nameOffset: try self.name(n), value: v)) }
    return try add(BTFType(nameOffset: try self.name(name), body: .enum64(size: 8, values: list)))
  }
}

/// `mov r1, imm` (ALU64 | MOV | K).
func movImmediate(_ imm: Int32) -> BPFInstruction {
  BPFInstruction(opcode: 0xb7, destination: 1, immediate: imm)
}

/// `r1 = imm64 ll` as its two halves.
func loadImmediate64(_ value: UInt64) -> [BPFInstruction] {
  [BPFInstruction(opcode: 0x18, destination: 1, immediate: Int32(truncatingIfNeeded: value)),
   BPFInstruction(opcode: 0, immediate: Int32(truncatingIfNeeded: value >> 32))]
}

/// A relocation record of `kind` at instruction 0 on `type` with `access`.
func relocation(_ kind: BTFExt.CORERelocation.Kind, _ type: BTFTypeID, _ access: String)
  -> BTFExt.CORERelocation
{
  BTFExt.CORERelocation(insnOffset: 0, typeID: type, accessStringOffset: 0, accessString: access,
                        kind: kind)
}

/// Resolves `record` of `local` against `target` and patches `instructions` at 0.
func relocate(
  _ record: BTFExt.CORERelocation, local: BTF, target: BTF, _ instructions: [BPFInstruction]
) throws -> (resolution: COREResolution, instructions: [BPFInstruction]) {
  let resolver = COREResolver(local: local, target: CORETarget(btf: target))
  let resolution = try resolver.resolve(record)
  var code = instructions
  try COREPatcher.apply(resolution, to: &code, at: 0)
  return (resolution, code)
}
