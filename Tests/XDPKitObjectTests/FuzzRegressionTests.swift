// Regression tests for inputs that made the reader trap instead of throwing.
//
// The `.bin` files under Fixtures/fuzz/ are the crashing inputs libFuzzer wrote (Fuzz/run.sh),
// committed unchanged; each test names what was wrong with its input. The hand-made cases
// below them cover the neighbouring conversions fixed together with a fuzzer finding: each is
// a committed fixture with a few fields overwritten at offsets read from `llvm-readelf`
// (see Fixtures/README.md for the layouts).

import Foundation
import Testing

@testable import XDPKitObject

/// The bytes of `Fixtures/fuzz/<name>`.
private func fuzzInput(_ name: String) throws -> [UInt8] {
  let path = fixturesDirectory.appendingPathComponent("fuzz").appendingPathComponent(name).path
  guard let data = FileManager.default.contents(atPath: path) else {
    throw FixtureError(description: "cannot read fuzz input \(path)")
  }
  return [UInt8](data)
}

/// Overwrites `value` little-endian at `offset` of `bytes`, checking that the bytes there were
/// `expected` first so that a rebuilt fixture fails loudly instead of patching the wrong field.
private func patch<T: FixedWidthInteger>(
  _ bytes: inout [UInt8], at offset: Int, from expected: T, to value: T
) throws {
  let size = MemoryLayout<T>.size
  guard offset >= 0, offset + size <= bytes.count else {
    throw FixtureError(description: "offset \(offset) is outside the \(bytes.count)-byte fixture")
  }
  var current: T = 0
  for i in 0..<size { current |= T(truncatingIfNeeded: bytes[offset + i]) << (8 * i) }
  guard current == expected else {
    throw FixtureError(description: "fixture has \(current) at \(offset), expected \(expected)")
  }
  for i in 0..<size { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
}

/// Where a section header starts (e_shoff + 64 × index) and where a symbol starts in `.symtab`.
private func sectionHeader(_ shoff: Int, _ index: Int) -> Int { shoff + 64 * index }
private func symbol(_ symtabOffset: Int, _ index: Int) -> Int { symtabOffset + 24 * index }

@Suite("Fuzzer regressions")
struct FuzzRegressionTests {
  // MARK: Found by libFuzzer

  /// globals.o with the value of symbol 4, the STT_SECTION symbol of `.bss`, set to
  /// 0xffff_ffff_fd00_0000. `lddw` at offset 272 of `.text`… (section 3) refers to `.bss`
  /// through that symbol with imm 8, and the reader converted the symbol value to `Int64`,
  /// which trapped ("Not enough bits to represent the passed value"). Section symbols are not
  /// checked against their section, so this must be caught where the target is computed.
  @Test("section symbol value beyond Int64 in a code relocation")
  func sectionSymbolValueBeyondInt64() throws {
    let bytes = try fuzzInput("section-symbol-value-past-int64.bin")
    #expect(throws: ObjectError.relocationTargetOutOfRange(
      section: 3, offset: 272, symbol: 4, value: 0xffff_ffff_fd00_0000, displacement: 8)
    ) {
      try BPFObject(bytes: bytes)
    }
  }

  /// multi_prog.o with section 9 (`xdp/legacy_name`) turned into SHT_NULL while keeping
  /// SHF_ALLOC|SHF_EXECINSTR and size 16 (and, from other mutations, a bad relocation in
  /// `.rel.debug_…`, section 30). SHT_NULL ranges are not checked and have no contents, but
  /// findFunctions sliced 16 bytes out of the empty contents ("ArraySlice index is out of
  /// range"). Now findFunctions skips the section. The reader no longer reads the relocations
  /// of debug sections (nothing applies them), so the object parses; the bad entry is still
  /// reported by the ELF layer when that section is read.
  @Test("executable SHT_NULL section: fuzzer input")
  func executableNullSectionFuzzInput() throws {
    let bytes = try fuzzInput("executable-null-section.bin")
    let object = try BPFObject(bytes: bytes)
    #expect(object.programs.count == 12)
    #expect(!object.functions.contains { $0.sectionIndex == 9 })
    #expect(!object.relocations.contains { $0.relocationSectionIndex == 30 })
    #expect(throws: ObjectError.relocationOffsetOutOfBounds(
      relocationSection: 30, entry: 20, offset: 844_424_930_132_228, sectionSize: 328)
    ) {
      try object.elf.relocations(in: object.elf.sections[30])
    }
  }

  /// The same mutation alone, made by hand: an inactive header holds no code, so the object
  /// parses with every program but the one in section 9.
  @Test("executable SHT_NULL section holds no code")
  func executableNullSection() throws {
    var bytes = try fixtureBytes("multi_prog")
    let shoff = 0x2f30
    try patch(&bytes, at: sectionHeader(shoff, 9) + 4, from: UInt32(1), to: 0)  // sh_type
    let object = try BPFObject(bytes: bytes)
    #expect(object.elf.sections[9].type == ELFConstants.shtNull)
    #expect(object.elf.sections[9].flags == ELFConstants.shfAlloc | ELFConstants.shfExecInstr)
    #expect(object.elf.sections[9].size == 16)
    #expect(!object.functions.contains { $0.sectionIndex == 9 })
    let reference = try BPFObject(bytes: fixtureBytes("multi_prog"))
    #expect(reference.programs.contains { $0.function.sectionIndex == 9 })
    #expect(object.programs == reference.programs.filter { $0.function.sectionIndex != 9 })
  }

  // MARK: Fixed with the above, made by hand

  /// calls.o: the call at offset 0x30 of `xdp` (section 4, imm 2) is relocated against
  /// symbol 2, the `.text` section symbol. With that symbol's value at 2^63 the call target
  /// (value + (imm + 1) × 8) used to trap converting to Int64.
  @Test("call against a section symbol whose value does not fit Int64")
  func callTargetBeyondInt64() throws {
    var bytes = try fixtureBytes("calls")
    let symtab = 0xe30
    try patch(&bytes, at: symbol(symtab, 2) + 8, from: UInt64(0), to: 0x8000_0000_0000_0000)
    #expect(throws: ObjectError.relocationTargetOutOfRange(
      section: 4, offset: 0x30, symbol: 2, value: 0x8000_0000_0000_0000, displacement: 24)
    ) {
      try BPFObject(bytes: bytes)
    }
  }

  /// blocklist_legacy.o: symbol 13 (STATS, in `maps`) turned into a section symbol and the
  /// `lddw` at 0xe8 of `xdp` that refers to it given imm -1. Matching a section symbol's
  /// relocation to a legacy map compares imm with the map's offset; `UInt64(-1)` trapped.
  /// No map starts at a negative offset, so nothing the loader can resolve is named.
  @Test("negative displacement against the legacy maps section symbol")
  func negativeLegacyMapDisplacement() throws {
    var bytes = try fixtureBytes("blocklist_legacy")
    let symtab = 0x11a8
    try patch(&bytes, at: symbol(symtab, 13) + 4, from: UInt8(0x11), to: 0x03)  // GLOBAL OBJECT → LOCAL SECTION
    try patch(&bytes, at: 0x40 + 0xe8 + 4, from: UInt32(0), to: 0xffff_ffff)  // imm = -1
    #expect(throws: ObjectError.relocationAgainstUnusableSymbol(
      section: 3, offset: 0xe8, symbol: 13, name: "maps")
    ) {
      try BPFObject(bytes: bytes)
    }
  }

  /// blocklist_legacy.o with `xdp` (section 3) made SHT_NOBITS of size 2^63 + 8 and the first
  /// relocation of `.relxdp` moved to offset 2^63. The offset is inside the section, but the
  /// reader converted it to `Int` to find the instruction, which trapped.
  @Test("code relocation offset beyond Int in an executable SHT_NOBITS section")
  func relocationOffsetBeyondInt() throws {
    var bytes = try fixtureBytes("blocklist_legacy")
    let shoff = 0x1b10
    try patch(&bytes, at: sectionHeader(shoff, 3) + 4, from: UInt32(1), to: 8)  // sh_type
    try patch(&bytes, at: sectionHeader(shoff, 3) + 32, from: UInt64(0x130), to: 0x8000_0000_0000_0008)
    try patch(&bytes, at: 0x1310, from: UInt64(0xa0), to: 0x8000_0000_0000_0000)  // r_offset
    #expect(throws: ObjectError.relocationOnWrongInstruction(
      section: 3, offset: 0x8000_0000_0000_0000, opcode: 0, type: 1)
    ) {
      try BPFObject(bytes: bytes)
    }
  }
}
