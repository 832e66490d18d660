import Foundation
import Testing
import XDPKit
@testable import XDPKitGenerator
import XDPKitObject
import XDPKitTestSupport
import XDPKitTypedPrograms
import XDPPrograms

/// `xdpkit generate`: the committed Generated/XDPFirewall.swift is what the generator writes
/// for the firewall today (so it compiles here, in this test target), and it works against
/// the kernel with no string names and no hand-written C mirrors.
@Suite("Typed Swift generated from BTF")
struct GeneratorTests {
  static let goldenPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Generated/XDPFirewall.swift").path

  @Test("the firewall's generated Swift is the committed file, byte for byte, twice")
  func golden() throws {
    let generator = try ObjectGenerator(bytes: XDPPrograms.firewall, fileName: "xdp_firewall.o", accessLevel: .internal)
    let first = try generator.generate()
    #expect(first == (try generator.generate()))
    // The embedded bytes follow every edit of the firewall's C and headers; the declarations
    // are what must not drift.
    func declarations(_ text: String) -> Substring { text.split(separator: "  /// The object file's", maxSplits: 1).first ?? "" }
    let committed = try String(contentsOfFile: Self.goldenPath, encoding: .utf8)
    #expect(declarations(first) == declarations(committed), "regenerate with: swift run xdpkit generate <xdp_firewall.o> --access-level internal -o Tests/XDPKitTests/Generated/XDPFirewall.swift")
  }

  @Test("names: file, snake case, capitals, keywords, digits and collisions")
  func names() {
    #expect(ObjectGenerator.typeName(forFile: "xdp_firewall.c") == "XDPFirewall")
    #expect(ObjectGenerator.typeName(forFile: "/x/y/tc_ipv6_counter.o") == "TCIPV6Counter")
    #expect(ObjectGenerator.typeName(forFile: "load_balancer.bpf.o") == "LoadBalancer")
    #expect(SwiftNames.property("BLOCKLIST") == "blocklist")
    #expect(SwiftNames.property("EVENT_BUDGET") == "eventBudget")
    #expect(SwiftNames.property("xdp_firewall") == "xdpFirewall")
    #expect(SwiftNames.property("default") == "default_")
    #expect(SwiftNames.property("4tuple") == "_4tuple")
    #expect(SwiftNames.type("action_stats") == "ActionStats")
    #expect(SwiftNames.type("Self") == "Self_")
    var scope = NameScope(reserved: ["object"])
    #expect(["object", "stats", "stats", "stats"].map { scope.claim($0) } == ["object2", "stats", "stats2", "stats3"])
  }

  @Test("every generated type has the C size and stride")
  func layouts() {
    #expect(XDPFirewall.layoutMismatches.isEmpty)
    #expect(MemoryLayout<XDPFirewall.ActionStats>.size == 16)
    #expect(MemoryLayout<XDPFirewall.Lpm6Key>.size == 20)
    let config = XDPFirewall.Config()
    #expect(config.eventsEnabled == 0 && config.eventsPerSecond == 100)
  }

  @Test("BPFCompilerPlugin generates the typed API of every object in a target that uses XDPKit", .kernel)
  func plugin() throws {
    #expect(TypedPrograms.names == ["typed_counter", "typed_no_maps"])
    #expect(TypedCounter.MapName.allCases.map(\.rawValue) == ["COUNTERS"])
    #expect(TypedCounter.layoutMismatches.isEmpty)
    #expect(MemoryLayout<TypedCounter.Counter>.size == 16)
    let counter = try TypedCounter.load { $0.verdict = 1 }  // XDP_DROP
    let ingress = UInt32(1)  // test runs arrive on the loopback device
    try counter.counters.insert(TypedCounter.Counter(), forKey: ingress)
    let program = counter.countByIngress.program
    #expect(try program.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1)), repetitions: 2).action == .drop)
    let value = try #require(try counter.counters.value(forKey: ingress))
    #expect(value.packets == 2 && value.flags == 1 && value.lastLength > 0)
    #expect(try counter.totalPackets.value == 2)
    // An object without maps: an empty Maps.
    let empty = try TypedNoMaps.load()
    #expect(empty.maps.all.isEmpty)
    #expect(try empty.passAll.program.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1))).action == .pass)
  }

