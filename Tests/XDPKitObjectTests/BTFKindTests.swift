import Testing

@testable import XDPKitObject

// Hand-encoded BTF of every kind: decoding, re-encoding, lookups, and changes made through
// the mutation API.

/// A `.BTF` with one type of every kind (and a few variants), and its string table.
private let kindStrings = BTFTestStrings([
  "int", "s", "a", "b", "x", "u", "E", "NEG", "POS", "fwd", "td", "p", "f", "v", "sec",
  "double", "tag", "user", "E64", "BIG", "bool",
])

private func everyKindBytes() -> [UInt8] {
  let s = kindStrings
  let words: [[UInt32]] = [
    // 1: INT int: signed, 32 bits
    [s["int"], btfInfo(1), 4, 0x0100_0020],
    // 2: PTR -> 1
    [0, btfInfo(2), 1],
    // 3: ARRAY int[3]
    [0, btfInfo(3), 0, 1, 1, 3],
    // 4: STRUCT s, kind flag: bitfields a:3, b:5, then x
    [
      s["s"], btfInfo(4, vlen: 3, kindFlag: true), 8,
      s["a"], 1, 0x0300_0000, s["b"], 1, 0x0500_0003, s["x"], 1, 32,
    ],
    // 5: UNION u { x: int; a: double }
    [s["u"], btfInfo(5, vlen: 2), 8, s["x"], 1, 0, s["a"], 16, 0],
    // 6: ENUM E, signed: NEG = -3, POS = 7
    [s["E"], btfInfo(6, vlen: 2, kindFlag: true), 4, s["NEG"], 0xFFFF_FFFD, s["POS"], 7],
    // 7: FWD fwd, of a union
    [s["fwd"], btfInfo(7, kindFlag: true), 0],
    // 8: TYPEDEF td -> int
    [s["td"], btfInfo(8), 1],
    // 9: VOLATILE -> td
    [0, btfInfo(9), 8],
    // 10: CONST -> 9
    [0, btfInfo(10), 9],
    // 11: RESTRICT -> 2
    [0, btfInfo(11), 2],
    // 12: FUNC_PROTO int (int p, ...)
    [0, btfInfo(13, vlen: 2), 1, s["p"], 1, 0, 0],
    // 13: FUNC f -> 12, extern
    [s["f"], btfInfo(12, vlen: 2), 12],
    // 14: VAR v: 10, global
    [s["v"], btfInfo(14), 10, 1],
    // 15: DATASEC sec, size 16: v at 4
    [s["sec"], btfInfo(15, vlen: 1), 16, 14, 4, 4],
    // 16: FLOAT double
    [s["double"], btfInfo(16), 8],
    // 17: DECL_TAG tag on member 1 of s
    [s["tag"], btfInfo(17), 4, 1],
    // 18: DECL_TAG tag on the whole of f
    [s["tag"], btfInfo(17), 13, 0xFFFF_FFFF],
    // 19: TYPE_TAG user -> int
    [s["user"], btfInfo(18), 1],
    // 20: ENUM64 E64, signed: BIG = -2
    [
      s["E64"], btfInfo(19, vlen: 1, kindFlag: true), 8, s["BIG"], 0xFFFF_FFFE, 0xFFFF_FFFF,
    ],
    // 21: INT bool
    [s["bool"], btfInfo(1), 1, 0x0400_0008],
    // 22: STRUCT, anonymous and empty
    [0, btfInfo(4, vlen: 0), 0],
  ]
  return btfSectionBytes(types: words.flatMap { $0 }, strings: s.bytes)
}

/// A member, parameter or value with its name resolved, for comparisons.
private func named<T>(_ value: T, _ name: String?, _ set: (inout T, String?) -> Void) -> T {
  var value = value
  set(&value, name)
  return value
}

@Suite("BTF kinds")
struct BTFKindTests {
  @Test func everyKindDecodes() throws {
    let btf = try BTF(bytes: everyKindBytes())
    let s = kindStrings
    #expect(btf.types.count == 23)
    #expect(
      btf.types.map(\.kind) == [
        .void, .int, .pointer, .array, .struct, .union, .enum, .forward, .typedef, .volatile,
        .const, .restrict, .functionPrototype, .function, .variable, .dataSection, .float,
        .declarationTag, .declarationTag, .typeTag, .enum64, .int, .struct,
      ])
    #expect(btf.types[1].body == .int(.init(size: 4, encoding: .signed, offset: 0, bits: 32)))
    #expect(btf.types[1].isSigned)
    #expect(btf.types[2].body == .pointer(to: 1))
    #expect(btf.types[3].body == .array(.init(elementType: 1, indexType: 1, count: 3)))

