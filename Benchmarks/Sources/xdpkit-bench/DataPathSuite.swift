import XDPBlockCore
import XDPKit
import XDPPrograms

// 5. The data path: the blocklist program's time per frame under BPF_PROG_TEST_RUN, as the
// kernel measures it (the `duration` it returns: the average over REPEAT runs, whole
// nanoseconds, with time spent rescheduled excluded), next to the bare XDP_DROP floor
// (Benchmarks/BPF/xdp_drop.c), both loaded with XDPKit. The libbpf side measures xdp-filter's
// program and the floor on the same frames.
//
// Fills: "1k" — the shipped object (BLOCKLIST max_entries 131,072) with 1,000 entries;
// "1m" — BLOCKLIST raised to 2^20 with LoadOptions(maxEntries:) and 1,000,000 entries. The
// entries are fillKey(0..<n): 192.0.2.1 and keys from 240.0.0.0/4. CIDR4 holds
// 203.0.113.0/24 in both. Every run checks the verdict.
//
// The firewall's skip state is set by xdp-block's own code after the fill
// (FirewallMaps.markEmptyTables, as on attach): the tables that stay empty (BLOCKLIST6, CIDR6)
// are marked so in its skip words (`skip_table` in .bss, firewall.h), and, for an object with
// the CIDR4 /16 bitmap (`cidr4_skip16`), the bitmap is recomputed from CIDR4, so the program
// walks the trie only for sources in 203.0/16. An object of an older build (a 16-byte .bss) gets
// its words alone.
//
// Extra objects (NAME=OBJECT[,GLOBAL=VALUE]...) are measured the same way under "dp.NAME.…",
// e.g. the firewall of another commit, to compare two builds of it in one run; GLOBAL=VALUE
// sets a `.rodata` __u32 before load, and the word `noskip` leaves every skip word zero.

enum DataPathSuite {
  static let expectedVerdicts: [String: XDPAction] = [
    "ipv4_hit": .drop, "ipv4_miss": .pass, "ipv6_miss": .pass, "cidr_hit": .drop,
  ]

  /// A firewall object to measure: the metric's program name, its bytes, the `.rodata` values
  /// to load it with, and whether to mark the empty tables as skippable.
  struct Variant {
    var name: String
    var object: [UInt8]
    var globals: [String: UInt32] = [:]
    var markEmpty = true
  }

  static func run(_ arguments: [String]) {
    guard arguments.count >= 3 else { fail("usage: datapath FIXTURES_DIR REPEAT ROUNDS [NAME=OBJECT[,GLOBAL=VALUE]...]...") }
    let directory = arguments[0]
    guard let repeatCount = UInt32(arguments[1]) else { fail("REPEAT must fit in 32 bits") }
    let rounds = integer(arguments[2], "ROUNDS")
    let frames = Fixtures.frameNames.map { ($0, readFile("\(directory)/frame_\($0).bin")) }
    let floorObject = check("floor") { try BPFObject(bytes: readFile("\(directory)/xdp_drop.o")).load() }
    let floor = check("floor program") { try floorObject.program("xdp_drop") }

    let variants = [Variant(name: "xdpkit", object: XDPPrograms.firewall)] + arguments.dropFirst(3).map(variant)

    for (label, maxEntries, count) in [("1k", UInt32?.none, 1000), ("1m", UInt32(1 << 20), 1_000_000)] {
      var options = LoadOptions(maxEntries: maxEntries.map { ["BLOCKLIST": $0] } ?? [:])
      let firewalls = variants.map { variant -> (String, LoadedObject, LoadedProgram) in
        options.globals = variant.globals
        let loaded = check("load \(variant.name)") { try BPFObject(bytes: variant.object).load(options: options) }
        check("fill") { try fill(loaded, count: count, markEmpty: variant.markEmpty) }
        return (variant.name, loaded, check("firewall program") { try loaded.program("xdp_firewall") })
      }
      for _ in 0..<rounds {
        for (name, frame) in frames {
          for (program, _, firewall) in firewalls {
            let verdict = measure(firewall, frame, repeatCount, "dp.\(program).\(label).\(name)")
            guard verdict == expectedVerdicts[name] else {
              fail("\(program) answered \(verdict.map { "\($0)" } ?? "?") for \(name)")
            }
          }
          let bare = measure(floor, frame, repeatCount, "dp.floor.\(label).\(name)")
          guard bare == .drop else { fail("xdp_drop did not drop") }
        }
      }
      for (_, loaded, _) in firewalls { loaded.close() }
    }
    floorObject.close()
  }

  /// NAME=OBJECT[,GLOBAL=VALUE|,noskip]...
  static func variant(_ argument: String) -> Variant {
    let parts = argument.split(separator: ",").map(String.init)
    guard let first = parts.first, let equals = first.firstIndex(of: "=") else { fail("datapath: bad variant \(argument)") }
    let name = String(first[..<equals])
    guard !name.isEmpty, !name.contains(".") else { fail("datapath: variant name \(name) must be non-empty, without dots") }
    var result = Variant(name: name, object: readFile(String(first[first.index(after: equals)...])))
    for part in parts.dropFirst() {
      if part == "noskip" { result.markEmpty = false; continue }
      let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
      guard pair.count == 2, let value = UInt32(pair[1]) else { fail("datapath: bad setting \(part)") }
      result.globals[pair[0]] = value
    }
    return result
  }

  static func fill(_ loaded: LoadedObject, count: Int, markEmpty: Bool) throws {
    let blocklist = try loaded.hashMap("BLOCKLIST", key: UInt32.self, value: UInt32.self)
    try blocklist.insert(contentsOf: (0..<UInt32(count)).map { (key: fillKey($0), value: 0) })
    let cidr = try loaded.lpmTrie("CIDR4", key: IPv4Address.self, value: UInt64.self)
    try cidr.insert(0, forKey: IPv4Prefix(prefixLength: 24, address: IPv4Address(203, 0, 113, 0)))
    // BLOCKLIST6 and CIDR6 stay empty: an object with skip words skips them; one with the /16
    // bitmap skips the trie for every /16 but 203.0 (firewall.h).
    guard markEmpty, (try? loaded.dataMap(SkipWords.mapName)) != nil else { return }
    try FirewallMaps(loaded: loaded).markEmptyTables()
  }

  /// Runs `program` on `frame` `repeatCount` times and emits `metric` (the kernel's average,
  /// whole nanoseconds) and `metric.cpu` (this thread's CPU time for the call / repeatCount:
  /// fractional nanoseconds, including the call's fixed cost spread over the repeats).
  static func measure(_ program: LoadedProgram, _ frame: [UInt8], _ repeatCount: UInt32,
                      _ metric: String) -> XDPAction? {
    let cpu = cpuNanoseconds()
    let run = check("test run \(metric)") { try program.testRun(packet: frame, repetitions: repeatCount) }
    let cpuPerRun = Double(cpuNanoseconds() - cpu) / Double(repeatCount)
    emitSample(metric, "ns", nanoseconds(run.averageDuration))
    emitSample(metric + ".cpu", "ns", cpuPerRun)
    return run.action
  }

  static func nanoseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
  }
}
