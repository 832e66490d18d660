import Testing

@testable import XDPKitObject

// Facts about the fixtures come from `bpftool btf dump file` on the committed objects (see
// Fixtures/README.md); the parser's dump of every fixture matches bpftool's type for type.

@Suite("BTF from fixture objects")
struct BTFFixtureTests {
  @Test("every fixture's .BTF re-encodes byte for byte", arguments: allFixtureNames)
  func roundTrip(fixture: String) throws {
    let bytes = try btfSection(fixture, ".BTF")
    let btf = try BTF(bytes: bytes)
    #expect(btf.encoded() == bytes)
    #expect(try BTF(bytes: btf.encoded()) == btf)
    // An ArraySlice whose indices do not start at 0 parses the same.
    let padded = [0xAA, 0xBB] + bytes
    #expect(try BTF(bytes: padded[2...]) == btf)
  }

  @Test(
    "every fixture's .BTF.ext parses, with byte offsets of whole instructions",
    arguments: allFixtureNames)
  func extParses(fixture: String) throws {
    let (btf, ext) = try btfFixture(fixture)
    #expect(ext.header.headerLength == 32)
    #expect(ext.funcInfoRecordSize == 8)
    #expect(ext.lineInfoRecordSize == 16)
    #expect(ext.coreRelocationRecordSize == nil)
    #expect(ext.coreRelocations.isEmpty)
    #expect(ext.funcInfo["xdp"]?.first?.insnOffset == 0)
    for (_, records) in ext.funcInfo {
      for record in records {
        #expect(record.insnOffset % 8 == 0)
        #expect(try btf.type(id: record.typeID).kind == .function)
      }
    }
    for (_, records) in ext.lineInfo {
      for record in records {
        #expect(record.insnOffset % 8 == 0)
        #expect(record.fileName == "./\(fixture).c")
      }
    }
  }

  @Test("BPFObject exposes the same BTF and BTF.ext", arguments: allFixtureNames)
  func sameThroughBPFObject(fixture: String) throws {
    let object = try BPFObject(bytes: try fixtureBytes(fixture))
    let (btf, ext) = try btfFixture(fixture)
    #expect(object.btf == btf)
    #expect(object.btfExt == ext)
  }

