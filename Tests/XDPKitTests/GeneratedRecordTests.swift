import Foundation
import Testing
import XDPKit
@testable import XDPKitGenerator
import XDPKitObject
import XDPKitTestSupport

/// Record types (`__records` in xdpkit_bpf.h, `xdpkit generate --type`) and their decoding:
/// the committed Generated/GeneratorRecords.swift is what the generator writes for
/// generator_records.o with `--type "struct hidden_config"`, and it compiles here.
@Suite("Generated record types")
struct GeneratedRecordTests {
  static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../XDPKitObjectTests/Fixtures/generator_records.o").standardized.path
  static let goldenPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Generated/GeneratorRecords.swift").path

  static func generator(types: [String] = []) throws -> ObjectGenerator {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture)))
    var generator = try ObjectGenerator(bytes: bytes, fileName: "generator_records.o", accessLevel: .internal)
    generator.extraTypes = types
    return generator
  }

  @Test("the generated Swift with --type is the committed file, byte for byte")
  func golden() throws {
    let text = try Self.generator(types: ["struct hidden_config"]).generate()
    #expect(text == (try String(contentsOfFile: Self.goldenPath, encoding: .utf8)),
            "regenerate with: swift run xdpkit generate Tests/XDPKitObjectTests/Fixtures/generator_records.o --access-level internal --type \"struct hidden_config\" -o Tests/XDPKitTests/Generated/GeneratorRecords.swift")
  }

  @Test("__records declares each map's record type; --type adds one only a prototype reaches")
  func recordsAndExtraTypes() throws {
    let plain = try Self.generator().generate()
    #expect(plain.contains("internal struct Sample: GeneratedRecord {"))
    #expect(plain.contains("internal struct PerfSample: GeneratedRecord {"))
    #expect(plain.contains("internal struct SampleKind: RawRepresentable"))
    #expect(!plain.contains("HiddenConfig"))
    // A bare name finds the struct too, and gives the same text as `struct NAME`.
    #expect(try Self.generator(types: ["hidden_config"]).generate() == (try Self.generator(types: ["struct hidden_config"]).generate()))
    #expect(throws: GeneratorError.noSuchType("nosuch")) { try Self.generator(types: ["nosuch"]).generate() }
    #expect(throws: GeneratorError.noSuchType("union hidden_config")) {
      try Self.generator(types: ["union hidden_config"]).generate()
    }
    #expect(GeneratorError.noSuchType("nosuch").description == "no struct, union, enum or typedef nosuch in the object's BTF")
  }

  @Test("xdpkit generate --type writes the same file; an unknown type is an error that names it")
  func command() throws {
    let tool = try PrivilegeTests.toolPath()
    let result = try Command.run(tool, [
      "generate", Self.fixture, "--access-level", "internal", "--type", "struct hidden_config",
    ])
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardOutput == (try String(contentsOfFile: Self.goldenPath, encoding: .utf8)))
    let unknown = try Command.run(tool, ["generate", Self.fixture, "--type", "nosuch"])
    #expect(unknown.status == 1)
    #expect(unknown.standardError.contains("cannot generate Swift: no struct, union, enum or typedef nosuch in the object's BTF"))
  }

  @Test("a record decodes from its bytes; a short one is refused")
  func decode() throws {
    #expect(GeneratorRecords.layoutMismatches.isEmpty)
    #expect(MemoryLayout<GeneratorRecords.Sample>.size == 16 && MemoryLayout<GeneratorRecords.HiddenConfig>.size == 4)
    var bytes: [UInt8] = [42, 0, 0, 0, 0, 0, 0, 0, 2, 0x5a, 0, 0, 60, 0, 0, 0]
    let sample = try #require(GeneratorRecords.Sample(bytes: bytes))
    #expect(sample.sequence == 42 && sample.kind == .second && sample.flags == 0x5a && sample.length == 60)
    #expect(GeneratorRecords.Sample(bytes: bytes.prefix(15)) == nil)
    bytes += [9, 9]  // longer than the record: the extra bytes are ignored
    #expect(GeneratorRecords.Sample(bytes: bytes)?.length == 60)
    let empty = bytes.withUnsafeBytes { GeneratorRecords.Sample(bytes: UnsafeRawBufferPointer(rebasing: $0[0..<0])) }
    #expect(empty == nil)

    // The firewall's drop event, named by __records on EVENTS.
    #expect(MemoryLayout<XDPFirewall.DropEvent>.size == 32)
    #expect(MemoryLayout<XDPFirewall.DropEvent>.offset(of: \.packetLength) == 12)
    let event = try #require(XDPFirewall.DropEvent(bytes: [UInt8](repeating: 0, count: 8) + [4, 1, 3, 1, 74, 0, 0, 0] + [192, 0, 2, 1] + [UInt8](repeating: 0, count: 12)))
    #expect(event.family == 4 && event.action == .drop && event.reason == .prefix4 && event.vlanTagged && event.packetLength == 74)
  }

  @Test("against the kernel: the program's ring-buffer records decode as the generated type", .kernel)
  func kernelRecords() throws {
    let records = try GeneratorRecords.load()
    let packet = Packet.ipv4UDP(source: (192, 0, 2, 1))
    #expect(try records.xdpRecords.program.testRun(packet: packet).action == .pass)
    var samples: [GeneratorRecords.Sample] = []
    let counts = try records.samples.poll(as: GeneratorRecords.Sample.self, timeout: .seconds(1)) { samples.append($0) }
    #expect(counts == RecordCounts(decoded: 1, refused: 1))
    let sample = try #require(samples.first)
    #expect(sample.sequence == 42 && sample.kind == .second && sample.flags == 0x5a && sample.length == UInt32(packet.count))
    #expect(records.samples.drain(as: GeneratorRecords.Sample.self) { _ in } == RecordCounts())
  }

  @Test("against the kernel: the firewall's drop event through the generated DropEvent", .kernel)
  func kernelDropEvent() throws {
    let firewall = try XDPFirewall.load { $0.eventsEnabled = 1 }
    try firewall.blocklist.insert(0, forKey: 0xC000_0201)
    let packet = Packet.ipv4UDP(source: (192, 0, 2, 1), vlan: 5)
    #expect(try firewall.xdpFirewall.program.testRun(packet: packet).action == .drop)
    var events: [XDPFirewall.DropEvent] = []
    #expect(try firewall.events.poll(as: XDPFirewall.DropEvent.self, timeout: .seconds(1)) { events.append($0) } == RecordCounts(decoded: 1))
    let event = try #require(events.first)
    #expect(event.family == 4 && event.action == .drop && event.reason == .exact4 && event.vlanTagged)
    #expect(event.packetLength == UInt32(packet.count) && event.timestampNs > 0)
    #expect(withUnsafeBytes(of: event.addr) { Array($0.prefix(4)) } == [192, 0, 2, 1])
  }
}

