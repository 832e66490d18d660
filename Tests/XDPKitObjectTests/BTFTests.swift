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