    let member = { (name: String, type: BTFTypeID, bit: UInt32, width: UInt8) in
      named(
        BTFType.Member(nameOffset: s[name], type: type, bitOffset: bit, bitfieldSize: width),
        name
      ) { $0.name = $1 }
    }
    #expect(btf.types[4].kindFlag)
    #expect(
      btf.types[4].body
        == .struct(
          size: 8, members: [member("a", 1, 0, 3), member("b", 1, 3, 5), member("x", 1, 32, 0)]))
    #expect(
      btf.types[5].body == .union(size: 8, members: [member("x", 1, 0, 0), member("a", 16, 0, 0)]))

    guard case .enum(4, let values) = btf.types[6].body else {
      Issue.record("6 is not a 4-byte ENUM")
      return
    }
    #expect(btf.types[6].isSigned)
    #expect(values.map(\.name) == ["NEG", "POS"])
    #expect(values.map(\.value) == [-3, 7])
    #expect(values.map(\.unsignedValue) == [0xFFFF_FFFD, 7])

    #expect(btf.types[7].body == .forward)
    #expect(btf.types[7].forwardKind == .union)
    #expect(btf.types[4].forwardKind == nil)
    #expect(btf.types[8].body == .typedef(1))
    #expect(btf.types[8].name == "td")
    #expect(btf.types[9].body == .volatile(8))
    #expect(btf.types[10].body == .const(9))
    #expect(btf.types[11].body == .restrict(2))
    #expect(
      btf.types[12].body
        == .functionPrototype(
          returnType: 1,
          parameters: [
            named(BTFType.Parameter(nameOffset: s["p"], type: 1), "p") { $0.name = $1 },
            BTFType.Parameter(nameOffset: 0, type: 0),
          ]))
    #expect(btf.types[13].body == .function(prototype: 12, linkage: .extern))
    #expect(btf.types[13].vlen == 2)
    #expect(btf.types[14].body == .variable(type: 10, linkage: .global))
    #expect(
      btf.types[15].body == .dataSection(size: 16, entries: [.init(type: 14, offset: 4, size: 4)]))
    #expect(btf.types[16].body == .float(size: 8))
    #expect(btf.types[17].body == .declarationTag(type: 4, componentIndex: 1))
    #expect(btf.types[18].body == .declarationTag(type: 13, componentIndex: -1))
    #expect(btf.types[18].name == "tag")
    #expect(btf.types[19].body == .typeTag(1))
    #expect(btf.types[19].name == "user")

    guard case .enum64(8, let values64) = btf.types[20].body else {
      Issue.record("20 is not an 8-byte ENUM64")
      return
    }
    #expect(btf.types[20].isSigned)
    #expect(values64.map(\.value) == [0xFFFF_FFFF_FFFF_FFFE])
    #expect(values64.map(\.signedValue) == [-2])
    #expect(values64.map(\.low) == [0xFFFF_FFFE])
    #expect(values64.map(\.high) == [0xFFFF_FFFF])

    #expect(btf.types[21].body == .int(.init(size: 1, encoding: .bool, offset: 0, bits: 8)))
    #expect(!btf.types[21].isSigned)
    #expect(btf.types[22].body == .struct(size: 0, members: []))
    #expect(btf.types[22].name == nil)
  }

  @Test func everyKindRoundTrips() throws {
    let bytes = everyKindBytes()
    let btf = try BTF(bytes: bytes)
    #expect(btf.encoded() == bytes)
  }

  @Test func rawWords() throws {
    let btf = try BTF(bytes: everyKindBytes())
    #expect(btf.types[4].info == 0x8400_0003)
    #expect(btf.types[4].sizeOrType == 8)
    #expect(btf.types[7].info == 0x8700_0000)
    #expect(btf.types[3].sizeOrType == 0)
    #expect(btf.types[12].sizeOrType == 1)
    #expect(btf.types[14].sizeOrType == 10)
    if case .int(let info) = btf.types[1].body { #expect(info.dataWord == 0x0100_0020) }
    #expect(btf.types[12].referencedTypeIDs == [1, 1, 0])
    #expect(btf.types[3].referencedTypeIDs == [1, 1])
    #expect(btf.types[16].referencedTypeIDs == [])
  }

  @Test func sizesAndModifiers() throws {
    let btf = try BTF(bytes: everyKindBytes())
    let sizes: [(BTFTypeID, Int)] = [
      (1, 4), (2, 8), (3, 12), (4, 8), (5, 8), (6, 4), (8, 4), (9, 4), (10, 4), (11, 8),
      (14, 4), (15, 16), (16, 8), (19, 4), (20, 8), (21, 1), (22, 0),
    ]
    for (id, size) in sizes {
      #expect(try btf.resolvedSize(of: id) == size, "type \(id)")
    }
    for (id, kind) in [
      (7, BTFKind.forward), (12, .functionPrototype), (13, .function),
      (17, .declarationTag), (0, .void),
    ] as [(BTFTypeID, BTFKind)] {
      #expect(throws: BTFError.typeHasNoSize(typeID: id, kind: kind)) {
        try btf.resolvedSize(of: id)
      }
    }
    #expect(try btf.skippingModifiers(10) == 1)
    #expect(try btf.skippingQualifiers(10) == 8)
    #expect(try btf.skippingModifiers(19) == 1)
    #expect(try btf.skippingQualifiers(11) == 2)
    #expect(try btf.skippingModifiers(1) == 1)
    #expect(try btf.skippingModifiers(14) == 14)  // a VAR is not a modifier
    #expect(throws: BTFError.noSuchType(id: 23, count: 23)) { try btf.resolvedSize(of: 23) }
    #expect(throws: BTFError.noSuchType(id: 99, count: 23)) { try btf.name(of: 99) }
  }

  @Test func lookupsByName() throws {
    let btf = try BTF(bytes: everyKindBytes())
    #expect(btf.typeID(named: "tag") == 17)
    #expect(btf.typeID(named: "tag", kind: .declarationTag) == 17)
    #expect(btf.typeID(named: "int", kind: .struct) == nil)
    #expect(btf.firstType(named: "E64")?.type.kind == .enum64)
    #expect(try btf.string(at: kindStrings["double"]) == "double")
    #expect(try btf.string(at: kindStrings["double"] + 1) == "ouble")
  }

  @Test func cyclesAndOverflowAreErrors() throws {
    let s = BTFTestStrings(["a", "b"])
    // 1 typedef -> 2 const -> 1; 3 is an array of itself; 4 volatile -> 5 const -> 4.
    let cycle = btfSectionBytes(
      types: [
        s["a"], btfInfo(8), 2, 0, btfInfo(10), 1, 0, btfInfo(3), 0, 3, 3, 2,
        0, btfInfo(9), 5, 0, btfInfo(10), 4,
      ],
      strings: s.bytes)
    let btf = try BTF(bytes: cycle)
    #expect(throws: BTFError.resolutionTooDeep(typeID: 1)) { try btf.resolvedSize(of: 1) }
    #expect(throws: BTFError.resolutionTooDeep(typeID: 3)) { try btf.resolvedSize(of: 3) }
    #expect(throws: BTFError.resolutionTooDeep(typeID: 1)) { try btf.skippingModifiers(1) }
    #expect(try btf.skippingQualifiers(2) == 1)  // stops at the typedef
    #expect(throws: BTFError.resolutionTooDeep(typeID: 4)) { try btf.skippingQualifiers(4) }
    // A struct that contains a pointer to itself is fine.
    let selfReference = btfSectionBytes(
      types: [s["a"], btfInfo(4, vlen: 1), 8, s["b"], 2, 0, 0, btfInfo(2), 1], strings: s.bytes)
    #expect(try BTF(bytes: selfReference).resolvedSize(of: 1) == 8)

    let huge = btfSectionBytes(
      types: [
        0, btfInfo(1), 0xFFFF, 32,
        0, btfInfo(3), 0, 1, 1, 0xFFFF_FFFF,
        0, btfInfo(3), 0, 2, 1, 0xFFFF_FFFF,
      ], strings: [0])
    let big = try BTF(bytes: huge)
    #expect(try big.resolvedSize(of: 2) == 0xFFFF_FFFF * 0xFFFF)
    #expect(throws: BTFError.sizeOverflow(typeID: 3)) { try big.resolvedSize(of: 3) }
  }
}

