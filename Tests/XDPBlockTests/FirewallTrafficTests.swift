import Foundation
import Testing
import XDPBlockCore
import XDPKit
import XDPKitTestSupport

/// The firewall's control logic against the real program, with real packets between two
/// network namespaces. The firewall is attached to side B's veth end (inside B's namespace);
/// A sends. A's IPv6 is off for the IPv4 tests, so that every packet B's firewall counts is
/// one the test sent and the counters can be checked exactly.
@Suite("xdp-block firewall on real traffic", .kernel, .serialized)
struct FirewallTrafficTests {
  /// Bytes of one test datagram as the program counts them: Ethernet 14 + IPv4 20 + UDP 8 +
  /// 32 bytes of payload.
  static let ipv4FrameBytes: UInt64 = 14 + 20 + 8 + 32

  /// A network with a second sender address 192.0.2.3 on A, IPv6 off on A, and the firewall
  /// attached to B.
  static func setUp(ipv6: Bool = false, configuration: FirewallConfiguration = FirewallConfiguration())
    throws -> (TestNetwork, LoadedFirewall, XDPLink)
  {
    let network = try TestNetwork()
    try network.addAddress("192.0.2.3/24", on: .a)
    if !ipv6 { try network.disableIPv6(on: .a) }
    let firewall = try LoadedFirewall(configuration: configuration)
    let link = try firewall.attach(to: network.interfaceB, namespace: network.namespaceB, mode: .auto)
    return (network, firewall, link)
  }

  @Test("a blocked IPv4 source is dropped, an allowed one passes: exact counts")
  func blockedAndAllowed() throws {
    let (network, firewall, link) = try Self.setUp()
    defer { try? link.detach(); network.destroy() }
    #expect(try network.xdpState(.b).programID == firewall.programID)
    #expect(try firewall.maps.add(BlockEntry(parsing: "192.0.2.1")))

    let receiver = try network.countingReceiver(in: .b, port: 7001, address: network.ipv4B)
    #expect(try network.sendUDP(from: .a, to: network.ipv4B, count: 50, port: 7001, source: "192.0.2.1") == 50)
    #expect(receiver.count() == 0)
    #expect(try network.sendUDP(from: .a, to: network.ipv4B, count: 40, port: 7001, source: "192.0.2.3") == 40)
    #expect(receiver.count() == 40)

    let stats = try firewall.maps.statistics()
    #expect(stats.dropped == ActionStats(packets: 50, bytes: 50 * Self.ipv4FrameBytes))
    #expect(stats.passed == ActionStats(packets: 40, bytes: 40 * Self.ipv4FrameBytes))
    #expect(stats.aborted == .zero)
    #expect(try firewall.maps.entries() == [BlockedEntry(entry: try BlockEntry(parsing: "192.0.2.1"), hits: 50)])
  }

  @Test("a CIDR prefix blocks every source inside it and nothing outside")
  func prefixBlock() throws {
    let (network, firewall, link) = try Self.setUp()
    defer { try? link.detach(); network.destroy() }
    // 192.0.2.0/31 holds 192.0.2.1 but not 192.0.2.3.
    let prefix = try BlockEntry(parsing: "192.0.2.0/31")
    #expect(try firewall.maps.add(prefix))
    #expect(try firewall.maps.add(BlockEntry(parsing: "198.51.100.0/24")))

    let receiver = try network.countingReceiver(in: .b, port: 7002, address: network.ipv4B)
    try network.sendUDP(from: .a, to: network.ipv4B, count: 30, port: 7002, source: "192.0.2.1")
    #expect(receiver.count() == 0)
    try network.sendUDP(from: .a, to: network.ipv4B, count: 20, port: 7002, source: "192.0.2.3")
    #expect(receiver.count() == 20)

    let stats = try firewall.maps.statistics()
    #expect(stats.dropped.packets == 30)
    #expect(stats.passed.packets == 20)
    #expect(try firewall.maps.hits(of: prefix) == 30)
    #expect(try firewall.maps.hits(of: BlockEntry(parsing: "198.51.100.0/24")) == 0)
  }

