import Testing

@testable import XDPKitObject

@Suite("BTF.ext")
struct BTFExtTests {
  /// A BTF whose strings hold a section name, a file name, a line and an access string, with
  /// an INT (1), a FUNC_PROTO (2) and a FUNC (3).
  private let strings = BTFTestStrings(["xdp", "prog.c", "return 0;", "0:1", "f", ".text"])
  private var btf: BTF {
    get throws {
      try BTF(
        bytes: btfSectionBytes(
          types: [
            0, btfInfo(1), 4, 0x0100_0020,
            0, btfInfo(13), 1,
            strings["f"], btfInfo(12, vlen: 1), 2,
          ], strings: strings.bytes))
    }
  }

  private var lineBlock: [UInt8] {
    btfExtBlock(
      recordSize: 16,
      [(strings["xdp"], [[0, strings["prog.c"], strings["return 0;"], 7 << 10 | 5]])])
  }

  @Test func recordsOfEveryBlock() throws {
    let btf = try self.btf
    let bytes = btfExtSectionBytes(
      funcInfo: btfExtBlock(
        recordSize: 8, [(strings["xdp"], [[0, 3], [16, 3]]), (strings[".text"], [[8, 3]])]),
      lineInfo: lineBlock,
      coreRelocations: btfExtBlock(
        recordSize: 16,
        [
          (
            strings["xdp"],
            [
              [8, 1, strings["0:1"], 0], [24, 1, strings["0:1"], 12],
              [32, 2, 0, 99],
            ]
          )
        ]))
    let ext = try BTFExt(bytes: bytes, btf: btf)
    #expect(
      ext.funcInfo["xdp"] == [.init(insnOffset: 0, typeID: 3), .init(insnOffset: 16, typeID: 3)])
    #expect(ext.funcInfo["xdp"]?.map(\.instructionIndex) == [0, 2])
    #expect(ext.funcInfo[".text"] == [.init(insnOffset: 8, typeID: 3)])
    #expect(
      ext.lineInfo["xdp"] == [
        .init(
          insnOffset: 0, fileNameOffset: strings["prog.c"], lineOffset: strings["return 0;"],
          lineCol: 7 << 10 | 5, fileName: "prog.c", lineText: "return 0;")
      ])
    #expect(ext.lineInfo["xdp"]?.first?.lineNumber == 7)
    #expect(ext.lineInfo["xdp"]?.first?.column == 5)
    let relocations = try #require(ext.coreRelocations["xdp"])
    #expect(relocations.map(\.kind) == [.fieldByteOffset, .typeMatches, .unknown(99)])
    #expect(relocations.map(\.accessString) == ["0:1", "0:1", ""])
    #expect(relocations.map(\.typeID) == [1, 1, 2])
    #expect(relocations.map(\.instructionIndex) == [1, 3, 4])
    #expect(ext.coreRelocationRecordSize == 16)
    #expect(ext.header.coreRelocationOffset == 72)
  }

  /// Records stay encoded until asked for: per section they come back in file order, groups
  /// of the same section joined, larger stated record sizes skipped over, and the counts are
  /// those of the records.
  @Test func recordsPerSectionAndCounts() throws {
    let btf = try self.btf
    let bytes = btfExtSectionBytes(
      funcInfo: btfExtBlock(
        recordSize: 12,
        [
          (strings["xdp"], [[0, 3, 0xAAAA], [16, 3, 0xBBBB]]), (strings[".text"], [[8, 3, 0]]),
          (strings["xdp"], [[40, 3, 0xCCCC]]),
        ]),
      lineInfo: lineBlock)
    let ext = try BTFExt(bytes: bytes, btf: btf)
    #expect(ext.funcInfoRecordSize == 12)
    #expect(
      ext.funcInfo(inSection: "xdp") == [
        .init(insnOffset: 0, typeID: 3), .init(insnOffset: 16, typeID: 3),
        .init(insnOffset: 40, typeID: 3),
      ])
    #expect(ext.funcInfo(inSection: "xdp") == ext.funcInfo["xdp"])
    #expect(ext.funcInfo(inSection: ".text") == [.init(insnOffset: 8, typeID: 3)])
    #expect(ext.funcInfo(inSection: "xd").isEmpty)
    #expect(ext.funcInfo(inSection: "xdp2").isEmpty)
    #expect(ext.lineInfo(inSection: "xdp").map(\.lineText) == ["return 0;"])
    #expect(ext.lineInfo(inSection: "xdp").map(\.fileName) == ["prog.c"])
    #expect(ext.lineInfo(inSection: ".text").isEmpty)
    #expect(ext.coreRelocations(inSection: "xdp").isEmpty)
    #expect(ext.recordCounts == (funcInfo: 4, lineInfo: 1, coreRelocations: 0))
    var numbers: [Int] = []
    ext.forEachRecord(.funcInfo, inSection: "xdp") { number, raw in
      numbers.append(number)
      #expect(raw.word2 == 0 && raw.word3 == 0)
    }
    #expect(numbers == [0, 1, 2])
  }

  @Test func coreRelocationKinds() {
    let kinds = (0...13).map(BTFExt.CORERelocation.Kind.init(rawValue:))
    #expect(kinds.map(\.rawValue) == Array(0...13))
    #expect(kinds[4] == .fieldLeftShiftU64)
    #expect(kinds[13] == .unknown(13))
    #expect(BTFExt.CORERelocation.Kind.unknown(2) == .fieldExists)
    #expect(
      kinds.map(\.description).prefix(3) == [
        "FIELD_BYTE_OFFSET", "FIELD_BYTE_SIZE", "FIELD_EXISTS",
      ])
  }

  @Test func largerRecordsAreReadAtTheirStatedSize() throws {
    let bytes = btfExtSectionBytes(
      funcInfo: btfExtBlock(
        recordSize: 12, [(strings["xdp"], [[0, 3, 0xAAAA], [24, 3, 0xBBBB]])]),
      lineInfo: btfExtBlock(
        recordSize: 20,
        [(strings["xdp"], [[8, strings["prog.c"], strings["return 0;"], 3 << 10, 0xCCCC]])]))
    let ext = try BTFExt(bytes: bytes, btf: try btf)
    #expect(ext.funcInfoRecordSize == 12)
    #expect(ext.lineInfoRecordSize == 20)
    #expect(
      ext.funcInfo["xdp"] == [.init(insnOffset: 0, typeID: 3), .init(insnOffset: 24, typeID: 3)])
    #expect(ext.lineInfo["xdp"]?.map(\.insnOffset) == [8])
    #expect(ext.lineInfo["xdp"]?.map(\.lineNumber) == [3])
  }

  @Test func shortHeaderHasNoCoreRelocations() throws {
    let bytes = btfExtSectionBytes(
      funcInfo: btfExtBlock(recordSize: 8, [(strings["xdp"], [[0, 3]])]), lineInfo: [],
      headerLength: 24)
    let ext = try BTFExt(bytes: bytes, btf: try btf)
    #expect(ext.header.coreRelocationOffset == nil)
    #expect(ext.header.coreRelocationLength == nil)
    #expect(ext.coreRelocations.isEmpty)
    #expect(ext.lineInfoRecordSize == nil)
    #expect(ext.funcInfo["xdp"]?.count == 1)
  }

  @Test func recordSizeTooSmall() throws {
    let btf = try self.btf
    #expect(throws: BTFError.recordSizeTooSmall(.funcInfo, size: 4, minimum: 8)) {
      try BTFExt(
        bytes: btfExtSectionBytes(
          funcInfo: btfExtBlock(recordSize: 4, [(strings["xdp"], [[0]])]), lineInfo: lineBlock),
        btf: btf)
    }
    #expect(throws: BTFError.recordSizeTooSmall(.lineInfo, size: 12, minimum: 16)) {
      try BTFExt(
        bytes: btfExtSectionBytes(funcInfo: [], lineInfo: btfExtBlock(recordSize: 12, [])),
        btf: btf)
    }
    #expect(throws: BTFError.recordSizeTooSmall(.coreRelocations, size: 0, minimum: 16)) {
      try BTFExt(
        bytes: btfExtSectionBytes(
          funcInfo: [], lineInfo: [], coreRelocations: btfExtBlock(recordSize: 0, [])),
        btf: btf)
    }
  }

  @Test func recordsOutOfBounds() throws {
    let btf = try self.btf
    // num_info says 2 records but only one follows.
    var words = btfWords([8, strings["xdp"], 2, 0, 3])
    #expect(throws: BTFError.recordOutOfBounds(.funcInfo, offset: 12, need: 16, length: 20)) {
      try BTFExt(bytes: btfExtSectionBytes(funcInfo: words, lineInfo: []), btf: btf)
    }
    // A huge count does not overflow.
    words = btfWords([0xFFFF_FFFF, strings["xdp"], 0xFFFF_FFFF])
    #expect(
      throws: BTFError.recordOutOfBounds(
        .funcInfo, offset: 12, need: 0xFFFF_FFFE_0000_0001, length: 12)
    ) {
      try BTFExt(bytes: btfExtSectionBytes(funcInfo: words, lineInfo: []), btf: btf)
    }
    // A group header cut short.
    words = btfWords([16, strings["xdp"]])
    #expect(throws: BTFError.recordOutOfBounds(.lineInfo, offset: 4, need: 8, length: 8)) {
      try BTFExt(bytes: btfExtSectionBytes(funcInfo: [], lineInfo: words), btf: btf)
    }
    // Not even a record size.
    #expect(throws: BTFError.recordOutOfBounds(.lineInfo, offset: 0, need: 4, length: 2)) {
      try BTFExt(bytes: btfExtSectionBytes(funcInfo: [], lineInfo: [16, 0]), btf: btf)
    }
  }

  @Test func blocksOutOfBounds() throws {
    var bytes = btfExtSectionBytes(funcInfo: [], lineInfo: lineBlock)
    bytes[20] = 0xFF  // line_info_len
    #expect(throws: BTFError.sectionOutOfBounds(.lineInfo, offset: 0, length: 0xFF, size: 28)) {
      try BTFExt(bytes: bytes, btf: try btf)
    }
  }

  @Test func referencesAreChecked() throws {
    let btf = try self.btf
    #expect(
      throws: BTFError.recordTypeIDOutOfRange(
        .funcInfo, section: "xdp", index: 1, target: 4, count: 4)
    ) {
      try BTFExt(
        bytes: btfExtSectionBytes(
          funcInfo: btfExtBlock(recordSize: 8, [(strings["xdp"], [[0, 3], [8, 4]])]),
          lineInfo: []),
        btf: btf)
    }
    #expect(throws: BTFError.stringOffsetOutOfRange(offset: 500, tableSize: strings.bytes.count)) {
      try BTFExt(
        bytes: btfExtSectionBytes(
          funcInfo: btfExtBlock(recordSize: 8, [(500, [[0, 3]])]), lineInfo: []),
        btf: btf)
    }
    #expect(throws: BTFError.stringOffsetOutOfRange(offset: 600, tableSize: strings.bytes.count)) {
      try BTFExt(
        bytes: btfExtSectionBytes(
          funcInfo: [],
          lineInfo: btfExtBlock(recordSize: 16, [(strings["xdp"], [[0, 600, 0, 0]])])),
        btf: btf)
    }
  }

  @Test func malformedHeaders() throws {
    let btf = try self.btf
    let good = btfExtSectionBytes(funcInfo: [], lineInfo: lineBlock)
    #expect(throws: BTFError.truncatedHeader(.btfExt, have: 10, need: 24)) {
      try BTFExt(bytes: good.prefix(10), btf: btf)
    }
    #expect(throws: BTFError.badMagic(.btfExt, found: 0)) {
      try BTFExt(bytes: btfExtSectionBytes(funcInfo: [], lineInfo: [], magic: 0), btf: btf)
    }
    #expect(throws: BTFError.bigEndian(.btfExt)) {
      try BTFExt(bytes: btfExtSectionBytes(funcInfo: [], lineInfo: [], magic: 0x9FEB), btf: btf)
    }
    var bytes = good
    bytes[2] = 3
    #expect(throws: BTFError.unsupportedVersion(.btfExt, version: 3)) {
      try BTFExt(bytes: bytes, btf: btf)
    }
    bytes = good
    bytes[4] = 16
    #expect(throws: BTFError.headerLengthTooSmall(.btfExt, headerLength: 16, minimum: 24)) {
      try BTFExt(bytes: bytes, btf: btf)
    }
    bytes = good
    bytes[5] = 1
    #expect(throws: BTFError.headerLengthTooLarge(.btfExt, headerLength: 288, size: 60)) {
      try BTFExt(bytes: bytes, btf: btf)
    }
  }
}
