import Foundation
import Logging
import Testing
import XDPKit
import XDPKitTestSupport
import XDPPrograms

/// LogProgram.o (Fixtures/LogProgram.c), the fixture of the logging tests.
enum LogFixture {
  static func object() throws -> BPFObject {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/LogProgram.o").path
    guard let bytes = FileManager.default.contents(atPath: path) else {
      throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
    }
    return try BPFObject(bytes: [UInt8](bytes))
  }

  /// 192.0.2.1 → 198.51.100.2, Ethernet source 02:58:4b:00:00:0a.
  static let packet = Packet.ipv4UDP(source: (192, 0, 2, 1), destination: (198, 51, 100, 2))
}

@Suite("BPF logging (kernel)", .serialized)
struct LogKernelTests {
  @Test("every specifier prints exactly what the kernel would", .kernel)
  func everySpecifier() async throws {
    var options = LoadOptions()
    options.logLevel = .info
    let loaded = try LogFixture.object().load(options: options)
    // The descriptors' section has BTF (static variables) but no map: the kernel takes the BTF.
    #expect(loaded.notes.filter { $0.contains("BTF") } == [])
    let logs = CapturedLogs()
    let forwarding = try loaded.forwardLogs(to: logs.logger())
    defer { forwarding.cancel() }
    let run = try loaded.program("log_all").testRun(packet: LogFixture.packet)
    #expect(run.action == .pass)
    let expected = [
      "d=-42 i=-2147483648 u=4294967295 x=deadbeef X=ABC",
      "lld=-9000000000 llu=18446744073709551615 llx=123456789abcdef ld=-1",
      "hhd=-5 hu=65535 c=A %",
      "ip=192.0.2.1 ip6=2001:db8::1 mac=02:00:00:00:00:01 s=firewall",
      "packet from 192.0.2.1 to 198.51.100.2, eth src 02:58:4b:00:00:0a",
      "no arguments",
      "1 2 3 4 5 6 7 8",
    ]
    let entries = await logs.wait(for: expected.count)
    #expect(entries.map(\.message) == expected)
    #expect(entries.allSatisfy { $0.level == .info && $0.source == "bpf" })
    #expect(entries.allSatisfy { $0.metadata["program"] == "log_all" })
    let cpus = Set(entries.compactMap { $0.metadata["cpu"].flatMap { Int($0) } })
    #expect(cpus.count == 1)
    let stamps = entries.compactMap { $0.metadata["timestamp"].flatMap { UInt64($0) } }
    #expect(stamps.count == expected.count && stamps == stamps.sorted() && stamps[0] > 0)
  }

  @Test("log calls work in another program type: a raw tracepoint run on CPU 1", .kernel)
  func rawTracepoint() async throws {
    let loaded = try LogFixture.object().load()
    let logs = CapturedLogs()
    let forwarding = try loaded.forwardLogs(to: logs.logger())
    defer { forwarding.cancel() }
    let cpu = try SystemInfo.possibleCPUCount() - 1
    #expect(try loaded.program("log_raw_tp").testRun(context: [UInt8](repeating: 0, count: 8), cpu: cpu) == 0)
    let entries = await logs.wait(for: 1)
    #expect(entries.map(\.message) == ["raw tracepoint on CPU \(cpu)"])
    #expect(entries.first?.level == .warning && entries.first?.metadata["cpu"] == "\(cpu)")
    #expect(entries.first?.metadata["program"] == "log_raw_tp")
  }

  @Test("runLogForwarding forwards while its task runs and returns when the task is cancelled", .kernel)
  func structuredForwarding() async throws {
    let loaded = try LogFixture.object().load()
    let logs = CapturedLogs()
    let logger = logs.logger()
    let task = Task { try await loaded.runLogForwarding(to: logger, lossReportInterval: .milliseconds(20)) }
    _ = try loaded.program("log_one").testRun(packet: LogFixture.packet, repetitions: 3)
    let runs = await logs.wait(for: 3) { $0.message.hasPrefix("run ") }
    #expect(runs.map(\.message) == ["run 0", "run 1", "run 2"])
    task.cancel()
    try await task.value
    // Stopped: a record written now stays in the ring.
    _ = try loaded.program("log_one").testRun(packet: LogFixture.packet)
    try await Task.sleep(for: .milliseconds(200))
    #expect(logs.all.filter { $0.message.hasPrefix("run ") }.count == 3)
    #expect(try loaded.ringBuffer(LoadedObject.logRingName).drain() == 1)
  }

