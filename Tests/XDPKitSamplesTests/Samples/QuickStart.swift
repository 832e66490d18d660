import XDPKit

/// README.md's quick start. SampleRunTests runs it against the firewall on a test network:
/// `traffic` sends packets from 192.0.2.1 once the program is attached and the address blocked.
func quickStart(interface: NetworkInterface, traffic: () throws -> Void) throws -> UInt64 {
  // sample: QuickStart
  // BPF/xdp_firewall.c in your target, compiled by XDPKit's build plugin, is the type XDPFirewall,
  // generated from the object's BTF: typed configuration, maps, programs and C structs.
  let firewall = try XDPFirewall.load { $0.eventsPerSecond = 50 }  // a .rodata variable
  let link = try firewall.xdpFirewall.attach(to: interface, mode: .auto)  // "eth1", say
  try firewall.blocklist.insert(0, forKey: 0xC000_0201)            // HashMap<UInt32, UInt32>; 192.0.2.1
  // sample: end
  try traffic()
  // sample: QuickStart
  let dropped = try firewall.stats.values(at: 1).reduce(0) { $0 + $1.packets }  // struct action_stats, per CPU
  try link.detach()                                                // or let the link go out of scope
  // sample: end
  return dropped
}

/// The catalog's landing page (XDPKit.md); compiled, not run (the quick start runs the same calls).
func landing(interface: NetworkInterface) throws -> XDPLink {
  // sample: Landing
  let firewall = try XDPFirewall.load()                             // BPF/xdp_firewall.c
  let link = try firewall.xdpFirewall.attach(to: interface, mode: .auto)
  try firewall.blocklist.insert(0, forKey: 0xC000_0201)             // drop 192.0.2.1
  // sample: end
  return link
}