// MARK: - Mutation

@Suite("BTF mutation")
struct BTFMutationTests {
  @Test func replaceTypeResolvesNamesAndReencodes() throws {
    var btf = try BTF(bytes: everyKindBytes())
    let s = kindStrings
    try btf.replaceType(
      id: 22,
      with: BTFType(
        nameOffset: s["s"], kindFlag: true,
        body: .struct(
          size: 4,
          members: [.init(nameOffset: s["a"], type: 1, bitOffset: 0x00FF_FFFF, bitfieldSize: 1)])))
    #expect(btf.types[22].name == "s")
    guard case .struct(_, let members) = btf.types[22].body else {
      Issue.record("22 is not a struct")
      return
    }
    #expect(members.map(\.name) == ["a"])
    let reparsed = try BTF(bytes: btf.encoded())
    #expect(reparsed.types == btf.types)
    #expect(reparsed.header.typeLength == btf.header.typeLength + 12)
  }

  @Test func replaceTypeRejectsWhatCannotBeEncoded() throws {
    var btf = try BTF(bytes: everyKindBytes())
    let original = btf
    #expect(throws: BTFError.noSuchType(id: 0, count: 23)) {
      try btf.replaceType(id: 0, with: BTFType(body: .float(size: 4)))
    }
    #expect(throws: BTFError.noSuchType(id: 23, count: 23)) {
      try btf.replaceType(id: 23, with: BTFType(body: .float(size: 4)))
    }
    #expect(throws: BTFError.unknownKind(kind: 0, typeID: 5)) {
      try btf.replaceType(id: 5, with: .void)
    }
    #expect(throws: BTFError.typeIDOutOfRange(typeID: 5, target: 23, count: 23)) {
      try btf.replaceType(id: 5, with: BTFType(body: .pointer(to: 23)))
    }
    #expect(throws: BTFError.stringOffsetOutOfRange(offset: 9999, tableSize: s.bytes.count)) {
      try btf.replaceType(id: 5, with: BTFType(nameOffset: 9999, body: .float(size: 4)))
    }
    #expect(throws: BTFError.valueTooLarge(typeID: 5, value: 0x1_0000, maximum: 0xFFFF)) {
      try btf.replaceType(
        id: 5, with: BTFType(body: .function(prototype: 12, linkage: .unknown(0x1_0000))))
    }
    #expect(throws: BTFError.valueTooLarge(typeID: 5, value: 0x100_0000, maximum: 0xFF_FFFF)) {
      try btf.replaceType(
        id: 5,
        with: BTFType(
          kindFlag: true,
          body: .union(size: 4, members: [.init(nameOffset: 0, type: 1, bitOffset: 0x100_0000)])))
    }
    #expect(throws: BTFError.valueTooLarge(typeID: 5, value: 3, maximum: 0)) {
      try btf.replaceType(
        id: 5,
        with: BTFType(
          body: .union(
            size: 4, members: [.init(nameOffset: 0, type: 1, bitOffset: 0, bitfieldSize: 3)])))
    }
    #expect(btf == original)
  }

  private var s: BTFTestStrings { kindStrings }

  @Test func appendStringAndType() throws {
    var btf = try BTF(bytes: everyKindBytes())
    let tableSize = UInt32(btf.strings.count)
    #expect(try btf.appendString("double") == kindStrings["double"])
    #expect(try btf.appendString("") == 0)
    let offset = try btf.appendString("new_name")
    #expect(offset == tableSize)
    #expect(try btf.appendString("new_name") == offset)
    #expect(try btf.string(at: offset) == "new_name")
    let id = try btf.appendType(
      BTFType(
        nameOffset: offset,
        body: .struct(size: 4, members: [.init(nameOffset: offset, type: 1, bitOffset: 0)])))
    #expect(id == 23)
    #expect(throws: BTFError.typeIDOutOfRange(typeID: 24, target: 25, count: 25)) {
      try btf.appendType(BTFType(body: .pointer(to: 25)))
    }
    let pointer = try btf.appendType(BTFType(body: .pointer(to: 23)))
    #expect(pointer == 24)
    #expect(btf.types[23].name == "new_name")
    let reparsed = try BTF(bytes: btf.encoded())
    #expect(reparsed.types == btf.types)
    #expect(reparsed.strings == btf.strings)
    #expect(try reparsed.resolvedSize(of: 23) == 4)
    #expect(try reparsed.resolvedSize(of: 24) == 8)

    // Built from nothing.
    var built = BTF()
    let name = try built.appendString("u32")
    let int = try built.appendType(
      BTFType(nameOffset: name, body: .int(.init(size: 4, encoding: [], bits: 32))))
    #expect(int == 1)
    #expect(
      built.encoded()
        == btfSectionBytes(
          types: [1, btfInfo(1), 4, 32], strings: [0] + Array("u32".utf8) + [0]))
    #expect(try BTF(bytes: built.encoded()).types == built.types)

    // An empty string table gets its leading NUL.
    var empty = try BTF(bytes: btfSectionBytes(types: [0, btfInfo(2), 0], strings: []))
    #expect(try empty.appendString("a") == 1)
    #expect(empty.strings == [0, UInt8(ascii: "a"), 0])
  }
}
