// The table of suite 12 (XSKSuite): AF_XDP packets per second per core, XDPKit's XDPSocket
// batch API against libxdp's xsk API (Benchmarks/C/xsk_bench.c).

enum XSKReport {
  static func render(_ samples: Samples) -> [String] {
    let modes = [("rx", "RX only"), ("tx", "TX only"), ("echo", "echo (RX + TX)")]
    guard modes.contains(where: { !samples.values("xdpkit", "xsk.\($0.0).pps").isEmpty }) else { return [] }
    var out = [""]
    let packets = samples.meta["xsk.packets"] ?? "?"
    out.append("AF_XDP (suite 12): one socket on queue 0 of a veth in copy mode with need_wakeup, 4096 frames of 4096 bytes, 2048-slot rings, batches of 64, \(packets) packets per run after a warm-up; RX and echo fed by the same AF_PACKET generator on the peer, through the same redirect program. Packets per second per core = packets / the measuring thread's CPU time (it sleeps in poll(2) when the RX ring is empty); median [p10–p90] over runs. User ns/packet from getrusage(RUSAGE_THREAD). Allocations: the measuring thread's malloc/calloc/realloc calls per packet over the timed loop (malloc_count.so).")
    out.append("")
    out.append("| mode | XDPKit, packets/s per core | libxdp, packets/s per core | XDPKit/libxdp | target | | user ns/packet, XDPKit / libxdp | packets/s (wall), XDPKit / libxdp | packets per batch, XDPKit / libxdp | heap allocations per packet, XDPKit / libxdp |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for (mode, label) in modes {
      func summary(_ side: String, _ metric: String) -> Summary? {
        Summary(samples.values(side, "xsk.\(mode).\(metric)"))
      }
      func pair(_ metric: String) -> String {
        [summary("xdpkit", metric), summary("libxdp", metric)].map { $0.map { Report.number($0.median) } ?? "—" }
          .joined(separator: " / ")
      }
      let x = summary("xdpkit", "pps")
      let r = summary("libxdp", "pps")
      let q = Report.ratio(x, r)
      out.append("| \(label) | \(Report.cell(x)) | \(Report.cell(r)) | \(Report.ratioCell(q)) | ≥ 0.90× | \(Report.verdict(q.map { $0 >= 0.9 })) | \(pair("user")) | \(pair("pps.wall")) | \(pair("batch")) | \(pair("allocs")) |")
    }
    return out
  }
}