  @Test("IPv6: an exact address and a prefix are dropped, other sources pass")
  func ipv6() throws {
    let (network, firewall, link) = try Self.setUp(ipv6: true)
    defer { try? link.detach(); network.destroy() }
    try network.addAddress("2001:db8::3/64", on: .a)
    try network.addAddress("2001:db8::1:5/64", on: .a)
    let exact = try BlockEntry(parsing: "2001:db8::1")
    let prefix = try BlockEntry(parsing: "2001:db8::1:0/112")
    #expect(try firewall.maps.add(exact))
    #expect(try firewall.maps.add(prefix))

    let receiver = try network.countingReceiver(in: .b, port: 7003, address: network.ipv6B)
    try network.sendUDP(from: .a, to: network.ipv6B, count: 25, port: 7003, source: "2001:db8::1")
    try network.sendUDP(from: .a, to: network.ipv6B, count: 15, port: 7003, source: "2001:db8::1:5")
    #expect(receiver.count() == 0)
    try network.sendUDP(from: .a, to: network.ipv6B, count: 35, port: 7003, source: "2001:db8::3")
    #expect(receiver.count() == 35)

    let stats = try firewall.maps.statistics()
    #expect(stats.dropped.packets == 40)
    #expect(stats.dropped.bytes == 40 * (14 + 40 + 8 + 32))
    // A's IPv6 stack may add neighbour discovery or MLD packets to the passed ones.
    #expect(stats.passed.packets >= 35)
    #expect(try firewall.maps.hits(of: exact) == 25)
    #expect(try firewall.maps.hits(of: prefix) == 15)
  }

  @Test("entries added and removed at runtime take effect for the next packet")
  func runtimeChanges() throws {
    let (network, firewall, link) = try Self.setUp()
    defer { try? link.detach(); network.destroy() }
    let entry = try BlockEntry(parsing: "192.0.2.1")
    let receiver = try network.countingReceiver(in: .b, port: 7004, address: network.ipv4B)

    try network.sendUDP(from: .a, to: network.ipv4B, count: 20, port: 7004, source: "192.0.2.1")
    #expect(receiver.count() == 20)
    #expect(try firewall.maps.add(entry))
    #expect(try !firewall.maps.add(entry))  // already there: unchanged
    try network.sendUDP(from: .a, to: network.ipv4B, count: 20, port: 7004, source: "192.0.2.1")
    #expect(receiver.count() == 20)
    #expect(try firewall.maps.remove(entry))
    #expect(try !firewall.maps.remove(entry))
    try network.sendUDP(from: .a, to: network.ipv4B, count: 20, port: 7004, source: "192.0.2.1")
    #expect(receiver.count() == 40)

    let stats = try firewall.maps.statistics()
    #expect(stats.dropped.packets == 20)
    #expect(stats.passed.packets == 40)
  }

  @Test("drop events arrive through the ring buffer with source, reason and length")
  func events() throws {
    let (network, firewall, link) = try Self.setUp(configuration: FirewallConfiguration(eventsEnabled: true, eventsPerSecond: 1000))
    defer { try? link.detach(); network.destroy() }
    try firewall.maps.add(BlockEntry(parsing: "192.0.2.1"))
    try firewall.maps.add(BlockEntry(parsing: "192.0.2.2/31"))
    try network.sendUDP(from: .a, to: network.ipv4B, count: 10, port: 7005, source: "192.0.2.1")
    try network.sendUDP(from: .a, to: network.ipv4B, count: 10, port: 7005, source: "192.0.2.3")
    var events: [DropEvent] = []
    try EventReader.follow(firewall.maps.events, duration: .milliseconds(500), shouldStop: { events.count >= 20 }) {
      events.append($0)
    }
    #expect(events.count == 20)
    #expect(events.filter { $0.description == "SRC: 192.0.2.1, ACTION: 1 (drop), REASON: exact" }.count == 10)
    #expect(events.filter { $0.description == "SRC: 192.0.2.3, ACTION: 1 (drop), REASON: prefix" }.count == 10)
    #expect(events.allSatisfy { $0.packetLength == UInt32(Self.ipv4FrameBytes) && !$0.vlanTagged })
  }

