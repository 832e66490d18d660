import Glibc

// The table: reads the samples both sides printed during one run (and the `meta` lines
// run.sh adds) and prints Markdown tables with, per metric, the median and the 10th and 90th
// percentiles of each side, the ratio of the medians XDPKit/reference, and the target.

struct Samples {
  var byKey: [String: [Double]] = [:]
  var meta: [String: String] = [:]

  init(_ text: String) {
    for line in text.split(separator: "\n") {
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      guard fields.count >= 4 else { continue }
      if fields[0] == "meta" {
        meta[fields[1]] = fields[3...].joined(separator: "\t")
      } else if let value = Double(fields[3]) {
        byKey["\(fields[0]) \(fields[1])", default: []].append(value)
      }
    }
  }

  func values(_ side: String, _ metric: String) -> [Double] { byKey["\(side) \(metric)"] ?? [] }
}

struct Summary {
  var median: Double
  var p10: Double
  var p90: Double
  var count: Int

  /// Nearest-rank percentiles; `nil` for no samples.
  init?(_ values: [Double]) {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    func percentile(_ p: Double) -> Double {
      let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
      return sorted[min(max(rank, 1), sorted.count) - 1]
    }
    count = sorted.count
    median = sorted.count % 2 == 1
      ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    p10 = percentile(10)
    p90 = percentile(90)
  }
}

enum Report {
  static func run(_ arguments: [String]) {
    guard arguments.count == 1 else { fail("usage: report RESULTS") }
    let samples = Samples(String(decoding: readFile(arguments[0]), as: UTF8.self))
    print(render(samples))
  }

  /// A number with about three significant digits.
  static func number(_ value: Double) -> String {
    let magnitude = abs(value)
    if magnitude >= 1e6 { return formatted(value / 1e6, decimals: 2) + " M" }
    if magnitude >= 1e4 && value == value.rounded() { return formatted(value / 1e3, decimals: 0) + " k" }
    if magnitude >= 100 || value == value.rounded() && magnitude >= 10 { return formatted(value, decimals: 0) }
    if magnitude >= 10 { return formatted(value, decimals: 1) }
    if magnitude >= 1 { return formatted(value, decimals: 2) }
    if magnitude == 0 { return "0" }
    return formatted(value, decimals: 3)
  }

  static func cell(_ summary: Summary?) -> String {
    guard let s = summary else { return "—" }
    if s.count == 1 || s.p10 == s.p90 { return number(s.median) }
    return "\(number(s.median)) [\(number(s.p10))–\(number(s.p90))]"
  }

  static func ratio(_ a: Summary?, _ b: Summary?) -> Double? {
    guard let a, let b, b.median > 0 else { return nil }
    return a.median / b.median
  }

  static func ratioCell(_ value: Double?) -> String {
    guard let value else { return "—" }
    return formatted(value, decimals: 2) + "×"
  }

  static func verdict(_ met: Bool?) -> String {
    guard let met else { return "" }
    return met ? "met" : "**not met**"
  }

  /// One row of the data-path table.
  static func dataPathRow(_ samples: Samples, fill: String, frame: String, program: String) -> [String] {
    func pick(_ side: String, _ program: String, _ suffix: String) -> [Double] {
      samples.values(side, "dp.\(program).\(fill).\(frame)\(suffix)")
    }
    let x = Summary(pick("xdpkit", program, ".cpu"))
    let floor = Summary(pick("xdpkit", "floor", ".cpu") + pick("libbpf", "floor", ".cpu"))
    let filter = Summary(pick("libbpf", "xdpfilter", ".cpu"))
    let kernel = [Summary(pick("xdpkit", program, "")),
                  Summary(pick("xdpkit", "floor", "") + pick("libbpf", "floor", "")),
                  Summary(pick("libbpf", "xdpfilter", ""))]
      .map { $0.map { number($0.median) } ?? "—" }.joined(separator: " / ")
    guard x != nil || filter != nil else { return [] }
    let q = ratio(x, filter)
    let above = x.flatMap { x in floor.map { x.median - $0.median } }
    // The issue's measure: XDPKit's cost above the floor as a share of xdp-filter's.
    let share = above.flatMap { above in filter.flatMap { f in floor.flatMap { fl in
      f.median > fl.median ? above / (f.median - fl.median) : nil } } }
    var verdicts: [String] = []
    if let q { verdicts.append(q <= 1.1 ? "met" : "**not met**") } else { verdicts.append("n/a") }
    if let above { verdicts.append(above <= 8 ? "met" : "**not met**") }
    if let share { verdicts.append(share <= 0.6 ? "met" : "**not met**") }
    let filterCell = filter == nil ? "n/a (no prefixes)" : cell(filter)
    let aboveCell = (above.map { "+" + number($0) } ?? "—") + (share.map { " (" + formatted($0, decimals: 2) + ")" } ?? "")
    return ["| \(frame) | \(fill == "1k" ? "1K" : "1M") | \(cell(x)) | \(cell(floor)) | \(filterCell) | \(ratioCell(q)) | \(aboveCell) | \(verdicts.joined(separator: ", ")) | \(kernel) |"]
  }

