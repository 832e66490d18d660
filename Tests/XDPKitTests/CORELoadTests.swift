import Foundation
import Testing
import XDPKit
import XDPKitTestSupport

/// What the running kernel's BTF says, read with the package's own BTF reader (not through
/// the CO-RE engine), for the expectations of core_kinds.o.
struct KernelFacts {
  let btf: BTF

  init() throws { btf = try KernelBTF.parse(path: KernelBTF.vmlinuxPath).btf }

  func structure(_ name: String) throws -> (id: BTFTypeID, type: BTFType) {
    try #require(btf.firstType(named: name, kind: .struct))
  }

  /// The member `name` of struct `type`, looking into anonymous members, with its bit offset
  /// from the start of the struct.
  func member(_ name: String, of type: BTFTypeID) throws -> (member: BTFType.Member, bitOffset: Int)? {
    try find(name, in: type)
  }

  private func find(_ name: String, in type: BTFTypeID) throws -> (member: BTFType.Member, bitOffset: Int)? {
    let members: [BTFType.Member]
    switch btf.types[Int(try btf.skippingModifiers(type))].body {
    case .struct(_, let m), .union(_, let m): members = m
    default: return nil
    }
    for member in members {
      if member.name == name { return (member, Int(member.bitOffset)) }
      if member.name == nil || member.name == "", let inner = try find(name, in: member.type) {
        return (inner.member, Int(member.bitOffset) + inner.bitOffset)
      }
    }
    return nil
  }

  func enumerator(_ name: String, in enumName: String) throws -> Int64? {
    let type = try #require(btf.firstType(named: enumName, kind: .enum)).type
    guard case .enum(_, let values) = type.body else { return nil }
    return values.first { $0.name == name }.map { Int64($0.value) }
  }
}

@Suite("CO-RE against the running kernel's BTF", .kernel)
struct CORELoadTests {
  static let loadable = [
    "core_field_offset", "core_field_size", "core_field_exists", "core_field_signed",
    "core_field_lshift", "core_field_rshift", "core_type_id_local", "core_type_id_target",
    "core_type_exists", "core_type_size", "core_enum_exists", "core_enum_value",
    "core_type_matches", "core_ctx", "core_missing_dead",
  ]

  @Test("each relocation kind computes what the kernel's BTF implies")
  func everyKind() throws {
    let object = try TestFixtures.object("core_kinds")
    let loaded = try object.load(options: LoadOptions(programs: Set(Self.loadable)))
    defer { loaded.close() }
    let packet = Packet.ipv4UDP(source: (192, 0, 2, 1))
    for name in Self.loadable {
      #expect(try loaded.program(name).testRun(packet: packet).action == .pass, "\(name)")
    }
    let results = try loaded.arrayMap("RESULTS", value: UInt64.self)
    let kernel = try KernelFacts()

    let task = try kernel.structure("task_struct")
    let tgid = try #require(try kernel.member("tgid", of: task.id))
    let comm = try #require(try kernel.member("comm", of: task.id))
    let pid = try #require(try kernel.member("pid", of: task.id))
    #expect(try results.value(at: 0) == UInt64(tgid.bitOffset / 8))
    #expect(try results.value(at: 0) != 8, "clang's local offset")
    #expect(try results.value(at: 1) == UInt64(try kernel.btf.resolvedSize(of: comm.member.type)))
    #expect(try results.value(at: 2) == 1)
    let pidType = try kernel.btf.type(id: try kernel.btf.skippingModifiers(pid.member.type))
    #expect(try results.value(at: 3) == (pidType.isSigned ? 1 : 0))

    let skb = try kernel.structure("sk_buff")
    let pktType = try #require(try kernel.member("pkt_type", of: skb.id))
    let bits = Int(pktType.member.bitfieldSize)
    #expect(bits == 3)
    let loadStart = pktType.bitOffset / 8   // a one-byte (__u8) load that holds the 3 bits
    #expect(pktType.bitOffset % 8 + bits <= 8)
    #expect(try results.value(at: 4) == UInt64(64 - (pktType.bitOffset + bits - loadStart * 8)))
    #expect(try results.value(at: 5) == UInt64(64 - bits))

    #expect(try results.value(at: 6) == UInt64(try #require(object.btf?.typeID(named: "task_struct"))))
    #expect(try results.value(at: 7) == UInt64(task.id))
    #expect(try results.value(at: 8) == 1)
    #expect(try results.value(at: 9) == UInt64(try kernel.btf.resolvedSize(of: task.id)))
    #expect(try kernel.enumerator("XDPKIT_MISSING", in: "xdp_action") == nil)
    #expect(try results.value(at: 10) == 0)
    let redirect = try #require(try kernel.enumerator("XDP_REDIRECT", in: "xdp_action"))
    #expect(try results.value(at: 11) == UInt64(redirect))
    #expect(try results.value(at: 11) != 40, "clang's local value")
    #expect(try results.value(at: 12) == 0)
    // core_ctx read data/data_end through a layout with the two swapped and data 64-bit: only
    // with the kernel's offsets (and a 4-byte load) does it reach the packet's first byte.
    #expect(try results.value(at: 13) == UInt64(packet[0]))
    // The poisoned offset is dead code: the program loads and takes the other branch.
    #expect(try results.value(at: 14) == 7)
  }

