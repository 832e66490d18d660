// sample: ServiceRun
import ServiceLifecycle
import XDPKit
import XDPKitService

// sample: end
import Logging

// The samples of the service article (Service.md).

func serviceRun(bytes: [UInt8], logger: Logger) async throws {
  // sample: ServiceRun
  let loaded = try BPFObject(bytes: bytes).load()
  let xdp = XDPService(program: try loaded.xdpProgram("xdp_firewall"), interface: "eth1", logger: logger)
  let group = ServiceGroup(services: [xdp], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
  try await group.run()      // SIGTERM or SIGINT: detached, then run() returns
  // sample: end
}

func serviceMetrics(
  stats: PerCPUArray<XDPFirewall.ActionStats>, blocklist: HashMap<UInt32, UInt32>, logger: Logger
) {
  // sample: ServiceMetrics
  let metrics = XDPMetricsPublisher(interval: .seconds(5), logger: logger)
  metrics.counter("xdp_packets_total", dimensions: [("action", "drop")]) {
    try stats.values(at: 1).reduce(0) { $0 &+ $1.packets }      // summed over CPUs
  }
  metrics.gauge("xdp_blocklist_entries") { Double(try blocklist.keys().count) }
  metrics.topEntries("xdp_blocked_hits", dimension: "source", limit: 10) {
    try blocklist.lookupAll().map { ("\(IPv4Address($0.key))", Double($0.value)) }
  }
  // sample: end
}
