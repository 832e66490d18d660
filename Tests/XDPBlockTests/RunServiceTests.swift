import Foundation
import Glibc
import Testing
import XDPBlockCore
import XDPKitTestSupport

/// `xdp-block run` as a service: metrics scraped over loopback inside the namespace it runs in,
/// and a blocklist file reloaded while packets flow.
@Suite("xdp-block run: metrics and a reloaded blocklist file", .kernel, .serialized)
struct RunServiceTests {
  /// GET `path` from 127.0.0.1:`port` in namespace B; the body, or nil when nothing answers.
  static func get(_ path: String, port: UInt16, in network: TestNetwork) throws -> String? {
    try network.withNamespace(.b) { () -> String? in
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      guard fd >= 0 else { return nil }
      defer { close(fd) }
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_port = port.bigEndian
      address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
      var timeout = timeval(tv_sec: 5, tv_usec: 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
      let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
      }
      guard connected == 0 else { return nil }
      let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
      _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
      var response: [UInt8] = []
      var buffer = [UInt8](repeating: 0, count: 65536)
      while true {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        response += buffer[0..<count]
      }
      let text = String(decoding: response, as: UTF8.self)
      guard let split = text.range(of: "\r\n\r\n") else { return nil }
      return String(text[split.upperBound...])
    }
  }

  /// Waits (bounded: 10 s) until the tool's log (standard error) contains `text`.
  static func waitForLog(_ run: BackgroundProcess, _ text: String) -> Bool {
    for _ in 0..<100 {
      if run.standardError.contains(text) { return true }
      usleep(100_000)
    }
    return run.standardError.contains(text)
  }

  /// The value of the sample line `name` in a Prometheus text body.
  static func sample(_ body: String, _ name: String) -> Double? {
    for line in body.split(separator: "\n") where line.hasPrefix(name + " ") {
      return Double(line.dropFirst(name.count + 1))
    }
    return nil
  }

  @Test("--metrics-address takes HOST:PORT or [IPv6]:PORT and nothing looser, before anything is attached",
        arguments: ["::1:9464", "[::1]]:9464", "192.0.2.2:+9464", "[]:9464", "192.0.2.2:65536", "192.0.2.2:"])
  func metricsAddressRefused(_ address: String) throws {
    let result = try Tool.run(["run", "--iface", "xdpkit-none0", "--metrics-address", address, "--duration", "1"])
    #expect(result.status == 1, "\(result.standardError)")
    #expect(result.standardError.contains(
      "--metrics-address must be HOST:PORT or [IPv6]:PORT, such as 127.0.0.1:9464"), "\(result.standardError)")
  }

  @Test("counters, entries, top hits and mode over /metrics; /healthz; a file change reloads, a bad one keeps the state")
  func metricsAndReload() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    try network.addAddress("192.0.2.3/24", on: .a)
    try network.disableIPv6(on: .a)
    try network.addPeerNeighbour("192.0.2.3", on: .b)
    // TestNetwork brings each namespace's own loopback up; /metrics is scraped over B's.
    let receiver = try network.countingReceiver(in: .b, port: 7103, address: network.ipv4B)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("xdp-block-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let config = directory.appendingPathComponent("blocklist.yaml")
    try "block: [192.0.2.1]\n".write(to: config, atomically: true, encoding: .utf8)

    let port: UInt16 = 9464
    let nsenter = try Command.locate("nsenter", candidates: ["/usr/bin/nsenter", "/bin/nsenter"])
    let run = try BackgroundProcess(nsenter, [
      "--net=/run/netns/\(network.namespaceB)", Tool.path, "run", "--iface", network.interfaceB,
      "--config", config.path, "--metrics-address", "127.0.0.1:\(port)", "--metrics-blocklist-interval", "1",
      "--duration", "120",
    ])
    defer { run.stop() }
    #expect(run.waitForOutput(containing: "blocking: 192.0.2.1 (exact)", timeout: .seconds(60)), "\(run.standardOutput)\(run.standardError)")

    try network.sendUDP(from: .a, to: network.ipv4B, count: 5, port: 7103, source: "192.0.2.1")
    try network.sendUDP(from: .a, to: network.ipv4B, count: 7, port: 7103, source: "192.0.2.3")
    #expect(receiver.count() == 7)
    var body = ""
    for _ in 0..<100 {
      body = try Self.get("/metrics", port: port, in: network) ?? ""
      if Self.sample(body, #"xdp_block_packets_total{action="pass"}"#) == 7 { break }
      usleep(100_000)
    }
    #expect(Self.sample(body, #"xdp_block_packets_total{action="drop"}"#) == 5, "\(body)")
    #expect(Self.sample(body, #"xdp_block_packets_total{action="pass"}"#) == 7)
    #expect(Self.sample(body, #"xdp_block_bytes_total{action="drop"}"#) == Double(5 * 74))  // 32-byte UDP payloads
    #expect(Self.sample(body, "xdp_block_events_lost_total") == 0)
    #expect(Self.sample(body, #"xdp_block_entries{table="addresses"}"#) == 1)
    #expect(Self.sample(body, #"xdp_block_entries{table="prefixes"}"#) == 0)
    #expect(Self.sample(body, #"xdp_block_entry_hits{entry="192.0.2.1"}"#) == 5)
    #expect(Self.sample(body, #"xdp_block_attach_mode{mode="native"}"#) == 1)
    #expect(try Self.get("/healthz", port: port, in: network) == "ok\n")

    // Block .3 instead of .1: applied within 2 s (bounded wait 10 s), insert first.
    try "block:\n  - 192.0.2.3\n".write(to: config, atomically: true, encoding: .utf8)
    #expect(Self.waitForLog(run, "blocklist.yaml: 1 entries; added 1, removed 1"), "\(run.standardError)")
    try network.sendUDP(from: .a, to: network.ipv4B, count: 4, port: 7103, source: "192.0.2.3")
    try network.sendUDP(from: .a, to: network.ipv4B, count: 2, port: 7103, source: "192.0.2.1")
    #expect(receiver.count() == 9)

    // A malformed file: the error names its line, the blocklist stays.
    try "block:\n  - 192.0.2.3\n  - 192.0.2.999\n".write(to: config, atomically: true, encoding: .utf8)
    #expect(Self.waitForLog(run, "line 3"), "\(run.standardError)")
    #expect(run.standardError.contains("192.0.2.999"))
    #expect(run.standardError.contains("keeping the current blocklist"))
    try network.sendUDP(from: .a, to: network.ipv4B, count: 3, port: 7103, source: "192.0.2.3")
    #expect(receiver.count() == 9)

    run.send(SIGTERM)
    #expect(run.waitForExit(timeout: .seconds(30)) == 0, "\(run.standardError)")
    #expect(run.standardOutput.contains("on SIGTERM: passed 9 packets, dropped 12 packets"), "\(run.standardOutput)")
    #expect(try !network.xdpState(.b).isAttached)
  }
}