  @Test("an unresolvable relocation in live code is refused, naming the relocation")
  func unresolvedLive() throws {
    let object = try TestFixtures.object("core_kinds")
    var failure: CORERelocationFailure?
    #expect {
      try object.load(options: LoadOptions(programs: ["core_missing_live"]))
    } throws: { error in
      guard case LoadError.coreRelocation(let f) = error else { return false }
      failure = f
      return true
    }
    let f = try #require(failure)
    #expect(f.program == "core_missing_live")
    #expect(f.number == 17)
    #expect(f.instruction == 0)
    #expect(f.kind == .fieldByteOffset)
    #expect(f.path == "xdpkit_missing___local.field")
    #expect(f.reason == .unresolved("no matching type in kernel BTF"))
    #expect(f.verifierLog?.contains("unknown#195896080") == true)
    #expect("\(LoadError.coreRelocation(f))".contains(
      "CO-RE relocation #17 (field byte offset of xdpkit_missing___local.field, access 0:0) in program \"core_missing_live\" at instruction 0: no matching type in kernel BTF"))
  }

  @Test("LoadOptions.kernelBTFPath resolves against another BTF file")
  func customKernelBTF() throws {
    var btf = BTF()
    let int = try btf.appendType(BTFType(nameOffset: try btf.appendString("int"),
                                         body: .int(.init(size: 4, encoding: .signed, bits: 32))))
    _ = try btf.appendType(BTFType(nameOffset: try btf.appendString("task_struct"), body: .struct(size: 24, members: [
      .init(nameOffset: try btf.appendString("pid"), type: int, bitOffset: 0),
      .init(nameOffset: try btf.appendString("tgid"), type: int, bitOffset: 160),
    ])))
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("xdpkit-core-\(getpid()).btf").path
    try Data(btf.encoded()).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }

    let object = try TestFixtures.object("core_kinds")
    let loaded = try object.load(options: LoadOptions(programs: ["core_field_offset"], kernelBTFPath: path))
    defer { loaded.close() }
    _ = try loaded.program("core_field_offset").testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1)))
    #expect(try loaded.arrayMap("RESULTS", value: UInt64.self).value(at: 0) == 20)

    #expect {
      try object.load(options: LoadOptions(programs: ["core_field_offset"], kernelBTFPath: path + ".missing"))
    } throws: { error in
      guard case LoadError.kernelBTF(let program, .read(.noSuchFile(let missing))) = error else { return false }
      return program == "core_field_offset" && missing == path + ".missing"
    }
  }

  @Test("a type missing from the kernel BTF is looked up in module split BTF")
  func moduleBTF() throws {
    var base = BTF()
    let int = try base.appendType(BTFType(nameOffset: try base.appendString("int"),
                                          body: .int(.init(size: 4, encoding: .signed, bits: 32))))
    let split = Self.moduleBTF(base: base, int: int, fieldBitOffset: 32)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("xdpkit-modules-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let basePath = directory.appendingPathComponent("vmlinux").path
    try Data(base.encoded()).write(to: URL(fileURLWithPath: basePath))
    try Data(split).write(to: directory.appendingPathComponent("xdpkit_mod"))

    let object = try TestFixtures.object("core_kinds")
    // Without modules the field is unresolvable and live: refused.
    #expect(throws: LoadError.self) {
      try object.load(options: LoadOptions(programs: ["core_missing_live"], kernelBTFPath: basePath))
    }
    let loaded = try object.load(options: LoadOptions(
      programs: ["core_missing_live", "core_missing_dead"], kernelBTFPath: basePath,
      kernelModuleBTFDirectory: directory.path))
    defer { loaded.close() }
    let packet = Packet.ipv4UDP(source: (192, 0, 2, 1))
    _ = try loaded.program("core_missing_live").testRun(packet: packet)
    _ = try loaded.program("core_missing_dead").testRun(packet: packet)
    let results = try loaded.arrayMap("RESULTS", value: UInt64.self)
    #expect(try results.value(at: 15) == 4)
    #expect(try results.value(at: 14) == 4, "the existence check now finds the field")
  }

  @Test("two modules that resolve a relocation differently make it ambiguous")
  func moduleAmbiguity() throws {
    var base = BTF()
    let int = try base.appendType(BTFType(nameOffset: try base.appendString("int"),
                                          body: .int(.init(size: 4, encoding: .signed, bits: 32))))
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("xdpkit-modules2-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let basePath = directory.appendingPathComponent("vmlinux").path
    try Data(base.encoded()).write(to: URL(fileURLWithPath: basePath))
    try Data(Self.moduleBTF(base: base, int: int, fieldBitOffset: 32)).write(to: directory.appendingPathComponent("a_mod"))
    try Data(Self.moduleBTF(base: base, int: int, fieldBitOffset: 0)).write(to: directory.appendingPathComponent("b_mod"))
    let object = try TestFixtures.object("core_kinds")
    #expect {
      try object.load(options: LoadOptions(programs: ["core_missing_live"], kernelBTFPath: basePath,
                                           kernelModuleBTFDirectory: directory.path))
    } throws: { error in
      guard case LoadError.coreRelocation(let f) = error, case .ambiguous(_, let values) = f.reason else { return false }
      return f.number == 17 && values == [4, 0]
    }
  }

  /// A module's split BTF on top of `base`: struct xdpkit_missing { int pad; int field; } with
  /// `field` at `fieldBitOffset`, its names in its own string table (offsets continue after
  /// the base's), its type ids after the base's.
  static func moduleBTF(base: BTF, int: BTFTypeID, fieldBitOffset: UInt32) -> [UInt8] {
    let names = Array("xdpkit_missing\u{0}pad\u{0}field\u{0}".utf8)
    let first = UInt32(base.strings.count)
    let words: [UInt32] = [first, 4 << 24 | 2, 8, first + 15, int, 0, first + 19, int, fieldBitOffset]
    let typeBytes = words.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } }
    let header: [UInt32] = [0x0001_EB9F, 24, 0, UInt32(typeBytes.count), UInt32(typeBytes.count), UInt32(names.count)]
    return header.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } } + typeBytes + names
  }

  @Test("objects without CO-RE relocations load without reading kernel BTF")
  func noCORE() throws {
    let loaded = try TestFixtures.object("xdp_pass").load(options: LoadOptions(kernelBTFPath: "/nonexistent"))
    loaded.close()
  }
}
