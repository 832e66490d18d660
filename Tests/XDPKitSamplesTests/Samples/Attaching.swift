import XDPKit

// The samples of the attaching article (Attaching.md).

func attachingXDP(loaded: LoadedObject, other: LoadedObject) throws {
  // sample: AttachingXDP
  let xdp = try loaded.xdpProgram("xdp_firewall")
  let link = try xdp.attach(to: "eth1", mode: .auto)        // bpf_link (5.9+), else netlink
  try link.replace(with: try other.xdpProgram("xdp_v2"))     // BPF_LINK_UPDATE, no gap
  try link.detach()                                          // BPF_LINK_DETACH
  // sample: end
}
