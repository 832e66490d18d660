import Logging
import Metrics
import MetricsTestKit
import Synchronization
import Testing
import XDPKit
import XDPKitService
import XDPKitTestSupport
import XDPPrograms

/// The map-to-metrics bridge, on the firewall's real maps and counters moved by test runs.
@Suite("XDPMetricsPublisher")
struct XDPMetricsPublisherTests {
  /// An IPv4/UDP frame from `source` (host byte order) to 192.0.2.254.
  static func frame(source: UInt32) -> [UInt8] {
    var frame = [UInt8](repeating: 0, count: 42)
    frame[12] = 0x08  // IPv4
    frame[14] = 0x45
    frame[16] = 0; frame[17] = 28  // total length
    frame[22] = 64; frame[23] = 17  // TTL, UDP
    for i in 0..<4 { frame[26 + i] = UInt8(truncatingIfNeeded: source >> (24 - 8 * UInt32(i))) }
    frame[30] = 192; frame[31] = 0; frame[32] = 2; frame[33] = 254
    return frame
  }

  @Test("counters follow the kernel totals by difference; gauges and top entries follow the maps", .kernel)
  func firewallCounters() throws {
    let metrics = TestMetrics()
    let loaded = try BPFObject(bytes: XDPPrograms.firewall).load()
    let program = try loaded.program("xdp_firewall")
    let blocklist = try loaded.hashMap("BLOCKLIST", key: UInt32.self, value: UInt32.self)
    let publisher = XDPMetricsPublisher(factory: metrics)
    publisher.counter("xdp_packets_total", dimensions: [("action", "pass")]) {
      try Self.packets(loaded, action: 2)
    }
    publisher.counter("xdp_packets_total", dimensions: [("action", "drop")]) {
      try Self.packets(loaded, action: 1)
    }
    publisher.gauge("xdp_blocklist_entries") { Double(try blocklist.keys().count) }
    publisher.topEntries("xdp_blocked_hits", dimension: "source", limit: 2) {
      try blocklist.lookupAll().map { ("\($0.key)", Double($0.value)) }
    }

    try blocklist.insert(0, forKey: 0xC633_6401)  // 198.51.100.1
    try blocklist.insert(0, forKey: 0xC633_6402)
    try blocklist.insert(0, forKey: 0xC633_6403)
    for _ in 0..<3 { _ = try program.testRun(packet: Self.frame(source: 0xCB00_7107)) }  // passes
    for _ in 0..<4 { _ = try program.testRun(packet: Self.frame(source: 0xC633_6401)) }  // dropped
    for _ in 0..<2 { _ = try program.testRun(packet: Self.frame(source: 0xC633_6402)) }
    _ = try program.testRun(packet: Self.frame(source: 0xC633_6403))
    publisher.publish()
    #expect(try metrics.expectCounter("xdp_packets_total", [("action", "pass")]).values == [3])
    #expect(try metrics.expectCounter("xdp_packets_total", [("action", "drop")]).values == [7])
    #expect(try metrics.expectGauge("xdp_blocklist_entries").lastValue == 3)
    #expect(try metrics.expectGauge("xdp_blocked_hits", [("source", "\(0xC633_6401 as UInt32)")]).lastValue == 4)
    #expect(try metrics.expectGauge("xdp_blocked_hits", [("source", "\(0xC633_6402 as UInt32)")]).lastValue == 2)
    #expect(throws: (any Error).self) {
      try metrics.expectGauge("xdp_blocked_hits", [("source", "\(0xC633_6403 as UInt32)")])
    }

    // Two more passes, and .3 overtakes .2: its gauge appears, .2's is destroyed.
    for _ in 0..<2 { _ = try program.testRun(packet: Self.frame(source: 0xCB00_7107)) }
    for _ in 0..<4 { _ = try program.testRun(packet: Self.frame(source: 0xC633_6403)) }
    publisher.publish()
    #expect(try metrics.expectCounter("xdp_packets_total", [("action", "pass")]).values == [3, 2])
    #expect(try metrics.expectCounter("xdp_packets_total", [("action", "drop")]).values == [7, 4])
    #expect(try metrics.expectGauge("xdp_blocked_hits", [("source", "\(0xC633_6403 as UInt32)")]).lastValue == 5)
    #expect(throws: (any Error).self) {
      try metrics.expectGauge("xdp_blocked_hits", [("source", "\(0xC633_6402 as UInt32)")])
    }
    // Nothing moved: no increment.
    publisher.publish()
    #expect(try metrics.expectCounter("xdp_packets_total", [("action", "pass")]).values == [3, 2])
  }

  /// Packets counted for `action`, summed over CPUs.
  static func packets(_ loaded: LoadedObject, action: UInt32) throws -> UInt64 {
    try loaded.perCPUArray("STATS", value: PacketsAndBytes.self).values(at: action).reduce(0) { $0 &+ $1.packets }
  }

  struct PacketsAndBytes: BitwiseCopyable {
    var packets: UInt64
    var bytes: UInt64
  }

  struct ReadFailure: Error {}


  @Test("a reading that fails is skipped and logged once; the others are published; a counter that goes down restarts")
  func failingReading() throws {
    let metrics = TestMetrics()
    let total = Mutex<UInt64>(10)
    let failing = Mutex(true)
    let logs = CapturedLogs()
    let publisher = XDPMetricsPublisher(factory: metrics, logger: logs.logger())
    publisher.counter("total") { total.withLock { $0 } }
    publisher.gauge("flaky") {
      if failing.withLock({ $0 }) { throw ReadFailure() }
      return 1.5
    }
    publisher.publish()
    publisher.publish()
    #expect(try metrics.expectCounter("total").values == [10])
    #expect(try metrics.expectGauge("flaky").lastValue == nil)
    #expect(logs.all.filter { $0.level == .warning }.map(\.message)
              == ["metrics: reading flaky failed: ReadFailure(); skipped until it works"])
    failing.withLock { $0 = false }
    total.withLock { $0 = 4 }  // the map was recreated: the total restarts
    publisher.publish()
    #expect(try metrics.expectCounter("total").values == [10, 4])
    #expect(try metrics.expectGauge("flaky").lastValue == 1.5)
  }
}
