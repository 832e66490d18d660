import Testing
import XDPKit
import XDPKitTestSupport
import XDPPrograms

/// `struct action_stats` of Programs/firewall.h.
struct ActionStats: BitwiseCopyable, Equatable {
  var packets: UInt64
  var bytes: UInt64
}

/// The shipped firewall (Programs/xdp_firewall.c), exercised with test runs: no traffic needed.
@Suite("Shipped programs", .kernel)
struct FirewallProgramTests {
  static let blockedIPv6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x66]

  @Test("xdp_pass from XDPPrograms passes")
  func pass() throws {
    let loaded = try BPFObject(bytes: XDPPrograms.pass).load()
    #expect(try loaded.program("xdp_pass").testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1))).action == .pass)
  }

  @Test("exact IPv4 blocklist: drop, per-entry hits, per-action packets and bytes")
  func exactIPv4() throws {
    let loaded = try BPFObject(bytes: XDPPrograms.firewall).load()
    let program = try loaded.program("xdp_firewall")
    let blocklist = try loaded.hashMap("BLOCKLIST", key: UInt32.self, value: UInt32.self)
    let stats = try loaded.perCPUArray("STATS", value: ActionStats.self)
    let blocked = Packet.ipv4UDP(source: (192, 0, 2, 1))
    let allowed = Packet.ipv4UDP(source: (192, 0, 2, 3))

    try blocklist.insert(0, forKey: 0xC000_0201)
    #expect(try program.testRun(packet: blocked, repetitions: 7).action == .drop)
    #expect(try program.testRun(packet: allowed, repetitions: 3).action == .pass)
    #expect(try blocklist.value(forKey: 0xC000_0201) == 7)
    let dropped = try stats.values(at: 1).reduce(ActionStats(packets: 0, bytes: 0)) {
      ActionStats(packets: $0.packets + $1.packets, bytes: $0.bytes + $1.bytes)
    }
    #expect(dropped == ActionStats(packets: 7, bytes: 7 * UInt64(blocked.count)))
    let passed = try stats.values(at: 2).map(\.packets).reduce(0, +)
    #expect(passed == 3)
  }

  @Test("CIDR blocks: the longest prefix decides, per-prefix hits")
  func prefixes() throws {
    let loaded = try BPFObject(bytes: XDPPrograms.firewall).load()
    let program = try loaded.program("xdp_firewall")
    let cidr4 = try loaded.lpmTrie("CIDR4", key: IPv4Address.self, value: UInt64.self)
    try cidr4.insert(0, forKey: try IPv4Prefix("198.51.100.0/24"))
    #expect(try program.testRun(packet: Packet.ipv4UDP(source: (198, 51, 100, 77)), repetitions: 2).action == .drop)
    #expect(try program.testRun(packet: Packet.ipv4UDP(source: (198, 51, 101, 77))).action == .pass)
    #expect(try cidr4.value(forKey: try IPv4Prefix("198.51.100.0/24")) == 2)
  }

  @Test("IPv6: exact and prefix blocks")
  func ipv6() throws {
    let loaded = try BPFObject(bytes: XDPPrograms.firewall).load()
    let program = try loaded.program("xdp_firewall")
    let exact = try loaded.hashMap("BLOCKLIST6", key: IPv6Address.self, value: UInt64.self)
    let cidr6 = try loaded.lpmTrie("CIDR6", key: IPv6Address.self, value: UInt64.self)
    try exact.insert(0, forKey: try #require(IPv6Address(bytes: Self.blockedIPv6)))
    try cidr6.insert(0, forKey: try IPv6Prefix("2001:db8:aaaa::/48"))
    let inPrefix: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0xaa, 0xaa] + [UInt8](repeating: 0, count: 9) + [9]
    let allowed: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
    #expect(try program.testRun(packet: Packet.ipv6UDP(source: Self.blockedIPv6)).action == .drop)
    #expect(try program.testRun(packet: Packet.ipv6UDP(source: inPrefix)).action == .drop)
    #expect(try program.testRun(packet: Packet.ipv6UDP(source: allowed)).action == .pass)
    #expect(try exact.value(forKey: try #require(IPv6Address(bytes: Self.blockedIPv6))) == 1)
  }

  @Test("one VLAN tag (802.1Q and 802.1ad) is parsed")
  func vlan() throws {
    let loaded = try BPFObject(bytes: XDPPrograms.firewall).load()
    let program = try loaded.program("xdp_firewall")
    try loaded.hashMap("BLOCKLIST", key: UInt32.self, value: UInt32.self).insert(0, forKey: 0xC000_0201)
    try loaded.hashMap("BLOCKLIST6", key: IPv6Address.self, value: UInt64.self)
      .insert(0, forKey: try #require(IPv6Address(bytes: Self.blockedIPv6)))
    #expect(try program.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1), vlan: 42)).action == .drop)
    #expect(try program.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 3), vlan: 42)).action == .pass)
    #expect(try program.testRun(packet: Packet.ipv6UDP(source: Self.blockedIPv6, vlan: 7, vlanType: 0x88a8)).action == .drop)
  }

  @Test("truncated and non-IP frames pass and are counted")
  func malformedFrames() throws {
    let loaded = try BPFObject(bytes: XDPPrograms.firewall).load()
    let program = try loaded.program("xdp_firewall")
    try loaded.hashMap("BLOCKLIST", key: UInt32.self, value: UInt32.self).insert(0, forKey: 0xC000_0201)
    let full = Packet.ipv4UDP(source: (192, 0, 2, 1))
    // Cut inside the IPv4 header: the source address is not there, so nothing to match.
    #expect(try program.testRun(packet: Array(full.prefix(14 + 10))).action == .pass)
    // An ARP frame.
    var arp = Array(full.prefix(42))
    arp[12] = 0x08; arp[13] = 0x06
    #expect(try program.testRun(packet: arp).action == .pass)
    // A VLAN tag cut short.
    #expect(try program.testRun(packet: Array(Packet.ipv4UDP(source: (192, 0, 2, 1), vlan: 1).prefix(16))).action == .pass)
    let stats = try loaded.perCPUArray("STATS", value: ActionStats.self)
    #expect(try stats.values(at: 2).map(\.packets).reduce(0, +) == 3)
  }
}
