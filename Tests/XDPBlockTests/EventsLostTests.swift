import MetricsTestKit
import Testing
import XDPBlockCore
import XDPKit
import XDPKitService
import XDPKitTestSupport

/// Drop events that the full EVENTS ring refuses are counted (EVENT_BUDGET's `lost`), read
/// by ``FirewallMaps/eventsLost()``, and published as `xdp_block_events_lost_total`.
@Suite("xdp-block: drop events lost to a full ring", .kernel)
struct EventsLostTests {
  @Test("a ring with no reader: exactly the events past its capacity are lost, and counted")
  func fullRingCountsLost() throws {
    let firewall = try LoadedFirewall(configuration: FirewallConfiguration(eventsEnabled: true, eventsPerSecond: .max))
    defer { firewall.loaded.close() }
    try firewall.maps.add(try BlockEntry(parsing: "192.0.2.1"))
    let ring = firewall.maps.events
    // A record takes its 32 bytes and an 8-byte header: 6553 fit in 256 KiB.
    let fits = ring.capacity / (8 + DropEvent.size)
    #expect(fits == 6553)
    #expect(try firewall.maps.eventsLost() == 0)

    let frame = try Frame.ipv4UDP(from: "192.0.2.1")
    let run = try firewall.program.program.testRun(packet: frame, repetitions: UInt32(fits + 100))
    #expect(run.action == .drop)
    #expect(try firewall.maps.statistics().dropped.packets == UInt64(fits + 100))
    #expect(try firewall.maps.eventsLost() == 100)

    // Read: the ring has room again, and nothing more is lost.
    #expect(ring.drain() == fits)
    _ = try firewall.program.program.testRun(packet: frame, repetitions: 3)
    #expect(ring.drain() == 3)
    #expect(try firewall.maps.eventsLost() == 100)

    // Published as a counter by xdp-block's metrics.
    let metrics = TestMetrics()
    let publisher = XDPMetricsPublisher(factory: metrics)
    FirewallMetrics.register(on: publisher, maps: firewall.maps)
    publisher.publish()
    #expect(try metrics.expectCounter("xdp_block_events_lost_total").values == [100])
    #expect(try metrics.expectCounter("xdp_block_packets_total", [("action", "drop")]).values == [Int64(fits + 103)])
  }
}
