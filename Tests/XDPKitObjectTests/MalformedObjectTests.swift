// Malformed objects: corrupted variants of the fixtures, each expected to throw its own
// ObjectError with the numbers that locate the problem; and sweeps (every truncation, every
// flipped header byte) that must throw or parse but never trap.
//
// The corruptions patch fields found by walking the fixture's own ELF tables (ObjectMutation.swift),
// so no test hard-codes a file offset; the expected errors are computed from the same walk.

import Testing

@testable import XDPKitObject

/// What a corrupted object must throw.
enum ExpectedFailure: Sendable, Equatable {
  /// Exactly this error, numbers included.
  case error(ObjectError)
  /// `invalidBTFMapDefinition` for this map, whatever the wording of the reason.
  case invalidBTFMapDefinition(map: String)

  func matches(_ error: ObjectError) -> Bool {
    switch self {
    case .error(let expected): return error == expected
    case .invalidBTFMapDefinition(let map):
      if case .invalidBTFMapDefinition(map, _) = error { return true }
      return false
    }
  }
}

/// One corrupted variant of a fixture: `corrupt` patches the image and returns what parsing it
/// must throw.
struct Corruption: Sendable, CustomTestStringConvertible {
  var fixture: String
  var name: String
  var corrupt: @Sendable (inout ObjectImage) throws -> ExpectedFailure

  init(_ fixture: String, _ name: String,
       _ corrupt: @escaping @Sendable (inout ObjectImage) throws -> ExpectedFailure) {
    self.fixture = fixture
    self.name = name
    self.corrupt = corrupt
  }

  var testDescription: String { "\(fixture).o: \(name)" }
}

/// Shorthand for an exact expected error.
func fails(_ error: ObjectError) -> ExpectedFailure { .error(error) }

/// Every corruption, each with the error the reader must throw.
let corruptions: [Corruption] = fileCorruptions + mapCorruptions

@Suite("Reader: malformed objects")
struct MalformedObjectTests {
  @Test(arguments: corruptions)
  func corruptedObjectThrowsItsError(_ corruption: Corruption) throws {
    var image = try ObjectImage(fixture: corruption.fixture)
    let expected = try corruption.corrupt(&image)
    do {
      let object = try BPFObject(bytes: image.bytes)
      Issue.record("parsed, with \(object.programs.count) programs and \(object.maps.count) maps; expected \(expected)")
    } catch {
      #expect(expected.matches(error), "threw \(error)")
    }
  }

  /// Each corruption changes only what it means to: the untouched fixture parses.
  @Test(arguments: Set(corruptions.map(\.fixture)).sorted())
  func uncorruptedFixtureParses(_ fixture: String) throws {
    _ = try BPFObject(bytes: try ObjectImage(fixture: fixture).bytes)
  }

  // MARK: Accepted variants

  @Test func machineNoneIsAccepted() throws {
    var image = try ObjectImage(fixture: "xdp_pass")
    try image.write(UInt16(0), at: ObjectImage.Header.machine)
    let object = try BPFObject(bytes: image.bytes)
    #expect(object.elf.machine == 0)
    #expect(object.programs.map(\.name) == ["xdp_pass"])
  }

  @Test func extendedSectionNumberingGivesTheSameObject() throws {
    let original = try BPFObject(bytes: fixtureBytes("blocklist_btf"))
    var image = try ObjectImage(fixture: "blocklist_btf")
    let count = try image.sectionCount
    let names = try image.sectionNameTableIndex
    // e_shnum 0: the count is in section 0's sh_size; e_shstrndx SHN_XINDEX: in its sh_link.
    try image.setSection(0, .size, to: UInt64(count))
    try image.setSection(0, .link, to: UInt64(names))
    try image.write(UInt16(0), at: ObjectImage.Header.shnum)
    try image.write(UInt16(0xffff), at: ObjectImage.Header.shstrndx)
    let object = try BPFObject(bytes: image.bytes)
    #expect(object.elf.sections.count == count)
    #expect(object.programs == original.programs)
    #expect(object.maps == original.maps)
    #expect(Array(object.elf.sections.dropFirst()) == Array(original.elf.sections.dropFirst()))
  }

