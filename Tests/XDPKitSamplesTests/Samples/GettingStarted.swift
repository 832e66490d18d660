import XDPKit

/// What the getting-started flow saw, for SampleRunTests.
struct GettingStartedResult {
  var packets: UInt64
  var bytes: UInt64
  var hits: UInt32?
  var events: [XDPFirewall.DropEvent]
}

/// The getting-started article's five steps (GettingStarted.md), in one function so that
/// SampleRunTests runs them in order on a test network; `traffic` sends between steps 4 and 5.
func gettingStarted(interface: NetworkInterface, traffic: () throws -> Void) throws -> GettingStartedResult {
  // sample: GettingStartedLoad
  let firewall = try XDPFirewall.load { config in
    config.eventsEnabled = 1          // const volatile __u32 events_enabled, in .rodata
    config.eventsPerSecond = 10
  }
  print(firewall.object.notes)        // what the loader adapted to this kernel, if anything
  // sample: end

  // sample: GettingStartedAttach
  let link = try firewall.xdpFirewall.attach(to: interface, mode: .auto)
  print(link.isLink ? "bpf_link" : "netlink")   // a bpf_link detaches when the process ends
  // sample: end

  // sample: GettingStartedBlock
  let blocked = try IPv4Address(parsing: "192.0.2.1")
  try firewall.blocklist.insert(0, forKey: blocked.value)   // BLOCKLIST: key in host byte order
  // sample: end

  try traffic()

  // sample: GettingStartedRead
  let perCPU = try firewall.stats.values(at: XDPAction.drop.rawValue)  // STATS: one slot per action
  let packets = perCPU.reduce(0) { $0 + $1.packets }                   // struct action_stats
  let bytes = perCPU.reduce(0) { $0 + $1.bytes }
  let hits = try firewall.blocklist.value(forKey: blocked.value)       // packets this entry dropped
  var events: [XDPFirewall.DropEvent] = []                             // struct drop_event
  firewall.events.drain(as: XDPFirewall.DropEvent.self) { events.append($0) }
  print("dropped \(packets) packets, \(bytes) bytes; \(events.count) events")
  try link.detach()
  // sample: end
  return GettingStartedResult(packets: packets, bytes: bytes, hits: hits, events: events)
}