/// `Maps(opening:)`: typed views of maps the caller opens (from pins), checked against the
/// object's definitions.
@Suite("Generated typed maps over pins")
struct GeneratedMapsTests {
  @Test("pinned maps reopen as typed views that share the program's maps", .kernel)
  func pinned() throws {
    let directory = try TemporaryPinDirectory()
    let firewall = try XDPFirewall.load()
    for (name, map) in firewall.maps.all { try map.pin(at: directory.pinPath(name)) }
    #expect(firewall.maps.all.map(\.name) == XDPFirewall.MapName.allCases.map(\.rawValue))
    #expect(XDPFirewall.MapName.allCases.map(\.rawValue) == ["BLOCKLIST", "BLOCKLIST6", "CIDR4", "CIDR6", "EVENTS", "EVENT_BUDGET", "STATS"])

    var opened: [String] = []
    let pinned = try XDPFirewall.Maps { name in
      opened.append(name)
      return try BPFMap.open(pinnedAt: directory.pinPath(name))
    }
    #expect(opened == XDPFirewall.MapName.allCases.map(\.rawValue))
    try pinned.blocklist.insert(3, forKey: 0xC000_0201)
    #expect(try firewall.blocklist.value(forKey: 0xC000_0201) == 3)
    #expect(try firewall.xdpFirewall.program.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1))).action == .drop)
    #expect(try pinned.stats.values(at: 1).map(\.packets).reduce(0, +) == 1)
    #expect(try pinned.events.map.id == firewall.events.map.id)
  }

  @Test("a map that differs from the definition is refused, naming it and what differs", .kernel)
  func mismatches() throws {
    // LoadOptions.maxEntries changes a capacity: the loaded object's own views accept it, maps
    // opened by name do not.
    let small = try XDPFirewall.load(options: LoadOptions(maxEntries: ["BLOCKLIST": 1024]))
    #expect(small.blocklist.map.maxEntries == 1024)
    #expect(throws: GeneratedMapError.mismatch(map: "BLOCKLIST", property: .maxEntries, expected: 131072, actual: 1024)) {
      try XDPFirewall.Maps { try small.object.map($0) }
    }
    let firewall = try XDPFirewall.load()
    #expect(throws: GeneratedMapError.mismatch(map: "BLOCKLIST", property: .type, expected: 1, actual: 6)) {
      try XDPFirewall.Maps { _ in try firewall.object.map("STATS") }
    }
    #expect(throws: GeneratedMapError.mismatch(map: "BLOCKLIST6", property: .keySize, expected: 16, actual: 4)) {
      try XDPFirewall.Maps { try firewall.object.map($0 == "BLOCKLIST6" ? "BLOCKLIST" : $0) }
    }
    let stats = try firewall.object.map("STATS")
    let narrower = GeneratedMapDefinition(name: "STATS", type: .perCPUArray, keySize: 4, valueSize: 8, maxEntries: 5)
    #expect(throws: GeneratedMapError.mismatch(map: "STATS", property: .valueSize, expected: 8, actual: 16)) {
      try narrower.check(stats)
    }
    #expect(try XDPFirewall.MapName.stats.definition.check(stats) === stats)
    // What `open` throws passes through unchanged.
    struct Refused: Error, Equatable { var name: String }
    #expect(throws: Refused(name: "CIDR4")) {
      try XDPFirewall.Maps { name in
        if name == "CIDR4" { throw Refused(name: name) }
        return try firewall.object.map(name)
      }
    }
    #expect(GeneratedMapError.mismatch(map: "BLOCKLIST", property: .maxEntries, expected: 131072, actual: 1024).description
      == "map BLOCKLIST: max entries is 1024, the object defines 131072")
    #expect(GeneratedMapError.mismatch(map: "BLOCKLIST", property: .type, expected: 1, actual: 6).description
      == "map BLOCKLIST: type is BPF_MAP_TYPE_PERCPU_ARRAY, the object defines BPF_MAP_TYPE_HASH")
  }
}
