import Foundation
import Testing
import XDPKit
import XDPKitTestSupport

/// The redirect maps (DEVMAP, DEVMAP_HASH, CPUMAP) with the programs of
/// Fixtures/RedirectPrograms.c: typed views, the fallback action, and real frames sent
/// between namespaces and counted where they land.
@Suite("Redirect maps", .kernel, .serialized)
struct RedirectMapTests {
  static let port: UInt16 = 9999
  static let burst = 200

  static func load(_ globals: [String: any BitwiseCopyable & Sendable] = [:]) throws -> LoadedObject {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/RedirectPrograms.o").path
    let bytes = try #require(FileManager.default.contents(atPath: path))
    return try BPFObject(bytes: [UInt8](bytes)).load(options: LoadOptions(globals: globals))
  }

  /// Ethernet + IPv4 + UDP from 192.0.2.1 to 192.0.2.2 port 9999, for test runs.
  static var testFrame: [UInt8] {
    var frame = Packet.ipv4UDP(source: (192, 0, 2, 1))
    frame[36] = UInt8(port >> 8)
    frame[37] = UInt8(port & 0xff)
    return frame
  }

  @Test("views check the map type and value size before any call")
  func viewChecks() throws {
    let loaded = try Self.load()
    #expect(throws: MapError.wrongType(map: "CPUS", expected: [.devMap], actual: .cpuMap)) {
      try DevMap(loaded.map("CPUS"))
    }
    #expect(throws: MapError.wrongType(map: "DEVICES", expected: [.xskMap], actual: .devMap)) {
      try XSKMap(loaded.map("DEVICES"))
    }
    let plain = try loaded.devMap("PLAIN_DEVICES")
    #expect(plain.supportsPrograms == false)
    #expect(try loaded.devMap("DEVICES").supportsPrograms == true)
    let program = try loaded.program("on_device")
    #expect(throws: MapError.valueSizeMismatch(map: "PLAIN_DEVICES", expected: 4, actual: 8)) {
      try plain.set(interfaceIndex: 1, program: program.fileDescriptor, at: 0)
    }
    #expect(throws: MapError.indexOutOfRange(map: "PLAIN_DEVICES", index: 4, count: 4)) {
      try plain.set(interfaceIndex: 1, at: 4)
    }
    #expect(throws: MapError.indexOutOfRange(map: "CPUS", index: 8, count: 8)) {
      try loaded.cpuMap("CPUS").set(queueSize: 64, forCPU: 8)
    }
  }

  @Test("entries round-trip with the program's id, and removal empties them")
  func roundTrip() throws {
    let loaded = try Self.load()
    let devices = try loaded.devMap("DEVICES")
    let onDevice = try loaded.program("on_device")
    // ifindex 1 is the loopback of the namespace the test runs in, which always exists.
    try devices.set(interfaceIndex: 1, program: onDevice.fileDescriptor, at: 2)
    #expect(try devices.entry(at: 2) == DevMapEntry(interfaceIndex: 1, programID: onDevice.id))
    try devices.set(interfaceIndex: 1, at: 3)
    #expect(try devices.entry(at: 3) == DevMapEntry(interfaceIndex: 1, programID: nil))
    #expect(try devices.entry(at: 0) == nil)
    try devices.remove(at: 2)
    #expect(try devices.entry(at: 2) == nil)
    // Removing an empty array slot is not an error.
    try devices.remove(at: 2)

    let plain = try loaded.devMap("PLAIN_DEVICES")
    try plain.set(interfaceIndex: 1, at: 1)
    #expect(try plain.entry(at: 1) == DevMapEntry(interfaceIndex: 1))

    let byKey = try loaded.devMapHash("DEVICES_BY_KEY")
    try byKey.set(interfaceIndex: 1, program: onDevice.fileDescriptor, forKey: 0xdead)
    #expect(try byKey.entry(forKey: 0xdead) == DevMapEntry(interfaceIndex: 1, programID: onDevice.id))
    #expect(try byKey.entry(forKey: 0xbeef) == nil)
    #expect(try byKey.remove(forKey: 0xdead) == true)
    #expect(try byKey.entry(forKey: 0xdead) == nil)

    let cpus = try loaded.cpuMap("CPUS")
    let onCPU = try loaded.program("on_cpu")
    try cpus.set(queueSize: 192, program: onCPU.fileDescriptor, forCPU: 0)
    #expect(try cpus.entry(forCPU: 0) == CPUMapEntry(queueSize: 192, programID: onCPU.id))
    try cpus.remove(forCPU: 0)
    #expect(try cpus.entry(forCPU: 0) == nil)
  }

  @Test("an empty slot returns the fallback action in the flags' low bits")
  func fallbackAction() throws {
    let loaded = try Self.load()
    let program = try loaded.program("redirect_device")
    #expect(try program.testRun(packet: Self.testFrame).action == .drop)
    try loaded.devMap("DEVICES").set(interfaceIndex: 1, at: 0)
    #expect(try program.testRun(packet: Self.testFrame).action == .redirect)
    // Not a test frame: passed without a lookup.
    #expect(try program.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1))).action == .pass)
  }

  /// Adds a second veth pair c–d inside namespace B (up) and returns the ifindex of c.
  static func addSecondPair(_ network: TestNetwork) throws -> Int32 {
    let c = network.interfaceB + "c", d = network.interfaceB + "d"
    try network.ip(.b, "link", "add", c, "type", "veth", "peer", "name", d)
    try network.ip(.b, "link", "set", c, "up")
    try network.ip(.b, "link", "set", d, "up")
    return try network.withNamespace(.b) { try XDPKitSys.interfaceIndex(named: c) }
  }

  /// Sends the burst from A to B's port 9999, where `program` (attached in generic mode)
  /// redirects it through a DEVMAP or DEVMAP_HASH entry to veth c, whose entry program counts
  /// each frame right before c transmits it. Returns COUNTS.
  func redirectThroughDevices(
    program name: String, configure: (LoadedObject, Int32) throws -> Void
  ) throws -> [UInt64] {
    let network = try TestNetwork()
    defer { network.destroy() }
    let indexC = try Self.addSecondPair(network)
    let loaded = try Self.load()
    // In B: the kernel resolves a DEVMAP entry's ifindex in the updating thread's namespace
    // (outside B the index names another interface, or none: EINVAL on 6.1).
    try network.withNamespace(.b) { try configure(loaded, indexC) }
    let link = try network.withNamespace(.b) {
      try loaded.xdpProgram(name).attach(to: .name(network.interfaceB), mode: .generic)
    }
    let sent = try UDPBurst.send(network, from: .a, count: Self.burst, port: Self.port)
    #expect(sent == Self.burst)
    let counts = try loaded.arrayMap("COUNTS", value: UInt64.self)
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .seconds(5))
    while try counts.value(at: 2) < UInt64(Self.burst), clock.now < deadline { usleep(10_000) }
    withExtendedLifetime(link) {}
    return try (0..<4).map { try counts.value(at: UInt32($0)) }
  }

  @Test("DEVMAP: every frame is redirected to the entry's interface and its program runs on each")
  func devMapRedirect() throws {
    let counts = try redirectThroughDevices(program: "redirect_device") { loaded, index in
      try loaded.devMap("DEVICES").set(
        interfaceIndex: index, program: loaded.program("on_device").fileDescriptor, at: 0)
    }
    let n = UInt64(Self.burst)
    #expect(counts == [n, 0, n, 0])
  }

  @Test("DEVMAP_HASH: frames go to the entry under key 7 and its program runs on each")
  func devMapHashRedirect() throws {
    let counts = try redirectThroughDevices(program: "redirect_device_by_key") { loaded, index in
      try loaded.devMapHash("DEVICES_BY_KEY").set(
        interfaceIndex: index, program: loaded.program("on_device").fileDescriptor, forKey: 7)
      // A decoy under another key: never used.
      try loaded.devMapHash("DEVICES_BY_KEY").set(interfaceIndex: 1, forKey: 8)
    }
    let n = UInt64(Self.burst)
    #expect(counts == [n, 0, n, 0])
  }

  @Test("CPUMAP with a program: every frame reaches the UDP socket through the other CPU")
  func cpuMapRedirect() throws {
    let cpus = try SystemInfo.possibleCPUCount()
    let target = UInt32(cpus > 1 ? 1 : 0)
    let network = try TestNetwork()
    defer { network.destroy() }
    let loaded = try Self.load(["target_cpu": target])
    try loaded.cpuMap("CPUS").set(
      queueSize: 256, program: loaded.program("on_cpu").fileDescriptor, forCPU: target)
    let receiver = try network.countingReceiver(in: .b, port: Self.port, address: network.ipv4B)
    let link = try network.withNamespace(.b) {
      try loaded.xdpProgram("redirect_cpu").attach(to: .name(network.interfaceB), mode: .native)
    }
    // Paced in small bursts: the CPU queue holds 256 frames.
    var sent = 0
    for _ in 0..<(Self.burst / 50) {
      sent += try UDPBurst.send(network, from: .a, count: 50, port: Self.port)
      usleep(20_000)
    }
    #expect(sent == Self.burst)
    #expect(receiver.count() == Self.burst)
    let counts = try loaded.arrayMap("COUNTS", value: UInt64.self)
    #expect(try counts.value(at: 0) == UInt64(Self.burst))
    #expect(try counts.value(at: 3) == UInt64(Self.burst))
    withExtendedLifetime(link) {}
  }
}
