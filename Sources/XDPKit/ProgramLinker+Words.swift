import XDPKitObject

// Instruction words as the linker edits them in place: source register, immediate and jump
// displacement, without decoding the instruction.

extension ProgramLinker {
  /// `word` with its source register set to `source` and its immediate to `immediate`.
  @inline(__always)
  static func settingSource(_ source: UInt8, immediate: Int32, in word: UInt64) -> UInt64 {
    settingImmediate(immediate, in: settingSource(source, in: word))
  }

  /// `word` with its source register (bits 12–15) set to `source`.
  @inline(__always)
  static func settingSource(_ source: UInt8, in word: UInt64) -> UInt64 {
    (word & ~0xF000) | UInt64(source & 0x0f) << 12
  }

  /// `word` with its immediate (bits 32–63) set to `immediate`.
  @inline(__always)
  static func settingImmediate(_ immediate: Int32, in word: UInt64) -> UInt64 {
    (word & 0xFFFF_FFFF) | UInt64(UInt32(bitPattern: immediate)) << 32
  }
}

extension ProgramLinker {
  /// For the instruction word of a jump (conditional or not, in the JMP or JMP32 class; not a
  /// call or exit), how many instructions after the next one it goes to; `nil` for other
  /// instructions. `gotol` (BPF_JMP32 | BPF_JA) keeps it in the immediate, the others in the
  /// offset.
  @inline(__always)
  static func jumpDisplacement(of word: UInt64) -> Int? {
    let opcode = UInt8(truncatingIfNeeded: word)
    let instructionClass = opcode & 0x07, operation = opcode & 0xf0
    guard instructionClass == 0x05 || instructionClass == 0x06, operation != 0x80, operation != 0x90 else {
      return nil
    }
    return opcode == 0x06 ? Int(Int32(truncatingIfNeeded: word >> 32)) : Int(Int16(truncatingIfNeeded: word >> 16))
  }
}

extension BPFInstruction {
  /// `gotol` (BPF_JMP32 | BPF_JA) keeps its displacement in the immediate.
  var usesImmediateDisplacement: Bool { opcode == 0x06 }

  /// The instruction as the little-endian 64-bit word the kernel reads.
  var word: UInt64 {
    UInt64(opcode) | UInt64((source << 4) | (destination & 0x0f)) << 8
      | UInt64(UInt16(bitPattern: offset)) << 16 | UInt64(UInt32(bitPattern: immediate)) << 32
  }
}
