// The table of suite 9 (LoggingSuite): program logging next to no logging and bpf_printk.

enum LoggingReport {
  static func render(_ samples: Samples) -> [String] {
    func summary(_ metric: String) -> Summary? { Summary(samples.values("xdpkit", metric + ".cpu")) }
    let none = summary("log.none")
    guard none != nil else { return [] }
    let filtered = summary("log.filtered")
    let enabled = summary("log.enabled")
    let printk = summary("log.printk")
    var out = [""]
    let repeatText = samples.meta["logging.repeat"] ?? "?"
    out.append("Program logging: ns per packet under BPF_PROG_TEST_RUN (frame ipv4_miss, \(repeatText) repeats), the thread's CPU time for the call / repeats, median [p10–p90] over rounds; the same packet logic in every row (Benchmarks/BPF/xdp_log.c).")
    out.append("")
    out.append("| variant | ns/packet | − no logging, ns | target | |")
    out.append("|---|---|---|---|---|")
    func above(_ s: Summary?) -> Double? { s.flatMap { s in none.map { s.median - $0.median } } }
    func signed(_ value: Double?) -> String { value.map { ($0 < 0 ? "" : "+") + Report.number($0) } ?? "—" }
    out.append("| no logging | \(Report.cell(none)) | — | | |")
    let filteredAbove = above(filtered)
    out.append("| `xdpkit_info` compiled in, filtered out (level warning) | \(Report.cell(filtered)) | \(signed(filteredAbove)) | ≤ +1 ns | \(Report.verdict(filteredAbove.map { $0 <= 1 })) |")
    let q = Report.ratio(enabled, printk)
    out.append("| `xdpkit_info` enabled, 2 arguments (ring drained by another thread) | \(Report.cell(enabled)) | \(signed(above(enabled))) | ≤ 0.5× bpf_printk (\(Report.ratioCell(q))) | \(Report.verdict(q.map { $0 <= 0.5 })) |")
    out.append("| the same line through `bpf_printk` | \(Report.cell(printk)) | \(signed(above(printk))) | | |")
    if let rate = Summary(samples.values("xdpkit", "log.forwarder")), let each = Summary(samples.values("xdpkit", "log.forwarder.ns")) {
      out.append("")
      out.append("Swift forwarder (`LogRecordForwarder`: decode, format, swift-log handler), one thread: \(Report.number(rate.median)) records/s [\(Report.number(rate.p10))–\(Report.number(rate.p90))], \(Report.number(each.median)) ns per record.")
    }
    return out
  }
}

// The table of suite 11 (GlobalsSuite): globals through the mmapped section against bpf(2).
enum GlobalsReport {
  static func render(_ samples: Samples) -> [String] {
    func summary(_ metric: String) -> Summary? { Summary(samples.values("xdpkit", metric)) }
    guard let readSyscall = summary("globals.read.syscall") else { return [] }
    let rows: [(String, Summary?, Summary?)] = [
      ("read a .bss `u64`: `global(_:)`", summary("globals.read.mapped"), readSyscall),
      ("read through `withGlobalPointer`", summary("globals.read.pointer"), readSyscall),
      ("read through a `MappedGlobal` handle (`.value`)", summary("globals.read.handle"), readSyscall),
      ("write through the handle", summary("globals.write.handle"), summary("globals.write.syscall")),
      ("write it: `setGlobal(_:to:)`", summary("globals.write.mapped"), summary("globals.write.syscall")),
      ("read an element of a BPF_F_MMAPABLE `ArrayMap<UInt64>`: `mappedValue(at:)` / `value(at:)`",
       summary("array.read.mapped"), summary("array.read.syscall")),
      ("write it: `setMapped(_:at:)` / `set(_:at:)`", summary("array.write.mapped"), summary("array.write.syscall")),
      ("read it through a `mappedElements()` handle (`value(at:)`)", summary("array.read.handle"), summary("array.read.syscall")),
      ("write it through the handle (`set(_:at:)`)", summary("array.write.handle"), summary("array.write.syscall")),
      ("add to it atomically: `wrappingAdd(_:at:)` (bpf(2) has no atomic add)", summary("array.add.atomic"), nil),
    ]
    var out = ["", "Globals after load (suite 11, XDPKit only): ns per operation, mmapped section against the bpf(2) path (lookup of the section; lookup + update of the whole section to write one variable; for the array, lookup or update of one element). Target: about two orders of magnitude.", "",
               "| operation | mmapped, ns | bpf(2), ns | bpf(2) / mmapped |", "|---|---|---|---|"]
    for (label, mapped, syscall) in rows {
      let factor = Report.ratio(syscall, mapped).map { Report.number($0) + "×" } ?? "—"
      out.append("| \(label) | \(Report.cell(mapped)) | \(Report.cell(syscall)) | \(factor) |")
    }
    return out
  }
}
