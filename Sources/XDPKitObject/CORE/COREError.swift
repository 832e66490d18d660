/// Why a CO-RE relocation could not be computed or applied.
///
/// Every case says what was wrong in terms of the relocation: the access step, the candidate
/// types, the instruction and the values. The loader wraps it in a `LoadError` that names the
/// program, the instruction index and the relocation.
public enum COREError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The access string is not a `:`-separated list of decimal indexes.
  case malformedAccessString(String)
  /// The relocation kind is not one of `enum bpf_core_relo_kind`.
  case unknownKind(UInt32)
  /// A type-based relocation whose access string is not `0`.
  case typeAccessNotZero(String)
  /// The root type of a relocation that needs a name (all but the local type id) is anonymous.
  case anonymousRootType(BTFTypeID)
  /// Access step `step` of the access string does not fit the local type it applies to.
  case invalidAccess(step: Int, index: Int, typeID: BTFTypeID, reason: String)
  /// Several kernel types match the relocation and they disagree on the result.
  case ambiguous(candidates: [BTFTypeID], values: [UInt64])
  /// The relocated instruction does not hold the value clang computed from the local types,
  /// so it is not the instruction the relocation was made for.
  case instructionMismatch(expected: UInt64, found: Int64)
  /// The instruction's class cannot carry this relocation.
  case unrelocatableInstruction(opcode: UInt8)
  /// The relocated value does not fit the instruction field (imm or off).
  case valueOutOfRange(UInt64, field: String)
  /// The field's size changed in a way a memory access cannot follow (only unsigned integers
  /// and pointers may change size).
  case incompatibleSizeChange(localSize: Int, targetSize: Int)
  /// The memory access size of the instruction is not the local size of the field.
  case accessSizeMismatch(instructionSize: Int, fieldSize: Int)
  /// The relocation's instruction index is outside the program.
  case instructionOutOfRange(index: Int, count: Int)
  /// The relocation could not be resolved against the target BTF; the instruction was
  /// poisoned, and the verifier reached it.
  case unresolved(String)
  /// The local or target BTF is inconsistent.
  case btf(BTFError)

  public var description: String {
    switch self {
    case .malformedAccessString(let s): return "malformed access string '\(s)'"
    case .unknownKind(let k): return "unknown relocation kind \(k)"
    case .typeAccessNotZero(let s): return "type relocation with access string '\(s)' (must be 0)"
    case .anonymousRootType(let id): return "root type [\(id)] is anonymous"
    case .invalidAccess(let step, let index, let id, let reason):
      return "access step \(step) (index \(index)) on type [\(id)]: \(reason)"
    case .ambiguous(let ids, let values):
      return "kernel types \(ids.map { "[\($0)]" }.joined(separator: ", ")) all match but give "
        + "different results \(values)"
    case .instructionMismatch(let expected, let found):
      return "the instruction holds \(found), not \(expected) as the local types imply"
    case .unrelocatableInstruction(let opcode):
      return "instruction with opcode 0x\(String(opcode, radix: 16)) cannot be relocated"
    case .valueOutOfRange(let v, let field): return "value \(v) does not fit the instruction's \(field)"
    case .incompatibleSizeChange(let local, let target):
      return "field is \(local) bytes locally and \(target) bytes in the kernel, and is not an "
        + "unsigned integer or pointer: the memory access cannot be adjusted"
    case .accessSizeMismatch(let insn, let field):
      return "the instruction accesses \(insn) bytes, the local field is \(field) bytes"
    case .instructionOutOfRange(let index, let count):
      return "instruction \(index) is outside the program (\(count) instructions)"
    case .unresolved(let why): return why
    case .btf(let e): return "BTF: \(e)"
    }
  }
}
