/// Writes a resolved CO-RE relocation into its instruction.
///
/// - ALU/ALU64 with an immediate operand: `imm` becomes the value.
/// - LDX, ST, STX: `off` becomes the value (a field byte offset); when the field's size
///   changed, the access size follows if the change is allowed (unsigned integers, pointers)
///   and is refused otherwise.
/// - `ld_imm64`: the 64-bit immediate becomes the value.
///
/// Before patching, the instruction must hold the value the local types give (unless the
/// relocation is one where clang is free to shape the code, such as bitfields), so that a
/// relocation never lands on an instruction it was not made for.
///
/// A poisoned relocation replaces the instruction (both halves of an `ld_imm64`) with a call
/// to helper ``poisonHelperID``, which no kernel has: if the verifier reaches it, it refuses
/// the program with `invalid func unknown#195896080`, and the loader names the relocation.
public enum COREPatcher {
  /// The helper id a poisoned instruction calls: 0xbad2310 ("bad relo"), 195896080.
  public static let poisonHelperID: Int32 = 0xbad2310

  /// The instruction a poisoned relocation leaves: `call 0xbad2310`.
  public static var poisonInstruction: BPFInstruction {
    BPFInstruction(opcode: BPFInstruction.callOpcode, destination: 0, source: 0, offset: 0,
                   immediate: poisonHelperID)
  }

  /// Patches `instructions[index]` (and the second half of an `ld_imm64`).
  public static func apply(
    _ resolution: COREResolution, to instructions: inout [BPFInstruction], at index: Int
  ) throws(COREError) {
    guard index >= 0, index < instructions.count else {
      throw .instructionOutOfRange(index: index, count: instructions.count)
    }
    var insn = instructions[index]
    let isLoad64 = insn.opcode == BPFInstruction.loadImmediate64Opcode
    if isLoad64 && index + 1 >= instructions.count {
      throw .instructionOutOfRange(index: index + 1, count: instructions.count)
    }
    if resolution.poisoned {
      instructions[index] = poisonInstruction
      if isLoad64 { instructions[index + 1] = poisonInstruction }
      return
    }
    let expected = resolution.localValue
    let value = resolution.targetValue
    switch insn.opcode & 0x07 {
    case 0x04, 0x07:  // ALU, ALU64
      guard insn.opcode & 0x08 == 0 else { throw .unrelocatableInstruction(opcode: insn.opcode) }
      if resolution.validate && UInt32(bitPattern: insn.immediate) != UInt32(truncatingIfNeeded: expected) {
        throw .instructionMismatch(expected: expected, found: Int64(insn.immediate))
      }
      guard value <= UInt64(UInt32.max) || Int64(bitPattern: value) >= Int64(Int32.min) else {
        throw .valueOutOfRange(value, field: "imm")
      }
      insn.immediate = Int32(truncatingIfNeeded: value)
    case 0x01, 0x02, 0x03:  // LDX, ST, STX
      if resolution.validate && Int64(insn.offset) != Int64(bitPattern: expected) {
        throw .instructionMismatch(expected: expected, found: Int64(insn.offset))
      }
      guard value <= UInt64(Int16.max) else { throw .valueOutOfRange(value, field: "off") }
      if let localSize = resolution.localFieldSize, let targetSize = resolution.targetFieldSize,
        localSize != targetSize
      {
        guard resolution.sizeChangeAllowed else {
          throw .incompatibleSizeChange(localSize: localSize, targetSize: targetSize)
        }
        let accessSize = Self.accessSize(insn.opcode)
        guard accessSize == localSize else {
          throw .accessSizeMismatch(instructionSize: accessSize, fieldSize: localSize)
        }
        guard let bits = Self.sizeBits(targetSize) else {
          throw .incompatibleSizeChange(localSize: localSize, targetSize: targetSize)
        }
        insn.opcode = (insn.opcode & ~0x18) | bits
      }
      insn.offset = Int16(value)
    case 0x00 where isLoad64:
      guard insn.source == 0 else { throw .unrelocatableInstruction(opcode: insn.opcode) }
      let next = instructions[index + 1]
      let current = UInt64(UInt32(bitPattern: insn.immediate))
        | UInt64(UInt32(bitPattern: next.immediate)) << 32
      if resolution.validate && current != expected {
        throw .instructionMismatch(expected: expected, found: Int64(bitPattern: current))
      }
      insn.immediate = Int32(truncatingIfNeeded: value)
      instructions[index + 1].immediate = Int32(truncatingIfNeeded: value >> 32)
    default:
      throw .unrelocatableInstruction(opcode: insn.opcode)
    }
    instructions[index] = insn
  }

  /// Bytes a load or store moves, from its size bits.
  static func accessSize(_ opcode: UInt8) -> Int {
    switch opcode & 0x18 {
    case 0x00: 4
    case 0x08: 2
    case 0x10: 1
    default: 8
    }
  }

  /// The size bits for an access of `bytes`.
  static func sizeBits(_ bytes: Int) -> UInt8? {
    switch bytes {
    case 1: 0x10
    case 2: 0x08
    case 4: 0x00
    case 8: 0x18
    default: nil
    }
  }
}
