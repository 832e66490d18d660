import Testing

@testable import XDPKitObject

/// The loader's DATASEC fix-ups patch parsed records in place; these prove that the result is
/// what the same edits make on the types held as values, and that the checks still hold.
@Suite("BTF records: DATASEC patches in place")
struct BTFRecordPatchTests {
  /// u32 (INT), VAR a and VAR b of it, DATASEC .data { a, b } with size 0 and offsets 0.
  static func sample() throws -> BTF {
    let strings = [0] + Array("u32\0a\0b\0.data\0".utf8)
    return try BTF(
      bytes: btfSectionBytes(
        types: [
          1, btfInfo(1), 4, 32,  // 1: INT u32
          5, btfInfo(14), 1, 1,  // 2: VAR a (global)
          7, btfInfo(14), 1, 1,  // 3: VAR b (global)
          9, btfInfo(15, vlen: 2), 0, 3, 0, 4, 2, 0, 4,  // 4: DATASEC .data { b, a }
        ], strings: strings))
  }

  @Test("size and entries are patched into the records, and encode as the values would")
  func patchMatchesValues() throws {
    let parsed = try Self.sample()
    var patched = parsed
    var values = parsed
    values.types = BTFTypes(Array(parsed.types))
    let entries = [
      BTFType.DataSectionEntry(type: 2, offset: 0, size: 4),
      BTFType.DataSectionEntry(type: 3, offset: 4, size: 4),
    ]
    for i in 0..<2 {
      var btf = i == 0 ? patched : values
      try btf.setDataSectionSize(id: 4, size: 8)
      try btf.setDataSectionEntries(id: 4, entries: entries)
      if i == 0 { patched = btf } else { values = btf }
    }
    #expect(patched.types.records != nil)
    #expect(values.types.records == nil)
    #expect(patched.types == values.types)
    #expect(patched.types[4].body == .dataSection(size: 8, entries: entries))
    #expect(patched.encoded() == values.encoded())
    #expect(try BTF(bytes: patched.encoded()).types == values.types)
    // The original is unchanged: copies share the records until one is patched.
    #expect(parsed.types[4].body == .dataSection(
      size: 0, entries: [.init(type: 3, offset: 0, size: 4), .init(type: 2, offset: 0, size: 4)]))
    #expect(parsed.encoded() == (try Self.sample()).encoded())
  }

  @Test("patching checks the kind, the id and the entries' types")
  func patchChecks() throws {
    var btf = try Self.sample()
    #expect(throws: BTFError.wrongKind(typeID: 1, expected: .dataSection, found: .int)) {
      try btf.setDataSectionSize(id: 1, size: 8)
    }
    #expect(throws: BTFError.noSuchType(id: 9, count: 5)) { try btf.setDataSectionSize(id: 9, size: 8) }
    #expect(throws: BTFError.typeIDOutOfRange(typeID: 4, target: 7, count: 5)) {
      try btf.setDataSectionEntries(
        id: 4, entries: [.init(type: 2, offset: 0, size: 4), .init(type: 7, offset: 4, size: 4)])
    }
    #expect(btf.types.records != nil)
    // Another entry count cannot be patched in place: the types become values.
    try btf.setDataSectionEntries(id: 4, entries: [.init(type: 2, offset: 0, size: 4)])
    #expect(btf.types.records == nil)
    #expect(btf.types[4].body == .dataSection(size: 0, entries: [.init(type: 2, offset: 0, size: 4)]))
  }

  @Test("dataSectionIDs lists the DATASECs without decoding, on records and on values")
  func dataSectionIDs() throws {
    let parsed = try Self.sample()
    #expect(parsed.dataSectionIDs == [4])
    var values = parsed
    values.types = BTFTypes(Array(parsed.types))
    #expect(values.dataSectionIDs == [4])
    #expect(parsed.dataSectionIDs(named: Array(".data".utf8)) == [4])
    #expect(parsed.dataSectionIDs(named: Array(".bss".utf8)) == [])
  }

  @Test("linkage(of:) reads a VAR's linkage from the record, nil for other kinds")
  func linkage() throws {
    let parsed = try Self.sample()
    var values = parsed
    values.types = BTFTypes(Array(parsed.types))
    for btf in [parsed, values] {
      #expect(try btf.linkage(of: 2) == .global)
      #expect(try btf.linkage(of: 1) == nil)
      #expect(throws: BTFError.noSuchType(id: 5, count: 5)) { try btf.linkage(of: 5) }
    }
  }
}
