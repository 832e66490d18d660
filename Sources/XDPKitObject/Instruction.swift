/// One 8-byte eBPF instruction (`struct bpf_insn`), decoded from little-endian bytes.
///
/// A 64-bit immediate load (`ld_imm64`, opcode 0x18) occupies two consecutive instructions;
/// the second holds the upper 32 bits of the immediate in its ``immediate``.
public struct BPFInstruction: Sendable, Equatable, CustomStringConvertible {
  /// The opcode byte (class, size/source, mode/operation).
  public var opcode: UInt8
  /// Destination register (low nibble of byte 1).
  public var destination: UInt8
  /// Source register (high nibble of byte 1); also the pseudo-source tag of `ld_imm64` and calls.
  public var source: UInt8
  /// Signed 16-bit offset.
  public var offset: Int16
  /// Signed 32-bit immediate.
  public var immediate: Int32

  /// Creates an instruction from its fields.
  public init(opcode: UInt8, destination: UInt8 = 0, source: UInt8 = 0, offset: Int16 = 0,
              immediate: Int32 = 0) {
    self.opcode = opcode
    self.destination = destination
    self.source = source
    self.offset = offset
    self.immediate = immediate
  }

  /// Decodes the instruction from its 64-bit word (the 8 bytes read as a little-endian
  /// integer: opcode in the low byte, immediate in the high 32 bits).
  public init(word: UInt64) {
    opcode = UInt8(truncatingIfNeeded: word)
    let registers = UInt8(truncatingIfNeeded: word >> 8)
    destination = registers & 0x0f
    source = registers >> 4
    offset = Int16(bitPattern: UInt16(truncatingIfNeeded: word >> 16))
    immediate = Int32(bitPattern: UInt32(truncatingIfNeeded: word >> 32))
  }

  /// Decodes the instruction at `byteOffset` of `bytes`, or `nil` if fewer than 8 bytes remain.
  public init?(_ bytes: some RandomAccessCollection<UInt8>, at byteOffset: Int) {
    guard byteOffset >= 0, bytes.count - byteOffset >= 8 else { return nil }
    var i = bytes.index(bytes.startIndex, offsetBy: byteOffset)
    func next() -> UInt8 { defer { i = bytes.index(after: i) }; return bytes[i] }
    opcode = next()
    let regs = next()
    destination = regs & 0x0f
    source = regs >> 4
    offset = Int16(bitPattern: UInt16(next()) | UInt16(next()) << 8)
    var imm: UInt32 = 0
    for shift in stride(from: 0, to: 32, by: 8) { imm |= UInt32(next()) << UInt32(shift) }
    immediate = Int32(bitPattern: imm)
  }

  /// The 8 little-endian bytes of the instruction.
  public var bytes: [UInt8] {
    let off = UInt16(bitPattern: offset)
    let imm = UInt32(bitPattern: immediate)
    return [opcode, (source << 4) | (destination & 0x0f), UInt8(off & 0xff), UInt8(off >> 8),
            UInt8(imm & 0xff), UInt8((imm >> 8) & 0xff), UInt8((imm >> 16) & 0xff), UInt8(imm >> 24)]
  }

  /// `BPF_LD | BPF_IMM | BPF_DW`: the first half of a 16-byte 64-bit immediate load.
  public static let loadImmediate64Opcode: UInt8 = 0x18
  /// `BPF_JMP | BPF_CALL`.
  public static let callOpcode: UInt8 = 0x85
  /// `BPF_JMP | BPF_EXIT`.
  public static let exitOpcode: UInt8 = 0x95
  /// Source tag of a call to a BPF function in the same object (`BPF_PSEUDO_CALL`).
  public static let pseudoCall: UInt8 = 1
  /// Source tag of a call to a kernel function (`BPF_PSEUDO_KFUNC_CALL`).
  public static let pseudoKfuncCall: UInt8 = 2
  /// `ld_imm64` source tags (linux/bpf.h).
  public static let pseudoMapFD: UInt8 = 1
  public static let pseudoMapValue: UInt8 = 2
  public static let pseudoBTFID: UInt8 = 3
  public static let pseudoFunc: UInt8 = 4
  public static let pseudoMapIndex: UInt8 = 5
  public static let pseudoMapIndexValue: UInt8 = 6

  /// Whether this is the first half of an `ld_imm64`.
  public var isLoadImmediate64: Bool { opcode == Self.loadImmediate64Opcode }
  /// Whether this is a call to another BPF function of the same object.
  public var isPseudoCall: Bool { opcode == Self.callOpcode && source == Self.pseudoCall }
  /// Whether this is a call to a helper (`call` with source 0).
  public var isHelperCall: Bool { opcode == Self.callOpcode && source == 0 }

  public var description: String {
    "op=\(hexString(opcode)) dst=r\(destination) src=r\(source) off=\(offset) imm=\(immediate)"
  }
}