  @Test func extendedSectionCountPastTheFileIsRejected() throws {
    var image = try ObjectImage(fixture: "xdp_pass")
    let offset = try image.sectionHeaderTableOffset
    try image.setSection(0, .size, to: UInt64(image.bytes.count))
    try image.write(UInt16(0), at: ObjectImage.Header.shnum)
    #expect(throws: ObjectError.sectionHeaderTableOutOfBounds(
      offset: UInt64(offset), count: image.bytes.count, fileSize: image.bytes.count)) {
      try BPFObject(bytes: image.bytes)
    }
  }

  // MARK: Regressions: inputs that used to trap

  /// Found by the header flip sweep: an executable section whose type is SHT_NULL (inactive, its
  /// range never checked, no contents) used to be sliced for its functions and trapped.
  @Test func inactiveCodeSectionHoldsNoFunctions() throws {
    var image = try ObjectImage(fixture: "xdp_pass")
    let xdp = try image.section(named: "xdp")
    try image.setSection(xdp.index, .type, to: UInt64(ELFConstants.shtNull))
    let object = try BPFObject(bytes: image.bytes)
    #expect(object.functions.isEmpty)
    #expect(object.programs.isEmpty)
    #expect(object.license == "GPL")

    // With relocations against it, the relocated instructions are missing.
    var blocklist = try ObjectImage(fixture: "blocklist_btf")
    let code = try blocklist.section(named: "xdp")
    let first = try blocklist.relocations(in: ".relxdp")[0].offset
    try blocklist.setSection(code.index, .type, to: UInt64(ELFConstants.shtNull))
    #expect(throws: ObjectError.relocationOnWrongInstruction(section: code.index, offset: first, opcode: 0, type: 1)) {
      try BPFObject(bytes: blocklist.bytes)
    }
  }

  @Test func sectionSymbolWithHugeValueThrows() throws {
    // The `.bss` section symbol (which the `drops` relocation uses) with a value past Int64.
    var image = try ObjectImage(fixture: "globals")
    let bssIndex = UInt16(try image.section(named: ".bss").index)
    let bss = try #require(try image.symbols.first { $0.info & 0xf == 3 && $0.sectionIndex == bssIndex })
    try image.write(UInt64.max - 3, at: bss.entryOffset + 8)
    let rel = try #require(try image.relocations(in: ".relxdp").first { $0.symbolIndex == bss.index })
    let xdp = try image.section(named: "xdp")
    #expect(throws: ObjectError.relocationTargetOutOfRange(
      section: xdp.index, offset: rel.offset, symbol: bss.index, value: UInt64.max - 3, displacement: 8)) {
      try BPFObject(bytes: image.bytes)
    }
  }

  @Test func sectionSymbolCallWithHugeValueThrows() throws {
    var image = try ObjectImage(fixture: "calls")
    let text = try #require(try image.symbols.first { $0.info & 0xf == 3 && $0.sectionIndex == 2 })
    try image.write(UInt64(Int64.max), at: text.entryOffset + 8)
    let rel = try #require(try image.relocations(in: ".relxdp").first { $0.symbolIndex == text.index })
    let xdp = try image.section(named: "xdp")
    // The first `.text` section-symbol call is `clamp_action`'s, imm 2: displacement (2 + 1) * 8.
    #expect(throws: ObjectError.relocationTargetOutOfRange(
      section: xdp.index, offset: rel.offset, symbol: text.index, value: UInt64(Int64.max), displacement: 24)) {
      try BPFObject(bytes: image.bytes)
    }
  }

  @Test func sectionSymbolMapReferenceWithNegativeImmediate() throws {
    // Make BLOCKLIST's symbol a section symbol and give its lddw a negative immediate: the
    // reader compares the immediate with map offsets, and must not trap converting it.
    var image = try ObjectImage(fixture: "blocklist_btf")
    let rel = try image.relocations(in: ".relxdp")[0]
    try image.setSymbol("BLOCKLIST", info: ELFConstants.sttSection)
    try image.write(UInt32(bitPattern: -8), at: image.fileOffset(inSection: "xdp", rel.offset + 4))
    let xdp = try image.section(named: "xdp")
    #expect(throws: ObjectError.relocationAgainstUnusableSymbol(
      section: xdp.index, offset: rel.offset, symbol: Int(rel.symbolIndex), name: ".maps")) {
      try BPFObject(bytes: image.bytes)
    }
  }

  // MARK: Sweeps

  @Test func everyTruncationOfXDPPassThrows() throws {
    let bytes = try fixtureBytes("xdp_pass")
    let image = ObjectImage(bytes)
    let tableOffset = try image.sectionHeaderTableOffset
    let tableEnd = tableOffset + (try image.sectionCount) * 64
    #expect(tableEnd == bytes.count, "the section header table ends the file")
    for length in 0..<bytes.count {
      let expected: ObjectError = length < 64
        ? .truncatedHeader(size: length, need: 64)
        : .sectionHeaderTableOutOfBounds(offset: UInt64(tableOffset), count: try image.sectionCount,
                                         fileSize: length)
      do {
        _ = try BPFObject(bytes: Array(bytes[0..<length]))
        Issue.record("a \(length)-byte prefix parsed")
      } catch {
        #expect(error == expected, "length \(length)")
      }
    }
    let whole = try BPFObject(bytes: bytes)
    #expect(whole.programs.map(\.name) == ["xdp_pass"])
  }

  /// Flips each byte of the ELF header and of the section header table, one at a time and in
  /// three ways; each variant must parse or throw an ObjectError. A trap ends the test process.
  @Test(arguments: ["map_in_map", "multi_prog"])
  func flippedHeaderBytesNeverTrap(_ fixture: String) throws {
    let bytes = try fixtureBytes(fixture)
    let image = ObjectImage(bytes)
    let positions = Array(0..<ObjectImage.Header.size) + Array(try image.sectionHeaderTableRange)
    var parsed = 0
    var thrown = 0
    for position in positions {
      for flip: UInt8 in [0xff, 0x01, 0x80] {
        var variant = bytes
        variant[position] ^= flip
        do {
          _ = try BPFObject(bytes: variant)
          parsed += 1
        } catch {
          thrown += 1
        }
      }
    }
    #expect(parsed + thrown == positions.count * 3)
    #expect(thrown > 0)
    #expect(parsed > 0)  // e.g. flipped sh_addralign or e_flags bits are not checked
  }
}
