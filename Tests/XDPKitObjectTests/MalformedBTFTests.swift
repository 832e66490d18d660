import Testing

@testable import XDPKitObject

// .BTF that is wrong in one place at a time, and corrupted or random input: each is refused
// with an error that says what and where, never a trap.

@Suite("Malformed .BTF")
struct MalformedBTFTests {
  /// One INT named "int".
  private let strings = BTFTestStrings(["int"])
  private var intWords: [UInt32] { [strings["int"], btfInfo(1), 4, 0x0100_0020] }

  @Test func truncatedHeader() {
    let bytes = btfSectionBytes(types: intWords, strings: strings.bytes)
    for length in [0, 1, 2, 4, 23] {
      #expect(throws: BTFError.truncatedHeader(.btf, have: length, need: 24)) {
        try BTF(bytes: bytes.prefix(length))
      }
    }
  }

  @Test func badMagicAndBigEndian() {
    #expect(throws: BTFError.badMagic(.btf, found: 0x1234)) {
      try BTF(bytes: btfSectionBytes(types: intWords, strings: strings.bytes, magic: 0x1234))
    }
    #expect(throws: BTFError.bigEndian(.btf)) {
      try BTF(bytes: btfSectionBytes(types: intWords, strings: strings.bytes, magic: 0x9FEB))
    }
    #expect(throws: BTFError.unsupportedVersion(.btf, version: 2)) {
      try BTF(bytes: btfSectionBytes(types: intWords, strings: strings.bytes, version: 2))
    }
  }

  @Test func headerLength() throws {
    #expect(throws: BTFError.headerLengthTooSmall(.btf, headerLength: 20, minimum: 24)) {
      try BTF(bytes: btfSectionBytes(types: intWords, strings: strings.bytes, headerLength: 20))
    }
    let bytes = btfSectionBytes(types: [], strings: [], headerLength: 24)
    var tooLong = bytes
    tooLong[4] = 25
    #expect(throws: BTFError.headerLengthTooLarge(.btf, headerLength: 25, size: 24)) {
      try BTF(bytes: tooLong)
    }
    // A longer header is accepted and kept.
    let longer = btfSectionBytes(types: intWords, strings: strings.bytes, headerLength: 32)
    let btf = try BTF(bytes: longer)
    #expect(btf.header.headerLength == 32)
    #expect(btf.types.count == 2)
    #expect(btf.encoded() == longer)
  }

  @Test func sectionsOutOfBounds() {
    #expect(throws: BTFError.sectionOutOfBounds(.types, offset: 0, length: 21, size: 20)) {
      try BTF(bytes: btfSectionBytes(types: intWords, strings: [0, 0, 0, 0], typeLength: 21))
    }
    #expect(throws: BTFError.sectionOutOfBounds(.types, offset: 0xFFFF_FFFF, length: 16, size: 20))
    {
      try BTF(
        bytes: btfSectionBytes(types: intWords, strings: [0, 0, 0, 0], typeOffset: 0xFFFF_FFFF))
    }
    #expect(throws: BTFError.sectionOutOfBounds(.strings, offset: 16, length: 5, size: 20)) {
      try BTF(bytes: btfSectionBytes(types: intWords, strings: [0, 0, 0, 0], stringLength: 5))
    }
  }

  @Test func stringOffsets() {
    #expect(throws: BTFError.stringOffsetOutOfRange(offset: 5, tableSize: 5)) {
      try BTF(bytes: btfSectionBytes(types: [5, btfInfo(1), 4, 32], strings: strings.bytes))
    }
    #expect(throws: BTFError.stringNotTerminated(offset: 1, tableSize: 4)) {
      try BTF(
        bytes: btfSectionBytes(
          types: [1, btfInfo(1), 4, 32], strings: Array(strings.bytes.dropLast())))
    }
    // Member names are checked too.
    #expect(throws: BTFError.stringOffsetOutOfRange(offset: 100, tableSize: 5)) {
      try BTF(
        bytes: btfSectionBytes(
          types: intWords + [0, btfInfo(4, vlen: 1), 4, 100, 1, 0], strings: strings.bytes))
    }
  }

  @Test func unknownKind() {
    #expect(throws: BTFError.unknownKind(kind: 20, typeID: 2)) {
      try BTF(
        bytes: btfSectionBytes(types: intWords + [0, btfInfo(20), 0], strings: strings.bytes))
    }
    #expect(throws: BTFError.unknownKind(kind: 0, typeID: 1)) {
      try BTF(bytes: btfSectionBytes(types: [0, 0, 0], strings: strings.bytes))
    }
  }

  @Test func typeIDOutOfRange() {
    #expect(throws: BTFError.typeIDOutOfRange(typeID: 2, target: 3, count: 3)) {
      try BTF(bytes: btfSectionBytes(types: intWords + [0, btfInfo(2), 3], strings: strings.bytes))
    }
    #expect(throws: BTFError.typeIDOutOfRange(typeID: 1, target: 7, count: 2)) {
      try BTF(
        bytes: btfSectionBytes(types: [0, btfInfo(13, vlen: 1), 0, 0, 7], strings: strings.bytes))
    }
  }

  @Test func vlenOverflowsTheSection() {
    #expect(throws: BTFError.vlenTooLarge(typeID: 2, vlen: 2, remaining: 12)) {
      try BTF(
        bytes: btfSectionBytes(
          types: intWords + [0, btfInfo(4, vlen: 2), 8, 0, 1, 0], strings: strings.bytes))
    }
    #expect(throws: BTFError.vlenTooLarge(typeID: 1, vlen: 0xFFFF, remaining: 0)) {
      try BTF(bytes: btfSectionBytes(types: [0, btfInfo(6, vlen: 0xFFFF), 4], strings: [0]))
    }
  }

  @Test func truncatedRecords() {
    // An INT without its data word.
    #expect(throws: BTFError.typeRecordTruncated(typeID: 2, offset: 16)) {
      try BTF(bytes: btfSectionBytes(types: intWords + [0, btfInfo(1), 4], strings: strings.bytes))
    }
    // Half a record header.
    #expect(throws: BTFError.typeRecordTruncated(typeID: 2, offset: 16)) {
      try BTF(bytes: btfSectionBytes(types: intWords + [0, btfInfo(2)], strings: strings.bytes))
    }
    // A type section whose length is not a multiple of 4.
    #expect(throws: BTFError.typeRecordTruncated(typeID: 1, offset: 0)) {
      try BTF(bytes: btfSectionBytes(types: [0, btfInfo(2), 0], strings: [0], typeLength: 11))
    }
  }

  @Test func reservedBits() {
    #expect(throws: BTFError.reservedBitsSet(typeID: 1, word: .info, value: 0x0201_0000)) {
      try BTF(bytes: btfSectionBytes(types: [0, 0x0201_0000, 0], strings: [0]))
    }
    #expect(throws: BTFError.reservedBitsSet(typeID: 1, word: .info, value: 0x0200_0001)) {
      try BTF(bytes: btfSectionBytes(types: [0, btfInfo(2, vlen: 1), 0], strings: [0]))
    }
    #expect(throws: BTFError.reservedBitsSet(typeID: 1, word: .info, value: 0x4200_0000)) {
      try BTF(bytes: btfSectionBytes(types: [0, 0x4200_0000, 0], strings: [0]))
    }
    #expect(throws: BTFError.reservedBitsSet(typeID: 1, word: .sizeOrType, value: 4)) {
      try BTF(bytes: btfSectionBytes(types: [0, btfInfo(7), 4], strings: [0]))
    }
    #expect(throws: BTFError.reservedBitsSet(typeID: 1, word: .intData, value: 0x1000_0020)) {
      try BTF(bytes: btfSectionBytes(types: [0, btfInfo(1), 4, 0x1000_0020], strings: [0]))
    }
  }

  @Test func emptySectionsParse() throws {
    let btf = try BTF(bytes: btfSectionBytes(types: [], strings: []))
    #expect(btf.types == [.void])
    #expect(try btf.string(at: 0) == "")
    #expect(throws: BTFError.stringOffsetOutOfRange(offset: 1, tableSize: 0)) {
      try btf.string(at: 1)
    }
  }

  @Test func descriptionsNameTheNumbers() {
    #expect(
      BTFError.typeIDOutOfRange(typeID: 2, target: 30, count: 3).description
        == "type 2 refers to type 30, but there are only 3 types")
    #expect(
      BTFError.badMagic(.btfExt, found: 0x1234).description
        == ".BTF.ext has bad magic 0x1234, expected 0xEB9F")
    #expect(
      BTFError.recordSizeTooSmall(.lineInfo, size: 8, minimum: 16).description
        == "line_info record size 8 is smaller than the minimum 16")
    #expect(
      BTFError.reservedBitsSet(typeID: 1, word: .info, value: 0x4200_0000).description
        == "type 1 sets reserved bits in its info word 0x42000000")
    #expect(
      BTFError.typeHasNoSize(typeID: 5, kind: .functionPrototype).description
        == "type 5 of kind FUNC_PROTO has no size")
  }
}