  @Test("VLAN-tagged frames are parsed: the source inside an 802.1Q or 802.1ad tag is matched")
  func vlanFrames() throws {
    let firewall = try LoadedFirewall(configuration: FirewallConfiguration(eventsEnabled: true))
    defer { firewall.loaded.close() }
    try firewall.maps.add(BlockEntry(parsing: "192.0.2.1"))
    try firewall.maps.add(BlockEntry(parsing: "2001:db8::/48"))
    let program = firewall.program.program

    let dot1q = (tpid: UInt16(0x8100), id: UInt16(100))
    let dot1ad = (tpid: UInt16(0x88a8), id: UInt16(7))
    #expect(try program.testRun(packet: Frame.ipv4UDP(from: "192.0.2.1", vlan: dot1q)).action == .drop)
    #expect(try program.testRun(packet: Frame.ipv4UDP(from: "192.0.2.1", vlan: dot1ad)).action == .drop)
    #expect(try program.testRun(packet: Frame.ipv4UDP(from: "192.0.2.3", vlan: dot1q)).action == .pass)
    #expect(try program.testRun(packet: Frame.ipv6UDP(from: "2001:db8::9", vlan: dot1q)).action == .drop)
    #expect(try program.testRun(packet: Frame.ipv6UDP(from: "2001:db8:1::9", vlan: dot1q)).action == .pass)
    #expect(try program.testRun(packet: Frame.ipv4UDP(from: "192.0.2.1")).action == .drop)
    // A tag with nothing after it is passed, not misread.
    #expect(try program.testRun(packet: Array(Frame.ipv4UDP(from: "192.0.2.1", vlan: dot1q).prefix(18))).action == .pass)

    let stats = try firewall.maps.statistics()
    #expect(stats.dropped.packets == 4)
    #expect(stats.passed.packets == 3)
    var events: [DropEvent] = []
    try EventReader.follow(firewall.maps.events, duration: .milliseconds(200), shouldStop: { events.count >= 4 }) {
      events.append($0)
    }
    #expect(events.map(\.vlanTagged) == [true, true, true, false])
    #expect(events.map(\.source) == ["192.0.2.1", "192.0.2.1", "2001:db8::9", "192.0.2.1"])
    #expect(events[2].description == "SRC: 2001:db8::9, ACTION: 1 (drop), REASON: prefix, VLAN")
  }

  @Test("a full blocklist is reported as such, for addresses and for prefixes")
  func fullBlocklist() throws {
    let firewall = try LoadedFirewall()
    defer { firewall.loaded.close() }
    // Fill the IPv6 maps directly, with keys from 2001:db8::/32 only, then add one more
    // through the tool's path.
    let capacity = firewall.maps.blocklist6.map.maxEntries
    #expect(capacity == 131072)
    let keys = (0..<capacity).map { n in
      (key: IPv6Address(groups: [0x2001, 0xdb8, 0, 0, 0, 1, UInt16(n >> 16), UInt16(n & 0xffff)])!, value: UInt64(0))
    }
    try firewall.maps.blocklist6.insert(contentsOf: keys)
    #expect {
      try firewall.maps.add(BlockEntry(parsing: "2001:db8::5"))
    } throws: { error in
      guard case .blocklistFull(_, let count) = error as? XDPBlockError else { return false }
      return count == 131072 && "\(error)" == "blocklist full (131072 entries in BLOCKLIST6)"
    }
    // The bulk path checks for room before it writes anything.
    let bulk = try [BlockEntry(parsing: "192.0.2.1")] + (0..<65).map { n in try BlockEntry(parsing: "2001:db8::2:0:\(n)") }
    #expect {
      try firewall.maps.add(contentsOf: bulk)
    } throws: { error in
      "\(error)" == "blocklist full (131072 entries in BLOCKLIST6)"
    }
    #expect(try firewall.maps.hits(of: BlockEntry(parsing: "192.0.2.1")) == nil)

    let prefixes = firewall.maps.cidr6.map.maxEntries
    for n in 0..<prefixes {
      let address = IPv6Address(groups: [0x2001, 0xdb8, UInt16(n), 0, 0, 0, 0, 0])!
      try firewall.maps.cidr6.insert(0, forKey: IPv6Prefix(prefixLength: 48, address: address))
    }
    #expect {
      try firewall.maps.add(BlockEntry(parsing: "2001:db8:ffff::/48"))
    } throws: { error in
      guard case .prefixListFull(_, let count) = error as? XDPBlockError else { return false }
      return count == prefixes && "\(error)".hasPrefix("prefix blocklist full")
    }
  }
}
