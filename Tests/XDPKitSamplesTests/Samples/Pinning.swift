import XDPKit

/// The pinning article's sample (Pinning.md): the firewall stays attached and its blocklist
/// reachable after the values that loaded it are gone. SampleRunTests runs it with `directory`
/// a fresh directory under /sys/fs/bpf, and removes the pins.
func pinning(interface: NetworkInterface, directory: String) throws {
  // sample: PinningFirewall
  do {
    let firewall = try XDPFirewall.load()
    let link = try firewall.xdpFirewall.attach(to: interface, mode: .auto)
    try link.pin(at: "\(directory)/link")                // attached while the pin exists
    try firewall.blocklist.map.pin(at: "\(directory)/BLOCKLIST")
  }                                                       // firewall and link released here

  // Later, in another process: open the pinned map and block an address.
  let blocklist = try HashMap<UInt32, UInt32>(BPFMap.open(pinnedAt: "\(directory)/BLOCKLIST"))
  try blocklist.insert(0, forKey: 0xC000_0201)           // 192.0.2.1
  // sample: end
}
