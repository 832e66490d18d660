import XDPKit
import XDPPrograms

// 1. Load + attach + teardown of the blocklist object, as a service starting and stopping:
// parse the embedded bytes, create the maps and load the program, attach it to the veth in
// native mode through a bpf_link, then release everything. The libbpf side does
// bpf_object__open_mem, bpf_object__load, bpf_program__attach_xdp, bpf_link__destroy and
// bpf_object__close on the same bytes.
//
// Teardown is what libbpf's bpf_link__destroy does for an XDP link: close the link's
// descriptor (the kernel detaches the program when the last reference goes). With `detach`,
// the cycle also calls XDPLink.detach() first (BPF_LINK_DETACH), reported separately.

enum AttachSuite {
  static func run(_ arguments: [String]) {
    guard arguments.count == 3 || (arguments.count == 4 && arguments[3] == "detach") else {
      fail("usage: attach IFACE ITERATIONS WARMUP [detach]")
    }
    let interface = arguments[0]
    let iterations = integer(arguments[1], "ITERATIONS")
    let warmup = integer(arguments[2], "WARMUP")
    let explicitDetach = arguments.count == 4
    let bytes = XDPPrograms.firewall
    let metric = explicitDetach ? "attach.cycle_detach" : "attach.cycle"
    for i in -warmup..<iterations {
      let stopwatch = Stopwatch()
      check("load+attach cycle") { try cycle(bytes, interface: interface, detach: explicitDetach) }
      if i >= 0 { stopwatch.emit(metric, "us") }
    }
  }

  /// One cycle; everything it creates is released when it returns.
  static func cycle(_ bytes: [UInt8], interface: String, detach: Bool) throws {
    let object = try BPFObject(bytes: bytes)
    let loaded = try object.load()
    let link = try loaded.xdpProgram("xdp_firewall").attach(to: .name(interface), mode: .native)
    if detach { try link.detach() }
    withExtendedLifetime(link) {}
    loaded.close()
  }
}