  @Test("a disabled level writes no record and the verifier drops its code", .kernel)
  func levelFiltering() async throws {
    var counts: [ProgramLogLevel: (messages: [String], instructions: Int)] = [:]
    for level in [ProgramLogLevel.error, .info, .trace] {
      var options = LoadOptions()
      options.logLevel = level
      let loaded = try LogFixture.object().load(options: options)
      let ring = try loaded.ringBuffer(LoadedObject.logRingName)
      _ = try loaded.program("log_levels").testRun(packet: LogFixture.packet)
      let table = try LogDescriptorTable(object: loaded.object)
      var messages: [String] = []
      ring.drain { bytes in
        if let record = try? LogRecord(decoding: bytes, descriptors: table) { messages.append(record.message) }
      }
      counts[level] = (messages, try loaded.program("log_levels").info().translatedSize / 8)
    }
    #expect(counts[.error]?.messages == ["level error"])
    #expect(counts[.info]?.messages == ["level error", "level warn", "level info"])
    #expect(counts[.trace]?.messages == ["level error", "level warn", "level info", "level debug", "level trace"])
    let error = try #require(counts[.error]?.instructions)
    let info = try #require(counts[.info]?.instructions)
    let trace = try #require(counts[.trace]?.instructions)
    #expect(error < info && info < trace, "xlated instructions: error \(error), info \(info), trace \(trace)")
  }

  @Test("a full ring counts its losses and the forwarder reports them", .kernel)
  func fullRingReportsLosses() async throws {
    var options = LoadOptions()
    options.maxEntries[LoadedObject.logRingName] = 4096
    let loaded = try LogFixture.object().load(options: options)
    // Fill the ring before anyone reads. A record takes 32 bytes (8 of ring header, 16 of log
    // header, 4 of argument, 4 of padding), and the kernel keeps the producer less than a whole
    // ring ahead of the consumer: 4096 / 32 - 1 = 127 records fit, 73 are lost.
    _ = try loaded.program("log_one").testRun(packet: LogFixture.packet, repetitions: 200)
    let lost = try loaded.perCPUArray(LoadedObject.logLostName, value: UInt64.self).values(at: 0).reduce(0, +)
    #expect(lost == 73)
    let logs = CapturedLogs()
    let forwarding = try loaded.forwardLogs(to: logs.logger(), lossReportInterval: .milliseconds(50))
    let warnings = await logs.wait(for: 1) { $0.level == .warning }
    let runs = await logs.wait(for: 127) { $0.message.hasPrefix("run ") }
    forwarding.cancel()
    await forwarding.wait()
    #expect(warnings.map(\.message) == ["73 BPF log record(s) lost: the log ring XDPKIT_LOG was full"])
    #expect(warnings.first?.metadata["lost"] == "73")
    #expect(runs.map(\.message) == (0..<127).map { "run \($0)" })
  }

  @Test("an object without log calls has no log maps and cannot forward", .kernel)
  func noLogCalls() throws {
    let loaded = try BPFObject(bytes: XDPPrograms.pass).load()
    #expect(!loaded.mapNames.contains(LoadedObject.logRingName))
    #expect(!loaded.mapNames.contains(LoadedObject.logLostName))
    #expect(throws: LogForwardingError.self) { try loaded.forwardLogs(to: CapturedLogs().logger()) }
    let closed = try LogFixture.object().load()
    closed.close()
    do {
      _ = try closed.forwardLogs(to: CapturedLogs().logger())
      Issue.record("forwarding from a closed object started")
    } catch {
      #expect("\(error)" == "log map XDPKIT_LOG: the loaded object has been closed")
    }
  }
}
