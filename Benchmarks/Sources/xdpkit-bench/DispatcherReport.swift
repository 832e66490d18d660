// The table of suite 10 (DispatcherSuite): one program alone, behind XDPKit's dispatcher and
// behind libxdp's, in the 6.1 VM; the target is a dispatcher overhead no larger than libxdp's.

enum DispatcherReport {
  static func render(_ samples: Samples) -> [String] {
    let programs = ["xdp_drop", "xdp_firewall"]
    let own = renderOwnCost(samples)
    guard programs.contains(where: { !samples.values("xdpkit", "mp.direct.\($0).cpu").isEmpty }) else {
      return own + ["", "Multi-program dispatcher with a component: not measured (run without --no-vm, on a machine that can boot the 6.1 VM)."]
    }
    let repeats = samples.meta["datapath.dispatcher.repeat"] ?? "?"
    let kernel = samples.meta["dispatcher.kernel"] ?? "?"
    var out = own + [
      "",
      "Multi-program dispatcher with a component, in the 6.1 VM (Linux \(kernel), software-emulated CPU: compare the ratios, not the nanoseconds): ns per frame (ipv4_miss) under BPF_PROG_TEST_RUN with \(repeats) repeats, the thread's CPU time / repeats, median [p10–p90]. The emulator's timing is disturbed by whatever else runs on the host, so the overheads are taken between the fastest samples (min), the least disturbed ones: overhead = fastest behind a dispatcher − fastest alone. Last columns: the kernel's `duration` minimums (alone / XDPKit's / libxdp's), and each dispatcher's size as the kernel holds it, translated instructions / JIT-compiled bytes, which no timing noise touches.",
      "",
      "| program | alone | behind XDPKit's dispatcher | behind libxdp's dispatcher | XDPKit overhead, ns | libxdp overhead, ns | XDPKit/libxdp (frame) | target (overhead ≤ libxdp's) | kernel `duration` | dispatcher size, XDPKit / libxdp |",
      "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for program in programs {
      let alone = Summary(samples.values("xdpkit", "mp.direct.\(program).cpu"))
      let ours = Summary(samples.values("xdpkit", "mp.xdpkit.\(program).cpu"))
      let theirs = Summary(samples.values("libxdp", "mp.libxdp.\(program).cpu"))
      guard let alone else { continue }
      func fastest(_ side: String, _ setup: String, _ suffix: String) -> Double? {
        samples.values(side, "mp.\(setup).\(program)\(suffix)").min()
      }
      let aloneMin = fastest("xdpkit", "direct", ".cpu")
      let ourOverhead = fastest("xdpkit", "xdpkit", ".cpu").flatMap { o in aloneMin.map { o - $0 } }
      let theirOverhead = fastest("libxdp", "libxdp", ".cpu").flatMap { o in aloneMin.map { o - $0 } }
      let met = ourOverhead.flatMap { o in theirOverhead.map { o <= $0 } }
      let kernel = [("xdpkit", "direct"), ("xdpkit", "xdpkit"), ("libxdp", "libxdp")]
        .map { fastest($0.0, $0.1, "").map { Report.number($0) } ?? "—" }
        .joined(separator: " / ")
      let size = [("xdpkit", "xdpkit"), ("libxdp", "libxdp")].map { side, setup -> String in
        guard let instructions = fastest(side, setup, ".xlated"), let bytes = fastest(side, setup, ".jited") else { return "—" }
        return "\(Report.number(instructions)) insns, \(Report.number(bytes)) B"
      }.joined(separator: " / ")
      out.append("| \(program) | \(Report.cell(alone)) | \(Report.cell(ours)) | \(Report.cell(theirs)) | \(ourOverhead.map { Report.number($0) } ?? "—") | \(theirOverhead.map { Report.number($0) } ?? "—") | \(Report.ratioCell(Report.ratio(ours, theirs))) | \(Report.verdict(met)) | \(kernel) | \(size) |")
    }
    return out
  }

  /// The dispatchers' own cost on the host: paired per round against the floor program, so that
  /// a slow round moves all three samples of that round together.
  static func renderOwnCost(_ samples: Samples) -> [String] {
    let ours = samples.values("xdpkit", "mp.own.xdpkit.cpu")
    let theirs = samples.values("libxdp", "mp.own.libxdp.cpu")
    let floor = samples.values("xdpkit", "mp.own.floor.cpu")
    let rounds = min(ours.count, theirs.count, floor.count)
    guard rounds > 0 else {
      return ["", "Dispatchers' own cost (host): not measured (needs libxdp's xdp-dispatcher.o, from Debian's libxdp1)."]
    }
    let repeats = samples.meta["datapath.dispatcher.own.repeat"] ?? "?"
    let ourOverhead = Summary((0..<rounds).map { ours[$0] - floor[$0] })
    let theirOverhead = Summary((0..<rounds).map { theirs[$0] - floor[$0] })
    let difference = Summary((0..<rounds).map { ours[$0] - theirs[$0] })
    let met = ourOverhead.flatMap { o in theirOverhead.map { o.median <= $0.median } }
    func size(_ side: String, _ metric: String) -> String {
      guard let instructions = samples.values(side, "\(metric).xlated").first,
        let bytes = samples.values(side, "\(metric).jited").first else { return "—" }
      return "\(Report.number(instructions)) insns, \(Report.number(bytes)) B"
    }
    return [
      "",
      "Dispatchers' own cost, on this host (no freplace needed): XDPKit's and libxdp's dispatcher each configured for one slot that chains on XDP_PASS, the slot's stub in place, against the xdp_drop floor, under BPF_PROG_TEST_RUN with \(repeats) repeats, the thread's CPU time / repeats, in rotating order per round (\(rounds) rounds). Overhead = dispatcher − floor of the same round, median [p10–p90]; the freplace jump a component adds is the kernel's and the same for both.",
      "",
      "| dispatcher alone | XDPKit's | libxdp's | floor | XDPKit overhead, ns | libxdp overhead, ns | XDPKit − libxdp per round, ns | target (overhead ≤ libxdp's) | size, XDPKit / libxdp |",
      "|---|---|---|---|---|---|---|---|---|",
      "| one slot, stub | \(Report.cell(Summary(ours))) | \(Report.cell(Summary(theirs))) | \(Report.cell(Summary(floor))) | \(Report.cell(ourOverhead)) | \(Report.cell(theirOverhead)) | \(Report.cell(difference)) | \(Report.verdict(met)) | \(size("xdpkit", "mp.own.xdpkit")) / \(size("libxdp", "mp.own.libxdp")) |",
    ]
  }
}
