import Foundation
import Testing
import XDPKit
@testable import XDPKitGenerator
import XDPKitObject
import XDPKitTestSupport
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
    let committed = try String(contentsOfFile: Self.goldenPath, encoding: .utf8)
    #expect(first == committed, "regenerate with: swift run xdpkit generate <xdp_firewall.o> --access-level internal -o Tests/XDPKitTests/Generated/XDPFirewall.swift")
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