  @Test("README's quick start, line for line, on a test veth instead of eth1", .kernel)
  func readmeQuickStart() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    try network.withNamespace(.b) {
      let firewall = try XDPFirewall.load { $0.eventsPerSecond = 50 }
      let link = try firewall.xdpFirewall.attach(to: .name(network.interfaceB), mode: .auto)
      try firewall.blocklist.insert(0, forKey: 0xC000_0201)
      _ = try firewall.xdpFirewall.program.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1)))
      let dropped = try firewall.stats.values(at: 1).reduce(0) { $0 + $1.packets }
      #expect(dropped == 1)
      try link.detach()
      #expect(try !XDP.attachment(on: .name(network.interfaceB)).isAttached)
    }
  }

  @Test("load with a config, insert through a typed map, run a packet, read a typed per-CPU struct", .kernel)
  func loadAndRun() throws {
    let firewall = try XDPFirewall.load { $0.eventsPerSecond = 7 }
    try firewall.blocklist.insert(0, forKey: 0xC000_0201)  // 192.0.2.1, host order
    try firewall.cidr4.insert(0, forKey: try IPv4Prefix("198.51.100.0/24"))
    let program = firewall.xdpFirewall.program
    #expect(try program.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1)), repetitions: 3).action == .drop)
    #expect(try program.testRun(packet: Packet.ipv4UDP(source: (198, 51, 100, 9))).action == .drop)
    #expect(try program.testRun(packet: Packet.ipv4UDP(source: (203, 0, 113, 5))).action == .pass)
    #expect(try firewall.stats.values(at: 1).map(\.packets).reduce(0, +) == 4)
    #expect(try firewall.stats.values(at: 2).map(\.packets).reduce(0, +) == 1)
    #expect(try firewall.blocklist.value(forKey: 0xC000_0201) == 3)
    #expect(try firewall.object.global("events_per_second", as: UInt32.self) == 7)
  }
}

/// The generator on every C shape it must lay out (generator_kinds.c): the committed
/// Generated/GeneratorKinds.swift compiles here and agrees with the program in the kernel.
@Suite("Typed Swift for every C shape")
struct GeneratorKindsTests {
  static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../XDPKitObjectTests/Fixtures/generator_kinds.o").standardized.path
  static let goldenPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Generated/GeneratorKinds.swift").path

  @Test("the generated Swift is the committed file, byte for byte")
  func golden() throws {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.fixture)))
    let text = try ObjectGenerator(bytes: bytes, fileName: "generator_kinds.o", accessLevel: .internal).generate()
    #expect(text == (try String(contentsOfFile: Self.goldenPath, encoding: .utf8)),
            "regenerate with: swift run xdpkit generate Tests/XDPKitObjectTests/Fixtures/generator_kinds.o --access-level internal -o Tests/XDPKitTests/Generated/GeneratorKinds.swift")
  }

  @Test("sizes, strides, bitfields, sign extension, unions, packed members, keywords, initial values")
  func layouts() {
    #expect(GeneratorKinds.layoutMismatches.isEmpty)
    #expect(MemoryLayout<GeneratorKinds.Record>.size == 80)
    #expect(MemoryLayout<GeneratorKinds.PackedHeader>.stride == 7)
    #expect(MemoryLayout<GeneratorKinds.Record>.offset(of: \.color) == 56)
    #expect(MemoryLayout<GeneratorKinds.Record>.offset(of: \.tail) == 74)

    var record = GeneratorKinds.Record(low: 5, middle: 100, negative: -5)
    #expect(record.low == 5 && record.middle == 100 && record.negative == -5)
    record.low = 9  // 3 bits keep 1
    #expect(record.low == 1 && record.middle == 100)
    // low (3 bits) | middle (13) << 3 | negative (7, two's complement) << 16, little-endian.
    let word = UInt32(1) | UInt32(100) << 3 | UInt32(0b111_1011) << 16
    let bytes = withUnsafeBytes(of: record) { Array($0[52..<56]) }
    #expect(bytes == [UInt8(word & 0xff), UInt8(word >> 8 & 0xff), UInt8(word >> 16 & 0xff), 0])

    record.asFloat = 1.5
    #expect(record.asInt == Float(1.5).bitPattern && record.anonymous5.asFloat == 1.5)
    var address = GeneratorKinds.Address()
    address.halves = [0x0102_0304_0506_0708, 0]
    #expect(address.v4 == 0x0506_0708 && address.v6[0] == 8)

    let header = GeneratorKinds.PackedHeader(version: 2, length: 0x0102_0304, checksum: 0xBEEF)
    #expect(withUnsafeBytes(of: header) { Array($0) } == [2, 4, 3, 2, 1, 0xEF, 0xBE])
    let keywords = GeneratorKinds.Keywords(default_: 1, in_: 2, self_: 3, protocol_: 4)
    #expect(keywords.self_ == 3 && keywords.protocol_ == 4)
    #expect(GeneratorKinds.Color.blue.rawValue == 40 && GeneratorKinds.WideFlag.high.rawValue == 1 << 32)
    #expect(GeneratorKinds.SignedLevel.minus.rawValue == -3)

    let config = GeneratorKinds.Config()
    #expect(config.multiplier == 3 && config.offsetBy == -2 && config.enabled)
    #expect(config.startLevel == .minus)
    #expect(config.template.port == 80 && config.template.proto == 6 && config.template.count == 9)
  }

  @Test("against the kernel: the program reads and writes the same bytes the Swift types do", .kernel)
  func kernel() throws {
    let kinds = try GeneratorKinds.load { $0.multiplier = 4 }
    var record = GeneratorKinds.Record(
      kind: 1, timestamp: 0xDEAD_BEEF, inner: .init(port: 443, proto: 17, count: 10), low: 5, middle: 100,
      negative: -5, color: .blue, wide: .high, level: 0, tail: 7)
    record.asInt = 1000
    try kinds.records.insert(record, forKey: 0)
    try kinds.headers.set(GeneratorKinds.PackedHeader(version: 2, length: 0x0102_0304, checksum: 0xBEEF), at: 0)
    let run = try kinds.xdpKinds.program.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1)))
    #expect(run.action == .pass)

    let after = try #require(try kinds.records.value(forKey: 0))
    #expect(after.inner.count == 38)  // 10 × 4 − 2
    #expect(after.middle == 101 && after.negative == -6 && after.low == 5)
    #expect(after.asInt == 1005)
    #expect(after.level == -3)  // start_level
    #expect(after.kind == 1 && after.timestamp == 0xDEAD_BEEF && after.color == .blue && after.wide == .high && after.tail == 7)
    #expect(try kinds.seen.value.count == 38 && kinds.seen.value.port == 443)
    #expect(try kinds.headers.value(at: 0).length == 0x0102_0305)
    #expect(try kinds.lastLength.value == 0x0102_0305)
    #expect(try kinds.packets.value == 6)
    try kinds.packets.set(40)
    #expect(try kinds.packets.value == 40)
    // The same variable through its mapping: one memory, seen from both sides.
    let packets = try #require(try kinds.packets.mapped())
    #expect(packets.value == 40 && packets.name == "packets" && packets.isWritable)
    packets.value = 41
    #expect(try kinds.packets.value == 41)
    try kinds.packets.set(42)
    #expect(packets.value == 42)

    try kinds.prefixes.insert(7, forKey: try IPv4Prefix("198.51.100.0/24"))
    #expect(try kinds.prefixes.longestMatch(for: IPv4Address(parsing: "198.51.100.9")) == 7)
    try kinds.colors.insert(.green, forKey: 99)
    #expect(try kinds.colors.value(forKey: 99) == .green)
    let keywords = GeneratorKinds.Keywords(default_: 1, in_: 2, self_: 3, protocol_: 4)
    try kinds.keywords.set(11, forKey: keywords)
    #expect(try kinds.keywords.values(forKey: keywords)?.allSatisfy { $0 == 11 } == true)
  }
}

