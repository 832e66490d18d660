import Foundation
import Glibc
import Testing
import XDPBlockCore
import XDPKit
import XDPKitTestSupport

/// The built `xdp-block` executable: it sits in the same build directory as this test bundle
/// (`.build/debug/xdp-block` beside `.build/debug/XDPKitPackageTests.xctest`).
enum Tool {
  static var path: String {
    get throws {
      let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        ?? CommandLine.arguments[0]
      var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
      // Bundles on other layouts keep the executable deeper (…/X.xctest/Contents/MacOS).
      for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("xdp-block").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory.deleteLastPathComponent()
      }
      throw TestSupportError.toolNotFound("xdp-block", searched: [executable])
    }
  }

  /// Runs `xdp-block arguments…` to completion (at most `timeout`).
  @discardableResult
  static func run(_ arguments: [String], timeout: Duration = .seconds(60)) throws -> CommandResult {
    try Command.run(try path, arguments, timeout: timeout)
  }

  /// Runs `xdp-block arguments…` with extra environment variables, behind `prefix` (a command
  /// such as `nsenter --net=… --` that then runs it).
  @discardableResult
  static func run(
    _ arguments: [String], environment: [String: String], prefix: [String] = [], timeout: Duration = .seconds(60)
  ) throws -> CommandResult {
    let assignments = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    return try Command.run("/usr/bin/env", prefix + ["env"] + assignments + [try path] + arguments, timeout: timeout)
  }
}

/// An `xdp-block` process running in the background (`run`), its output going to files that
/// the test reads while it runs.
final class BackgroundTool {
  let process = Process()
  private let outURL: URL
  private let errURL: URL

  /// Starts `xdp-block arguments…` with `environment` added to this process's.
  static func withEnvironment(_ arguments: [String], _ environment: [String: String]) throws -> BackgroundTool {
    try BackgroundTool(arguments, environment: environment)
  }

