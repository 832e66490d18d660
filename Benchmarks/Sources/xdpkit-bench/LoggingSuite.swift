import Dispatch
import Glibc
import Logging
import Synchronization
import XDPKit

// 9. Program logging (issue 11): ns per packet under BPF_PROG_TEST_RUN for the same packet
// logic (Benchmarks/BPF/xdp_log.c) with no logging, with `xdpkit_info` compiled in but filtered
// out by the level, with it enabled (one record of two arguments per packet; another thread
// drains the ring so that every record is written, none lost), and with the same line through
// bpf_trace_printk. Then the Swift forwarder's rate: records per second that
// `LogRecordForwarder` decodes, formats and hands to a swift-log handler, on one thread.

enum LoggingSuite {
  static func run(_ arguments: [String]) {
    guard arguments.count == 4 else { fail("usage: logging XDP_LOG_O FRAME REPEAT ROUNDS") }
    let bytes = readFile(arguments[0])
    let frame = readFile(arguments[1])
    guard let repeatCount = UInt32(arguments[2]) else { fail("REPEAT must fit in 32 bits") }
    let rounds = integer(arguments[3], "ROUNDS")
    let object = check("parse xdp_log.o") { try BPFObject(bytes: bytes) }

    func load(_ level: ProgramLogLevel) -> LoadedObject {
      var options = LoadOptions()
      options.logLevel = level
      options.maxEntries[LoadedObject.logRingName] = 1 << 24
      return check("load xdp_log.o") { try object.load(options: options) }
    }
    let filtered = load(.warning)
    let enabled = load(.info)
    let ring = check("log ring") { try enabled.ringBuffer(LoadedObject.logRingName) }
    for _ in 0..<rounds {
      _ = DataPathSuite.measure(check("log_none") { try filtered.program("log_none") }, frame, repeatCount, "log.none")
      _ = DataPathSuite.measure(check("log_info") { try filtered.program("log_info") }, frame, repeatCount, "log.filtered")
      let drained = Atomic<Int>(0)
      let done = Atomic<Bool>(false)
      let drainer = DispatchQueue(label: "drain")
      let group = DispatchGroup()
      drainer.async(group: group) {
        while !done.load(ordering: .relaxed) || ring.unconsumedBytes > 0 {
          drained.add(ring.drain(), ordering: .relaxed)
        }
      }
      _ = DataPathSuite.measure(check("log_info") { try enabled.program("log_info") }, frame, repeatCount, "log.enabled")
      done.store(true, ordering: .relaxed)
      group.wait()
      let lost = check("lost") { try enabled.perCPUArray(LoadedObject.logLostName, value: UInt64.self).sum(at: 0) }
      guard lost == 0, drained.load(ordering: .relaxed) == Int(repeatCount) else {
        fail("enabled logging: \(drained.load(ordering: .relaxed)) records drained, \(lost) lost, of \(repeatCount)")
      }
      _ = DataPathSuite.measure(check("log_printk") { try filtered.program("log_printk") }, frame, repeatCount, "log.printk")
    }

    // The forwarder: fill the ring with `count` records, then decode, format and log them all.
    let count = min(Int(repeatCount), 400_000)
    let descriptors = check("descriptors") { try LogDescriptorTable(object: object) }
    let handled = Counter()
    var logger = Logger(label: "bench") { _ in CountingHandler(counter: handled) }
    logger.logLevel = .trace
    for _ in 0..<rounds {
      _ = check("fill") { try enabled.program("log_info").testRun(packet: frame, repetitions: UInt32(count)) }
      var forwarder = LogRecordForwarder(descriptors: descriptors, logger: logger)
      let watch = Stopwatch()
      let read = ring.drain { forwarder.forward($0) }
      let cpu = Double(cpuNanoseconds() - watch.cpu)
      guard read == count, forwarder.malformedRecords == 0 else { fail("forwarder read \(read) of \(count)") }
      emitSample("log.forwarder", "records/s", Double(count) / cpu * 1e9)
      emitSample("log.forwarder.ns", "ns", cpu / Double(count))
    }
    guard handled.value.load(ordering: .relaxed) == count * rounds else { fail("the handler saw \(handled.value.load(ordering: .relaxed)) messages") }
    filtered.close()
    enabled.close()
  }
}

final class Counter: Sendable {
  let value = Atomic<Int>(0)
}

/// A handler that counts messages and keeps nothing, so that the forwarder's own work is measured.
struct CountingHandler: LogHandler {
  let counter: Counter
  var metadata: Logger.Metadata = [:]
  var logLevel: Logger.Level = .trace
  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }
  func log(event: LogEvent) {
    _ = event.message.description
    counter.value.add(1, ordering: .relaxed)
  }
}