@Suite("BTF robustness")
struct BTFRobustnessTests {
  /// Parses `bytes` and, when that succeeds, runs every query over every type and checks that
  /// the re-encoded form parses to the same types.
  private func exercise(_ bytes: [UInt8]) {
    guard let btf = try? BTF(bytes: bytes) else { return }
    for id in btf.types.indices.map(BTFTypeID.init) {
      _ = try? btf.resolvedSize(of: id)
      _ = try? btf.skippingModifiers(id)
      _ = try? btf.skippingQualifiers(id)
      _ = try? btf.name(of: id)
    }
    let reparsed = try? BTF(bytes: btf.encoded())
    #expect(reparsed?.types == btf.types)
  }

  @Test("every prefix and every corrupted byte of a fixture .BTF")
  func corruptedBTF() throws {
    let fixture = "blocklist_btf"
    let bytes = try btfSection(fixture, ".BTF")
    for length in 0..<bytes.count {
      exercise(Array(bytes.prefix(length)))
    }
    for index in bytes.indices {
      for flip: UInt8 in [0x01, 0x80, 0xFF] {
        var corrupted = bytes
        corrupted[index] ^= flip
        exercise(corrupted)
      }
    }
  }

  @Test(
    "every prefix and every corrupted byte of a fixture .BTF.ext",
    arguments: ["blocklist_btf", "calls"])
  func corruptedExt(fixture: String) throws {
    let btf = try BTF(bytes: try btfSection(fixture, ".BTF"))
    let bytes = try btfSection(fixture, ".BTF.ext")
    for length in 0..<bytes.count {
      _ = try? BTFExt(bytes: bytes.prefix(length), btf: btf)
    }
    for index in bytes.indices {
      for flip: UInt8 in [0x01, 0x10, 0x80, 0xFF] {
        var corrupted = bytes
        corrupted[index] ^= flip
        _ = try? BTFExt(bytes: corrupted, btf: btf)
      }
    }
  }

  @Test func pseudoRandomInputs() {
    // A fixed linear congruential generator: reproducible, no Foundation.
    var state: UInt64 = 0x5DEE_CE66D
    func next() -> UInt8 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return UInt8(truncatingIfNeeded: state >> 56)
    }
    for _ in 0..<2000 {
      let length = Int(next()) % 120
      var types = (0..<length).map { _ in next() }
      // Mostly small kind numbers, so that records get past the kind check.
      for i in stride(from: 7, to: types.count, by: 12) { types[i] = next() % 21 }
      let bytes = btfSectionBytes(
        types: [], strings: [0, 0x61, 0], typeLength: UInt32(types.count),
        stringOffset: UInt32(types.count))
      exercise(Array(bytes.prefix(24)) + types + [0, 0x61, 0])
    }
  }
}