  init(_ arguments: [String], environment: [String: String] = [:]) throws {
    let token = UUID().uuidString
    outURL = FileManager.default.temporaryDirectory.appendingPathComponent("xdp-block-\(token).out")
    errURL = FileManager.default.temporaryDirectory.appendingPathComponent("xdp-block-\(token).err")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    process.executableURL = URL(fileURLWithPath: try Tool.path)
    process.arguments = arguments
    if !environment.isEmpty {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    try process.run()
  }

  deinit {
    // Only our own child, by its pid.
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    try? FileManager.default.removeItem(at: outURL)
    try? FileManager.default.removeItem(at: errURL)
  }

  var output: String { (try? String(contentsOf: outURL, encoding: .utf8)) ?? "" }
  var errors: String { (try? String(contentsOf: errURL, encoding: .utf8)) ?? "" }

  /// Waits until standard output (or, with `stream` \.errors, standard error) contains
  /// `text` (true), the process exits, or `timeout`.
  func waitForOutput(
    containing text: String, in stream: KeyPath<BackgroundTool, String> = \.output, timeout: Duration = .seconds(20)
  ) -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
      if self[keyPath: stream].contains(text) { return true }
      if !process.isRunning { return self[keyPath: stream].contains(text) }
      usleep(20_000)
    }
    return false
  }

  /// Sends `signal` to the process (our own child, by pid).
  func send(_ signal: Int32) {
    if process.isRunning { kill(process.processIdentifier, signal) }
  }

  /// Waits for the process to exit (at most `timeout`; then kills it) and returns its status,
  /// 128 + N when signal N ended it.
  func wait(timeout: Duration = .seconds(20)) -> Int32 {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while process.isRunning && clock.now < deadline { usleep(20_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
  }
}

extension TestNetwork {
  /// Turns IPv6 off on `side`'s veth end, so that it sends no neighbour discovery, MLD or
  /// router solicitation packets that the firewall's counters would see.
  func disableIPv6(on side: Side) throws {
    let interface = interfaceName(side)
    try withNamespace(side) {
      try "1".write(toFile: "/proc/sys/net/ipv6/conf/\(interface)/disable_ipv6", atomically: false, encoding: .utf8)
    }
  }

  /// The XDP state of `side`'s veth end.
  func xdpState(_ side: Side) throws -> XDPAttachmentState {
    let interface = interfaceName(side)
    return try withNamespace(side) { try XDP.attachment(on: .name(interface)) }
  }

  /// Polls `xdpState(side)` until `condition` holds or `timeout` passes; returns the last state.
  func waitForXDPState(
    _ side: Side, timeout: Duration = .seconds(5), until condition: (XDPAttachmentState) -> Bool
  ) throws -> XDPAttachmentState {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    var state = try xdpState(side)
    while !condition(state) && clock.now < deadline {
      usleep(20_000)
      state = try xdpState(side)
    }
    return state
  }
}

/// Removes xdp-block's state of an interface if a test left it (after a failure): detaches
/// it, or at least removes the directory without following links.
func removePins(interface: String, namespace: String?, root: String = PinLayout.configuredRoot) {
  guard let layout = try? PinLayout(interface: interface, namespace: namespace, root: root) else { return }
  _ = try? PersistentFirewall.detach(layout: layout)
  guard var parent = try? BPFFSDirectory.open(layout.root) else { return }
  for component in layout.components.dropLast() {
    guard let next = try? parent.subdirectory(component) else { return }
    parent = next
  }
  _ = try? parent.removeTree(layout.components.last ?? "")
}

/// Runs `body` with xdp-block attached alone (`attach --direct`) to the second end of a fresh
/// test network, under a private bpffs root: the root, the interface and its namespace. Removes
/// the state and the network after, also when `body` throws.
func withAttachedFirewall(_ body: (StateSafetyTests.Root, _ interface: String, _ namespace: String) throws -> Void) throws {
  let network = try TestNetwork()
  defer { network.destroy() }
  let root = try StateSafetyTests.Root()
  let (iface, ns) = (network.interfaceB, network.namespaceB)
  defer { removePins(interface: iface, namespace: ns, root: root.path) }
  try #require(try root.run(["attach", iface, "--netns", ns, "--direct"]).status == 0)
  try body(root, iface, ns)
}

/// Ethernet frames for test runs, with an optional VLAN tag (802.1Q or 802.1ad).
enum Frame {
  static let ethernetHeader: [UInt8] = [0x02, 0x58, 0x4b, 0, 0, 0x0b, 0x02, 0x58, 0x4b, 0, 0, 0x0a]

  static func tagged(_ etherType: [UInt8], vlan: (tpid: UInt16, id: UInt16)?) -> [UInt8] {
    var frame = ethernetHeader
    if let vlan {
      frame += [UInt8(vlan.tpid >> 8), UInt8(vlan.tpid & 0xff), UInt8(vlan.id >> 8), UInt8(vlan.id & 0xff)]
    }
    return frame + etherType
  }

  /// Ethernet (+ tag) + IPv4 + UDP with `payload` zero bytes, from `source` to 192.0.2.2.
  static func ipv4UDP(from source: String, vlan: (tpid: UInt16, id: UInt16)? = nil, payload: Int = 18) throws -> [UInt8] {
    let from = try IPv4Address(parsing: source).bytes
    let totalLength = 20 + 8 + payload
    var ip: [UInt8] = [0x45, 0, UInt8(totalLength >> 8), UInt8(totalLength & 0xff), 0, 0, 0x40, 0, 64, 17, 0, 0]
    ip += from + [192, 0, 2, 2]
    var sum: UInt32 = 0
    for i in stride(from: 0, to: 20, by: 2) { sum += UInt32(ip[i]) << 8 | UInt32(ip[i + 1]) }
    while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
    let checksum = ~UInt16(sum)
    ip[10] = UInt8(checksum >> 8)
    ip[11] = UInt8(checksum & 0xff)
    let udp: [UInt8] = [0x30, 0x39, 0x30, 0x39, UInt8((8 + payload) >> 8), UInt8((8 + payload) & 0xff), 0, 0]
    return tagged([0x08, 0x00], vlan: vlan) + ip + udp + [UInt8](repeating: 0, count: payload)
  }

  /// Ethernet (+ tag) + IPv6 + UDP with `payload` zero bytes, from `source` to 2001:db8::2.
  static func ipv6UDP(from source: String, vlan: (tpid: UInt16, id: UInt16)? = nil, payload: Int = 18) throws -> [UInt8] {
    let from = try IPv6Address(parsing: source).bytes
    let to = try IPv6Address(parsing: "2001:db8::2").bytes
    let length = 8 + payload
    var ip: [UInt8] = [0x60, 0, 0, 0, UInt8(length >> 8), UInt8(length & 0xff), 17, 64]
    ip += from + to
    let udp: [UInt8] = [0x30, 0x39, 0x30, 0x39, UInt8(length >> 8), UInt8(length & 0xff), 0, 0]
    return tagged([0x86, 0xdd], vlan: vlan) + ip + udp + [UInt8](repeating: 0, count: payload)
  }
}
