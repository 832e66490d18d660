import Glibc
import XDPBlockCore
import XDPKit
import XDPPrograms

// 7. `xdp-block add --file` without the process around it: 100,000 IPv4 addresses as the
// lines of a blocklist file, parsed (BlockEntry.parseLines) and added to the firewall's
// BLOCKLIST, once through FirewallMaps.add(contentsOf:) (batch lookup + BPF_MAP_UPDATE_BATCH),
// once one by one through FirewallMaps.add(_:) (one BPF_MAP_UPDATE_ELEM per entry, what `add`
// did before). Each measurement starts from a freshly loaded firewall with empty maps and
// reports the user-space and kernel CPU time (getrusage RUSAGE_SELF; one thread; the kernel
// splits the two by sampling at the tick, so single samples are coarse) and the thread's total
// CPU time (CLOCK_THREAD_CPUTIME_ID, exact). The
// addresses come from 198.18.0.0/15 (RFC 2544's benchmarking range); no packet is sent.
// XDPKit only: libbpf has no counterpart of this tool path.

enum BulkSuite {
  static func run(_ arguments: [String]) {
    guard arguments.count == 2 else { fail("usage: bulk SAMPLES ENTRIES") }
    let samples = integer(arguments[0], "SAMPLES")
    let count = integer(arguments[1], "ENTRIES")
    guard count > 0, count <= 131_072 else { fail("ENTRIES must be in 1...131072 (198.18.0.0/15, one BLOCKLIST)") }
    var text = "# generated\n"
    for n in 0..<count { text += "198.\(18 + (n >> 16)).\((n >> 8) & 255).\(n & 255)\n" }
    let bytes = Array(text.utf8)
    for _ in 0..<samples {
      check("bulk batch sample") { try sample(bytes, count: count, metric: "bulk.batch") { maps, entries in
        let change = try maps.add(contentsOf: entries)
        if change.changed.count != count { fail("add(contentsOf:) added \(change.changed.count) of \(count)") }
      } }
      check("bulk loop sample") { try sample(bytes, count: count, metric: "bulk.loop") { maps, entries in
        var added = 0
        for entry in entries where try maps.add(entry) { added += 1 }
        if added != count { fail("add(_:) added \(added) of \(count)") }
      } }
    }
  }

  static func sample(
    _ bytes: [UInt8], count: Int, metric: String,
    _ add: (FirewallMaps, [BlockEntry]) throws -> Void
  ) throws {
    let loaded = try BPFObject(bytes: XDPPrograms.firewall).load()
    defer { loaded.close() }
    let maps = try FirewallMaps(loaded: loaded)
    let start = ThreadTimes()
    let cpu = cpuNanoseconds()
    let wall = nowNanoseconds()
    let entries = try BlockEntry.parseLines(bytes, source: "bench")
    try add(maps, entries)
    let elapsed = ThreadTimes() - start
    emitSample(metric + ".user", "ms", elapsed.user * 1e3)
    emitSample(metric + ".system", "ms", elapsed.system * 1e3)
    emitSample(metric + ".cpu", "ms", Double(cpuNanoseconds() - cpu) / 1e6)
    emitSample(metric + ".wall", "ms", Double(nowNanoseconds() - wall) / 1e6)
    if try maps.counts().addresses != count { fail("BLOCKLIST does not hold \(count) entries") }
  }
}

/// The process's user and system CPU time so far, in seconds (the suite runs on one thread;
/// Glibc's module does not export RUSAGE_THREAD).
struct ThreadTimes {
  var user: Double
  var system: Double

  init() {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
  }

  private init(user: Double, system: Double) {
    self.user = user
    self.system = system
  }

  static func - (lhs: ThreadTimes, rhs: ThreadTimes) -> ThreadTimes {
    ThreadTimes(user: lhs.user - rhs.user, system: lhs.system - rhs.system)
  }
}