  static func render(_ samples: Samples) -> String {
    var out: [String] = []
    let meta = samples.meta
    if let machine = meta["machine"] { out.append(machine) }
    if let versions = meta["versions"] { out.append(versions) }
    if let settings = meta["settings"] { out.append(settings) }
    if let runtime = meta["runtime"] { out.append(runtime) }
    out.append("")
    out.append("Cells: median [p10–p90] over the samples of this run, in the thread's CPU time (wall-clock medians are in the raw samples as `*.wall`); ratio = XDPKit median / reference median.")
    out.append("")

    // Control path.
    out.append("| metric | XDPKit | libbpf | XDPKit/libbpf | target | |")
    out.append("|---|---|---|---|---|---|")
    func row(_ label: String, _ metric: String, target: Double?, referenceMetric: String? = nil,
             note: String = "") {
      let x = Summary(samples.values("xdpkit", metric))
      let r = Summary(samples.values("libbpf", referenceMetric ?? metric))
      let q = ratio(x, r)
      let targetText = target.map { "≤ " + formatted($0, decimals: 2) + "×" } ?? note
      let met = target.flatMap { t in q.map { $0 <= t } }
      out.append("| \(label) | \(cell(x)) | \(cell(r)) | \(ratioCell(q)) | \(targetText) | \(verdict(met)) |")
    }
    row("load + attach + teardown, µs/cycle", "attach.cycle", target: nil)
    row("  … wall-clock, µs/cycle", "attach.cycle.wall", target: nil)
    row("  user-space instructions per cycle (callgrind)", "attach.cycle.ir", target: 0.5)
    row("  user-space CPU per cycle, system calls timed (syscall_cpu.so), µs", "attach.cycle.user_cpu", target: 0.5)
    row("  … CPU inside system calls per cycle (syscall_cpu.so), µs", "attach.cycle.syscall_cpu", target: nil)
    row("  … calls timed per cycle (syscall_cpu.so)", "attach.cycle.syscall_count", target: nil)
    for (step, label) in [("parse", "parse (libbpf: open)"), ("load", "load"), ("attach", "attach"),
                          ("teardown", "teardown")] {
      row("  … user-space CPU in step \(label), µs", "attach.phase.\(step).user_cpu", target: nil)
    }
    row("  user-space CPU per cycle (getrusage), µs", "attach.cycle.user", target: nil)
    row("  kernel CPU per cycle (getrusage), µs", "attach.cycle.system", target: nil)
    row("  … with explicit `link.detach()`, µs/cycle", "attach.cycle_detach", target: nil,
        referenceMetric: "attach.cycle", note: "(libbpf: plain destroy)")
    row("  bpf(2) calls per cycle", "attach.bpf_calls", target: nil)
    row("  all system calls per cycle", "attach.syscalls", target: nil)
    row("  user-space cycles per cycle (perf stat)", "attach.cycles_u", target: nil)
    row("  kernel cycles per cycle (perf stat)", "attach.cycles_k", target: nil)
    row("  user-space instructions per cycle (perf stat)", "attach.instructions_u", target: nil)
    for (label, metric) in [("insert", "insert"), ("lookup, hit", "lookup_hit"),
                            ("lookup, miss", "lookup_miss"), ("remove", "delete")] {
      row("HashMap<UInt32, UInt32> \(label), ns/op", "map.\(metric)", target: 1.05)
    }
    let allocationMetrics = ["map.insert", "map.lookup_hit", "map.lookup_miss", "map.delete", "percpu.sum"]
    let allocations = allocationMetrics.map { Summary(samples.values("xdpkit", $0 + ".allocs")) }
    if allocations.allSatisfy({ $0 != nil }) {
      let worst = allocations.map { $0!.p90 }.max() ?? 0
      let each = allocations.map { number($0!.median) }.joined(separator: " / ")
      out.append("| heap allocations per op (insert / hit / miss / remove / per-CPU sum) | \(each) | — | — | 0 | \(verdict(worst == 0)) |")
    } else {
      out.append("| heap allocations per op | not measured (malloc_count.so not preloaded) | — | — | 0 | |")
    }
    row("PerCPUArray<UInt64>.sum(at:), ns/call", "percpu.sum", target: 1.05)
    let entries = meta["batch.entries"] ?? "1M"
    row("batch insert of \(entries) (insert(contentsOf:)), ms", "batch.insert", target: 1.0)
    row("batch lookup of \(entries) (lookupAll()), ms", "batch.lookup", target: 1.0)
    row("per-element insert of \(entries), ms", "loop.insert", target: nil)
    row("per-element lookup of \(entries), ms", "loop.lookup", target: nil)
    let bulk = meta["bulk.entries"] ?? "100000"
    row("xdp-block: parse + add \(bulk) addresses, batch (add(contentsOf:)), user-space ms", "bulk.batch.user", target: nil)
    row("  … kernel ms", "bulk.batch.system", target: nil)
    row("  … total CPU ms", "bulk.batch.cpu", target: nil)
    row("xdp-block: parse + add \(bulk) addresses one by one (add(_:)), user-space ms", "bulk.loop.user", target: nil)
    row("  … kernel ms", "bulk.loop.system", target: nil)
    row("  … total CPU ms", "bulk.loop.cpu", target: nil)
    let reload = meta["reload.entries"] ?? "100000"
    row("xdp-block run --config: \(reload) entries changed, file written → maps reconciled, ms", "reload.wall",
        target: nil, note: "≤ 2000 ms")
    row("  … parse the file (YAML), ms", "reload.parse", target: nil)
    row("  … reconcile the maps (insert \(reload), then remove \(reload)), ms", "reload.apply", target: nil)
    for (name, label) in [("firewall", "xdp_firewall.o"), ("xdpfilter", "xdpfilt_alw_all.o"),
                          ("large", "generated large.o")] {
      let size = meta["size.\(name)"].map { " (\($0) bytes)" } ?? ""
      row("parse \(label)\(size), µs", "parse.\(name)", target: 1.0)
      row("  … instructions per parse (callgrind)", "parse.\(name).ir", target: nil)
    }
    let vmlinux = meta["size.vmlinux"].map { ", \($0) bytes" } ?? ""
    row("parse kernel BTF (vmlinux\(vmlinux); libbpf: btf__parse), ms", "btf.vmlinux", target: 1.0)
    row("  … instructions per parse (callgrind)", "btf.vmlinux.ir", target: nil)
    row("  CO-RE candidate index of vmlinux (once per process), ms", "btf.index", target: nil,
        note: "(XDPKit only)")
    row("CO-RE resolution + patching of 100 relocations, µs", "core.100", target: nil,
        note: "(XDPKit only)")
    out.append("")

    // XDPKit's own batch vs loop.
    let batchVsLoop = [("insert", "batch.insert", "loop.insert"), ("lookup", "batch.lookup", "loop.lookup")]
      .compactMap { (label, batch, loop) -> String? in
        guard let q = ratio(Summary(samples.values("xdpkit", loop)), Summary(samples.values("xdpkit", batch)))
        else { return nil }
        return "\(label) \(formatted(q, decimals: 1))× faster"
      }
    if !batchVsLoop.isEmpty {
      out.append("XDPKit batch vs XDPKit per-element loop: " + batchVsLoop.joined(separator: ", ") + ".")
    }
    for side in ["xdpkit", "libbpf"] {
      let commands = samples.byKey.keys.filter { $0.hasPrefix("\(side) attach.bpf.") }.sorted()
      guard !commands.isEmpty else { continue }
      let parts = commands.map { key -> String in
        let command = key.dropFirst("\(side) attach.bpf.BPF_".count)
        return "\(command) \(number(Summary(samples.byKey[key]!)!.median))"
      }
      out.append("bpf(2) commands per cycle, \(side == "xdpkit" ? "XDPKit" : "libbpf"): " + parts.joined(separator: ", ") + ".")
    }
    out.append("")

    // Data path.
    let repeatText = meta["datapath.repeat"] ?? "?"
    out.append("Data path: ns per frame under BPF_PROG_TEST_RUN with \(repeatText) repeats: the thread's CPU time for the call / repeats, median [p10–p90] over rounds. Last column: the kernel's own `duration` (whole ns, truncated), medians, XDPKit / floor / xdp-filter.")
    out.append("")
    out.append("| frame | entries | XDPKit blocklist | bare XDP_DROP floor | xdp-filter (xdpfilt_alw_ip) | XDPKit/xdp-filter | XDPKit − floor, ns (÷ xdp-filter − floor) | targets (≤ 1.1×, ≤ +8 ns, ≤ 0.6 of xdp-filter above the floor) | kernel `duration` |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for fill in ["1k", "1m"] {
      for frame in Fixtures.frameNames {
        out.append(contentsOf: dataPathRow(samples, fill: fill, frame: frame, program: "xdpkit"))
      }
    }
    out.append(contentsOf: LoggingReport.render(samples))
    out.append(contentsOf: GlobalsReport.render(samples))
    out.append(contentsOf: DispatcherReport.render(samples))
    out.append(contentsOf: XSKReport.render(samples))
    return out.joined(separator: "\n")
  }
}
