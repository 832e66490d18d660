import Testing

@testable import XDPKitObject

/// Parsed types stay encoded and are decoded on access (see BTFTypes); these prove that reads
/// through the records agree with the same types held as values, before and after a change.
@Suite("BTF types: encoded records and values")
struct BTFTypesStorageTests {
  /// u32 (INT), struct s { u32 a; u32 b; } with a typedef t to it, and a pointer to t.
  static func sample() throws -> BTF {
    let strings = [0] + Array("u32\0s\0a\0b\0t\0".utf8)
    return try BTF(
      parsing: btfSectionBytes(
        types: [
          1, btfInfo(1), 4, 32,  // 1: INT u32
          5, btfInfo(4, vlen: 2), 8, 7, 1, 0, 9, 1, 32,  // 2: STRUCT s { a, b }
          11, btfInfo(8), 2,  // 3: TYPEDEF t -> 2
          0, btfInfo(2), 3,  // 4: PTR -> 3
        ], strings: strings), base: nil)
  }

  @Test("a parsed BTF is held as records, and reads agree with the decoded values")
  func recordsAgreeWithValues() throws {
    let parsed = try Self.sample()
    #expect(parsed.types.records != nil)
    let values = BTFTypes(Array(parsed.types))
    #expect(values.records == nil)
    #expect(parsed.types == values)
    for id in 0..<parsed.types.count {
      #expect(parsed.types.kind(at: id) == values.kind(at: id))
      #expect(parsed.types.nameOffset(at: id) == values.nameOffset(at: id))
      #expect(parsed.types.sizeOrType(at: id) == values.sizeOrType(at: id))
      #expect(parsed.types.name(at: id) == values.name(at: id))
    }
    #expect(parsed.types[2].name == "s")
    #expect(parsed.types[2].body
      == .struct(size: 8, members: [
        { var m = BTFType.Member(nameOffset: 7, type: 1, bitOffset: 0); m.name = "a"; return m }(),
        { var m = BTFType.Member(nameOffset: 9, type: 1, bitOffset: 32); m.name = "b"; return m }(),
      ]))
    #expect(parsed.typeID(named: "t", kind: .typedef) == 3)
    #expect(parsed.typeID(named: "t", kind: .struct) == nil)
    #expect(parsed.typeID(named: "s") == 2)
    #expect(parsed.typeID(named: "") == nil)
    #expect(try parsed.skippingModifiers(4) == 4)
    #expect(try parsed.skippingModifiers(3) == 2)
    #expect(try parsed.resolvedSize(of: 3) == 8)
    #expect(try parsed.kind(of: 4) == .pointer)
    #expect(throws: BTFError.noSuchType(id: 5, count: 5)) { try parsed.kind(of: 5) }
  }

  @Test("the first change turns records into values; the other types are unchanged")
  func changeDecodesAll() throws {
    let parsed = try Self.sample()
    var changed = parsed
    try changed.replaceType(id: 4, with: BTFType(body: .pointer(to: 2)))
    #expect(changed.types.records == nil)
    #expect(parsed.types.records != nil)
    #expect(Array(changed.types.prefix(4)) == Array(parsed.types.prefix(4)))
    #expect(changed.types[4].body == .pointer(to: 2))
    #expect(parsed.types[4].body == .pointer(to: 3))
    #expect(changed.typeID(named: "t") == 3)
  }

  @Test("split BTF on a parsed base keeps both as records and numbers on from the base")
  func splitOnRecords() throws {
    let base = try Self.sample()
    let split = try BTF(
      splitBytes: btfSectionBytes(
        types: [UInt32(base.strings.count), btfInfo(2), 4],  // 5: PTR x -> 4
        strings: Array("x\0".utf8)),
      base: base)
    #expect(split.types.records?.segments.count == 2)
    #expect(split.types.count == 6)
    #expect(split.types[5].body == .pointer(to: 4))
    #expect(split.types[5].name == "x")
    #expect(split.types[2] == base.types[2])
    #expect(split.typeID(named: "x", kind: .pointer) == 5)
  }
}