  @Test func blocklistHeaderAndCounts() throws {
    let btf = try BTF(bytes: try btfSection("blocklist_btf", ".BTF"))
    #expect(
      btf.header
        == BTFHeader(
          magic: 0xEB9F, version: 1, flags: 0, headerLength: 24, typeOffset: 0, typeLength: 652,
          stringOffset: 652, stringLength: 621))
    #expect(btf.types.count == 30)
    #expect(btf.types[0] == .void)
    #expect(btf.strings.count == 621)
    #expect(try btf.string(at: 0) == "")
  }

  @Test func blocklistMapsDataSection() throws {
    let btf = try BTF(bytes: try btfSection("blocklist_btf", ".BTF"))
    let maps = try #require(btf.firstType(named: ".maps", kind: .dataSection))
    #expect(maps.id == 28)
    guard case .dataSection(let size, let entries) = maps.type.body else {
      Issue.record("not a DATASEC")
      return
    }
    #expect(size == 0)
    #expect(
      entries == [
        .init(type: 14, offset: 0, size: 32), .init(type: 20, offset: 0, size: 32),
      ])
    #expect(try entries.map { try btf.name(of: $0.type) } == ["STATS", "BLOCKLIST"])
    #expect(try btf.type(id: 20).body == .variable(type: 19, linkage: .global))
    #expect(btf.typeID(named: "BLOCKLIST") == 20)
    #expect(btf.typeID(named: "BLOCKLIST", kind: .struct) == nil)
    #expect(btf.typeID(named: "no such type") == nil)
  }

  @Test func blocklistMapStruct() throws {
    let btf = try BTF(bytes: try btfSection("blocklist_btf", ".BTF"))
    let definition = try btf.type(id: 19)
    #expect(definition.name == nil)
    #expect(definition.nameOffset == 0)
    #expect(definition.kindFlag == false)
    guard case .struct(let size, let members) = definition.body else {
      Issue.record("BLOCKLIST's type is not a struct")
      return
    }
    #expect(size == 32)
    #expect(members.map(\.name) == ["type", "key", "value", "max_entries"])
    #expect(members.map(\.bitOffset) == [0, 64, 128, 192])
    #expect(members.map(\.byteOffset) == [0, 8, 16, 24])
    #expect(members.allSatisfy { $0.bitfieldSize == 0 })
    #expect(try btf.resolvedSize(of: 19) == 32)

    // __uint(type, BPF_MAP_TYPE_HASH): int (*type)[1].
    #expect(try btf.type(id: members[0].type).body == .pointer(to: 16))
    #expect(
      try btf.type(id: 16).body == .array(.init(elementType: 2, indexType: 4, count: 1)))
    // __uint(max_entries, 1024).
    guard case .pointer(let maxEntries) = try btf.type(id: members[3].type).body,
      case .array(let array) = try btf.type(id: maxEntries).body
    else {
      Issue.record("max_entries is not a pointer to an array")
      return
    }
    #expect(array.count == 1024)
    // __type(key, __u32): __u32 *key.
    guard case .pointer(let key) = try btf.type(id: members[1].type).body else {
      Issue.record("key is not a pointer")
      return
    }
    #expect(key == 6)
    #expect(try btf.name(of: key) == "__u32")
    #expect(try btf.resolvedSize(of: key) == 4)
    #expect(try btf.resolvedSize(of: members[1].type) == 8)
    #expect(try btf.skippingModifiers(key) == 7)
    #expect(try btf.skippingQualifiers(key) == 6)
    #expect(
      try btf.type(id: 7).body
        == .int(.init(size: 4, encoding: [], offset: 0, bits: 32)))
    #expect(try btf.name(of: 7) == "unsigned int")
  }

  @Test func blocklistStatsValueIsEightBytes() throws {
    let btf = try BTF(bytes: try btfSection("blocklist_btf", ".BTF"))
    guard case .variable(let definition, .global) = try btf.type(id: 14).body,
      case .struct(_, let members) = try btf.type(id: definition).body,
      let value = members.first(where: { $0.name == "value" }),
      case .pointer(let valueType) = try btf.type(id: value.type).body
    else {
      Issue.record("STATS is not a global VAR of a struct with a value pointer")
      return
    }
    #expect(try btf.name(of: valueType) == "__u64")
    #expect(try btf.resolvedSize(of: valueType) == 8)
  }

  @Test func blocklistFunction() throws {
    let btf = try BTF(bytes: try btfSection("blocklist_btf", ".BTF"))
    let function = try #require(btf.firstType(named: "xdp_firewall"))
    #expect(function.id == 24)
    #expect(function.type.body == .function(prototype: 23, linkage: .global))
    #expect(function.type.vlen == 1)
    #expect(function.type.info == 0x0C00_0001)
    #expect(function.type.sizeOrType == 23)
    guard case .functionPrototype(let returnType, let parameters) = try btf.type(id: 23).body
    else {
      Issue.record("not a FUNC_PROTO")
      return
    }
    #expect(try btf.name(of: returnType) == "int")
    #expect(try btf.type(id: returnType).isSigned)
    #expect(parameters.count == 1)
    #expect(parameters[0].name == "ctx")
    #expect(parameters[0].type == 21)
    #expect(try btf.type(id: 21).body == .pointer(to: 22))
    let context = try btf.type(id: 22)
    #expect(context.name == "xdp_md")
    #expect(try btf.resolvedSize(of: 22) == 24)
    guard case .struct(_, let members) = context.body else {
      Issue.record("xdp_md is not a struct")
      return
    }
    #expect(
      members.map(\.name) == [
        "data", "data_end", "data_meta", "ingress_ifindex", "rx_queue_index", "egress_ifindex",
      ])
    #expect(throws: BTFError.typeHasNoSize(typeID: 24, kind: .function)) {
      try btf.resolvedSize(of: 24)
    }
    #expect(throws: BTFError.typeHasNoSize(typeID: 23, kind: .functionPrototype)) {
      try btf.resolvedSize(of: 23)
    }
    // LICENSE: char[4].
    #expect(try btf.resolvedSize(of: try #require(btf.typeID(named: "LICENSE"))) == 4)
  }

  @Test func blocklistExt() throws {
    let (btf, ext) = try btfFixture("blocklist_btf")
    #expect(
      ext.header
        == BTFExtHeader(
          magic: 0xEB9F, version: 1, flags: 0, headerLength: 32, funcInfoOffset: 0,
          funcInfoLength: 20, lineInfoOffset: 20, lineInfoLength: 252, coreRelocationOffset: 272,
          coreRelocationLength: 0))
    #expect(Array(ext.funcInfo.keys) == ["xdp"])
    #expect(ext.funcInfo["xdp"] == [.init(insnOffset: 0, typeID: 24)])
    #expect(try btf.name(of: 24) == "xdp_firewall")

    let lines = try #require(ext.lineInfo["xdp"])
    #expect(lines.count == 15)
    #expect(lines.allSatisfy { $0.fileName == "./blocklist_btf.c" })
    #expect(lines.first?.insnOffset == 0)
    #expect(lines.first?.lineNumber == 29)
    #expect(lines.first?.column == 38)
    #expect(lines.first?.lineText == "\tvoid *data_end = (void *)(long)ctx->data_end;")
    #expect(lines.last?.insnOffset == 296)
    #expect(lines.last?.instructionIndex == 37)
    #expect(lines.last?.lineNumber == 56)
    #expect(lines.last?.column == 2)
    #expect(lines.last?.lineText == "\treturn action;")
    #expect(lines.last?.lineCol == 57_346)  // line 56 << 10 | column 2
  }

  @Test func globalsDataSections() throws {
    let btf = try BTF(bytes: try btfSection("globals", ".BTF"))
    let sections = btf.types.filter { $0.kind == .dataSection }.compactMap(\.name)
    #expect(sections == [".bss", ".data", ".data.custom", ".rodata", ".rodata.cfg", "license"])
    guard case .dataSection(_, let bss) = try btf.type(id: 28).body else {
      Issue.record("28 is not a DATASEC")
      return
    }
    #expect(bss == [.init(type: 22, offset: 0, size: 8), .init(type: 23, offset: 8, size: 4)])
    #expect(try btf.type(id: 23).name == "drops")
    #expect(try btf.type(id: 23).body == .variable(type: 13, linkage: .static))
    // const volatile __u32 mode: CONST -> VOLATILE -> TYPEDEF __u32 -> INT.
    #expect(try btf.type(id: 14).body == .variable(type: 12, linkage: .global))
    #expect(try btf.skippingQualifiers(12) == 3)
    #expect(try btf.skippingModifiers(12) == 4)
    #expect(try btf.resolvedSize(of: 14) == 4)
    // const volatile __u8 enabled.
    #expect(try btf.resolvedSize(of: 19) == 1)
  }

  /// Several DATASECs in one edit: the same result as the one-by-one setters, the original
  /// value untouched, and nothing changed when one update is refused.
  @Test func dataSectionsInOneEdit() throws {
    let original = try BTF(bytes: try btfSection("globals", ".BTF"))
    let data = try #require(original.typeID(named: ".data", kind: .dataSection))
    let bss = try #require(original.typeID(named: ".bss", kind: .dataSection))
    guard case .dataSection(_, let bssEntries) = try original.type(id: bss).body else {
      Issue.record("no .bss DATASEC")
      return
    }
    let dataEntries: [BTFType.DataSectionEntry] = [
      .init(type: 8, offset: 0, size: 4), .init(type: 11, offset: 8, size: 8),
    ]
    var batched = original
    try batched.setDataSections([(data, 16, dataEntries), (bss, 12, bssEntries)])
    var single = original
    try single.setDataSectionSize(id: data, size: 16)
    try single.setDataSectionEntries(id: data, entries: dataEntries)
    try single.setDataSectionSize(id: bss, size: 12)
    #expect(try batched.type(id: data).body == .dataSection(size: 16, entries: dataEntries))
    #expect(try batched.type(id: bss).body == .dataSection(size: 12, entries: bssEntries))
    #expect(batched.encoded() == single.encoded())
    #expect(try original.encoded() == BTF(bytes: try btfSection("globals", ".BTF")).encoded())
    var refused = original
    #expect(throws: BTFError.typeIDOutOfRange(typeID: bss, target: 999, count: original.types.count)) {
      try refused.setDataSections([
        (data, 16, dataEntries), (bss, 12, bssEntries.map { .init(type: 999, offset: $0.offset, size: $0.size) }),
      ])
    }
    #expect(refused.encoded() == original.encoded())
    #expect(throws: BTFError.wrongKind(typeID: 8, expected: .dataSection, found: .variable)) {
      try refused.setDataSections([(8, 4, [])])
    }
  }

  @Test func globalsDataSectionFixUps() throws {
    var btf = try BTF(bytes: try btfSection("globals", ".BTF"))
    let data = try #require(btf.typeID(named: ".data", kind: .dataSection))
    try btf.setDataSectionSize(id: data, size: 16)
    try btf.setDataSectionEntries(
      id: data, entries: [.init(type: 8, offset: 0, size: 4), .init(type: 11, offset: 8, size: 8)])
    #expect(
      try btf.type(id: data).body
        == .dataSection(
          size: 16,
          entries: [.init(type: 8, offset: 0, size: 4), .init(type: 11, offset: 8, size: 8)]))
    let reparsed = try BTF(bytes: btf.encoded())
    #expect(reparsed.types == btf.types)
    #expect(reparsed.strings == btf.strings)
    #expect(throws: BTFError.wrongKind(typeID: 8, expected: .dataSection, found: .variable)) {
      try btf.setDataSectionSize(id: 8, size: 4)
    }
    #expect(throws: BTFError.typeIDOutOfRange(typeID: data, target: 99, count: 34)) {
      try btf.setDataSectionEntries(id: data, entries: [.init(type: 99, offset: 0, size: 4)])
    }
  }

  @Test func callsFunctionRecordsAndLinkage() throws {
    let (btf, ext) = try btfFixture("calls")
    #expect(
      ext.funcInfo[".text"] == [
        .init(insnOffset: 0, typeID: 3), .init(insnOffset: 24, typeID: 11),
        .init(insnOffset: 80, typeID: 15),
      ])
    #expect(ext.funcInfo[".text"]?.map(\.instructionIndex) == [0, 3, 10])
    #expect(
      ext.funcInfo["xdp"] == [.init(insnOffset: 0, typeID: 9), .init(insnOffset: 64, typeID: 13)])
    #expect(try btf.type(id: 3).body == .function(prototype: 2, linkage: .global))
    #expect(try btf.type(id: 11).body == .function(prototype: 10, linkage: .static))
    #expect(try btf.name(of: 11) == "clamp_action")
    #expect(ext.lineInfo[".text"]?.first?.lineNumber == 11)
    #expect(ext.lineInfo.values.map(\.count).reduce(0, +) == 21)
  }

  @Test func mapInMapValuesArray() throws {
    let btf = try BTF(bytes: try btfSection("map_in_map", ".BTF"))
    #expect(btf.typeID(named: "inner_map", kind: .struct) == 10)
    // OUTER's values: struct inner_map *values[] (ARRAY of 0 pointers).
    #expect(try btf.type(id: 18).body == .array(.init(elementType: 17, indexType: 4, count: 0)))
    #expect(try btf.resolvedSize(of: 18) == 0)
    #expect(try btf.type(id: 17).body == .pointer(to: 10))
    // JUMP_TABLE's values: int (*values[])(void *).
    #expect(
      try btf.type(id: 24).body
        == .functionPrototype(returnType: 2, parameters: [.init(nameOffset: 0, type: 25)]))
    #expect(try btf.type(id: 25).body == .pointer(to: 0))
  }

  @Test func externLinkage() throws {
    let btf = try BTF(bytes: try btfSection("extern", ".BTF"))
    #expect(try btf.type(id: 10).body == .function(prototype: 8, linkage: .extern))
    #expect(try btf.type(id: 11).body == .variable(type: 6, linkage: .extern))
    #expect(try btf.name(of: 12) == "CONFIG_XDPKIT_MISSING")
    let ksyms = try #require(btf.firstType(named: ".ksyms"))
    #expect(
      ksyms.type.body == .dataSection(size: 0, entries: [.init(type: 10, offset: 0, size: 0)]))
  }

  @Test func externKsymConstVoid() throws {
    let btf = try BTF(bytes: try btfSection("extern_ksym", ".BTF"))
    #expect(try btf.type(id: 9).body == .variable(type: 8, linkage: .extern))
    #expect(try btf.type(id: 8).body == .const(0))
    #expect(try btf.skippingModifiers(8) == 0)
    #expect(throws: BTFError.typeHasNoSize(typeID: 0, kind: .void)) {
      try btf.resolvedSize(of: 9)
    }
    #expect(try btf.resolvedSize(of: 11) == 4)
  }
}

// MARK: - Every kind, hand-made

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

// MARK: - Malformed .BTF

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

// MARK: - .BTF.ext

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

// MARK: - No input traps

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