/// What the generator refuses, with the place named.
@Suite("Generator errors")
struct GeneratorErrorTests {
  @Test("an object without BTF: the generator says it needs BTF")
  func withoutBTF() throws {
    let (result, object) = try BPFClang.compile("""
      __attribute__((section("xdp"), used)) int p(void *ctx) { return 2; }
      char LICENSE[] __attribute__((section("license"), used)) = "GPL";
      """, flags: ["-O2", "-target", "bpf"])  // no -g: no BTF
    let bytes = try #require(object, "\(result.standardError)")
    let generator = try ObjectGenerator(bytes: bytes, fileName: "plain.o")
    #expect(generator.object.btf == nil)
    #expect(throws: GeneratorError.missingBTF) { try generator.generate() }
  }

  @Test("types with no exact Swift form are refused naming the member")
  func unrepresentable() throws {
    var btf = BTF()
    let int = try btf.appendType(BTFType(nameOffset: try btf.appendString("int"), body: .int(.init(size: 4, encoding: .signed, bits: 32))))
    let quad = try btf.appendType(BTFType(nameOffset: try btf.appendString("long double"), body: .float(size: 16)))
    let odd = try btf.appendType(BTFType(body: .int(.init(size: 3, encoding: [], bits: 24))))
    let union = try btf.appendType(BTFType(
      nameOffset: try btf.appendString("u"),
      body: .union(size: 8, members: [.init(nameOffset: try btf.appendString("shifted"), type: int, bitOffset: 8)])))
    let overlapping = try btf.appendType(BTFType(
      nameOffset: try btf.appendString("s"),
      body: .struct(size: 8, members: [
        .init(nameOffset: try btf.appendString("a"), type: int, bitOffset: 0),
        .init(nameOffset: try btf.appendString("b"), type: int, bitOffset: 16),
      ])))
    var emitter = SwiftTypeEmitter(btf: btf, access: "public", reserved: [])
    #expect(throws: GeneratorError.unrepresentable(path: "x", reason: "a 16-byte floating-point type")) {
      _ = try emitter.swiftType(quad, path: "x", suggestedName: "X")
    }
    #expect(throws: GeneratorError.unrepresentable(path: "y", reason: "a 3-byte integer")) {
      _ = try emitter.swiftType(odd, path: "y", suggestedName: "Y")
    }
    #expect(throws: GeneratorError.unrepresentable(path: "v.shifted", reason: "a union member at bit 8")) {
      _ = try emitter.swiftType(union, path: "v", suggestedName: "V")
    }
    #expect(throws: GeneratorError.unrepresentable(path: "w.b", reason: "it overlaps the member before it")) {
      _ = try emitter.swiftType(overlapping, path: "w", suggestedName: "W")
    }
  }
}
