import Foundation
import Logging
import Synchronization
import XDPBlockCore
import XDPKit
import XDPPrograms

// 13. `xdp-block run --config FILE`: the latency of a reload, from writing the blocklist file
// to the firewall's maps holding the new entries. The file alternates between two blocklists
// of ENTRIES entries each that share none: ENTRIES IPv4 addresses (198.18.0.0/15, RFC 2544's
// benchmarking range) and ENTRIES IPv6 addresses (2001:db8::/32), so that each reload inserts
// ENTRIES entries and removes ENTRIES (insert first: for that moment the maps hold both, which
// fits because each family has its own map of 131,072). The file is replaced as an editor or
// the kubelet does (write a temporary file, rename it over), BlocklistReloadService (with its
// BlocklistFileWatcher, stat(2) every 200 ms, a change read once it stayed the same for one more
// poll) sees it, parses it and reconciles the maps; the sample ends when its `applied` callback
// has run. Reported: that wall time (reload.wall; the budget is 2 s), and, measured
// apart, what the service does once the file is read: parse (YAML, Yams) and reconcile
// (reload.parse, reload.apply). XDPKit only; no packet is sent, nothing is attached.

enum ReloadSuite {
  static func run(_ arguments: [String]) {
    guard arguments.count == 2 else { fail("usage: reload SAMPLES ENTRIES") }
    let samples = integer(arguments[0], "SAMPLES")
    let count = integer(arguments[1], "ENTRIES")
    guard count > 0, count <= 131_072 else { fail("ENTRIES must be in 1...131072 (one map per family)") }
    let files = [
      "block:\n" + (0..<count).map { "  - 198.\(18 + ($0 >> 16)).\(($0 >> 8) & 255).\($0 & 255)\n" }.joined(),
      "block:\n" + (0..<count).map { "  - \"2001:db8::\(String($0 >> 16, radix: 16)):\(String($0 & 0xffff, radix: 16))\"\n" }.joined(),
    ]
    let probes = check("probe entries") { [try BlockEntry(parsing: "198.18.0.0"), try BlockEntry(parsing: "2001:db8::")] }
    check("reload") { try measure(files: files, probes: probes, count: count, samples: samples) }
  }

  static func measure(files: [String], probes: [BlockEntry], count: Int, samples: Int) throws {
    let loaded = try BPFObject(bytes: XDPPrograms.firewall).load()
    defer { loaded.close() }
    let maps = try FirewallMaps(loaded: loaded)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("xdpkit-bench-reload-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("blocklist.yaml").path
    try files[0].write(toFile: path, atomically: true, encoding: .utf8)

    // What the service does once it has read the file, alone: parse, then reconcile.
    for index in 1...samples {
      let bytes = Array(files[index % 2].utf8)
      let parse = nowNanoseconds()
      let file = try BlocklistFile(bytes: bytes, source: "bench")
      let apply = nowNanoseconds()
      try BlocklistReloadService.apply(file, to: maps)
      let done = nowNanoseconds()
      emitSample("reload.parse", "ms", Double(apply - parse) / 1e6)
      emitSample("reload.apply", "ms", Double(done - apply) / 1e6)
    }
    try BlocklistReloadService.apply(try BlocklistFile(bytes: Array(files[0].utf8), source: "bench"), to: maps)

    // The whole path, through the service: write the file, wait for the maps.
    let applied = AsyncStream<Void>.makeStream()
    var logger = Logger(label: "bench")
    logger.logLevel = .critical
    let service = BlocklistReloadService(path: path, maps: maps, logger: logger) { _ in applied.continuation.yield() }
    let semaphore = DispatchSemaphore(value: 0)
    let failure = Failure()
    Task {
      await withTaskGroup(of: Void.self) { group in
        group.addTask { try? await service.run() }
        var changes = applied.stream.makeAsyncIterator()
        _ = await changes.next()  // the file as it is at start: nothing to change
        for index in 1...samples {
          let written = nowNanoseconds()
          do {
            try files[index % 2].write(toFile: path, atomically: true, encoding: .utf8)
          } catch {
            failure.set("write \(path): \(error)")
            break
          }
          _ = await changes.next()
          emitSample("reload.wall", "ms", Double(nowNanoseconds() - written) / 1e6)
          // Exactly the new file's entries: the count, one of its entries, none of the old.
          let counts = try? maps.counts()
          let present = try? maps.hits(of: probes[index % 2])
          let gone = try? maps.hits(of: probes[(index + 1) % 2])
          if counts?.addresses != count || present == nil || gone != nil {
            failure.set("after reload \(index): \(String(describing: counts)) entries, expected \(count) of file \(index % 2)")
            break
          }
        }
        group.cancelAll()
      }
      semaphore.signal()
    }
    semaphore.wait()
    if let message = failure.message { fail(message) }
  }

  /// The first failure of the measuring task.
  final class Failure: Sendable {
    private let text = Mutex<String?>(nil)
    func set(_ message: String) { text.withLock { if $0 == nil { $0 = message } } }
    var message: String? { text.withLock { $0 } }
  }
}
