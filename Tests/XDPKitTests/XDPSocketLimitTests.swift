import Foundation
import SystemPackage
import Testing
import XDPKitTestSupport

@testable import XDPKit

/// AF_XDP sockets at their limits: refused configurations with their specific errors, full
/// rings, the statistics that count them, oversized frames, and nothing left after close.
@Suite("AF_XDP socket limits", .kernel, .serialized)
struct XDPSocketLimitTests {
  typealias Base = XDPSocketTests

  @Test("configurations the kernel would refuse are named before any call (the interface is never looked up)")
  func invalidConfigurations() throws {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    #expect(throws: XDPSocketError.invalidFrameSize(3000, pageSize: page)) {
      _ = try XDPSocket(interface: "xk-no-such-if", queue: 0, configuration: .init(frameSize: 3000), redirect: .none)
    }
    #expect(throws: XDPSocketError.invalidRingSize(.rx, 1000)) {
      _ = try XDPSocket(interface: "xk-no-such-if", queue: 0, configuration: .init(rxRingSize: 1000), redirect: .none)
    }
    #expect(throws: XDPSocketError.invalidHeadroom(4000, frameSize: 4096)) {
      _ = try XDPSocket(interface: "xk-no-such-if", queue: 0, configuration: .init(headroom: 4000), redirect: .none)
    }
    #expect(throws: XDPSocketError.noSuchInterface("xk-no-such-if")) {
      _ = try XDPSocket(interface: "xk-no-such-if", queue: 0, redirect: .none)
    }
  }

  @Test("binding errors: zero-copy on veth, a queue that does not exist, a queue already taken")
  func bindErrors() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let name = network.interfaceB
    try network.withNamespace(.b) {
      #expect(throws: XDPSocketError.zeroCopyUnsupported(interface: name, queue: 0)) {
        _ = try XDPSocket(
          interface: .name(name), queue: 0, configuration: .init(bindMode: .zeroCopy), redirect: .none)
      }
      #expect(throws: XDPSocketError.noSuchQueue(interface: name, queue: 5, available: 1)) {
        _ = try XDPSocket(interface: .name(name), queue: 5, redirect: .none)
      }
    }
    let first = try Base.makeSocket(network) {
      try XDPSocket(interface: .name(name), queue: 0, configuration: .init(bindMode: .copy), redirect: .none)
    }
    #expect(first.mode == .copy)
    _ = try network.withNamespace(.b) {
      #expect(throws: XDPSocketError.queueBusy(interface: name, queue: 0)) {
        _ = try XDPSocket(interface: .name(name), queue: 0, redirect: .none)
      }
    }
    _ = consume first
  }

  @Test("huge pages: the specific error where none are reserved")
  func hugePages() throws {
    let meminfo = try String(contentsOfFile: "/proc/meminfo", encoding: .utf8)
    let free = meminfo.split(separator: "\n").first { $0.hasPrefix("HugePages_Free:") }
      .flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    let configuration = XDPSocketConfiguration(frameCount: 1024, hugePages: true)
    let network = try TestNetwork()
    defer { network.destroy() }
    if free * (2 << 20) < 4096 * 1024 {
      _ = try network.withNamespace(.b) {
        #expect(throws: XDPSocketError.hugePagesUnavailable(bytes: 4 << 20, errno: .noMemory)) {
          _ = try XDPSocket(
            interface: .name(network.interfaceB), queue: 0, configuration: configuration, redirect: .none)
        }
      }
    } else {
      let socket = try Base.makeSocket(network) {
        try XDPSocket(
          interface: .name(network.interfaceB), queue: 0, configuration: configuration, redirect: .none)
      }
      #expect(socket.frameCount == 1024)
    }
  }

  @Test("a full RX ring drops the rest and counts it; the ring's frames are intact")
  func fullReceiveRing() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let program = try Base.udpProgram()
    var socket = try Base.udpSocket(
      network, program: program, .init(frameCount: 512, fillRingSize: 256, rxRingSize: 64))
    let link = try Base.attach(program, network)
    let peer = try UDPPeer(network, side: .a, port: UDPBurst.sourcePort)
    #expect(try peer.send(to: network.ipv4B, port: Base.port, count: 100) == 100)
    // Nothing is taken until the burst is in: 64 fit, 36 find the ring full.
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .seconds(5))
    var statistics = try socket.statistics()
    while statistics.receiveRingFull < 36, clock.now < deadline {
      usleep(10_000)
      statistics = try socket.statistics()
    }
    #expect(statistics == XDPSocketStatistics(receiveRingFull: 36))
    #expect(socket.pendingReceives() == 64)
    let frames = try Base.receive(&socket, count: 64)
    #expect(frames.map(\.sequence) == Array(0..<64))
    #expect(frames.allSatisfy { $0.payload == UDPPeer.payload($0.sequence, size: 32) })
    withExtendedLifetime(link) {}
  }

  @Test("a full TX ring takes no more; woken, the kernel sends all and the frames come back")
  func fullTransmitRing() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    var socket = try Base.makeSocket(network) {
      try XDPSocket(
        interface: .name(network.interfaceB), queue: 0,
        configuration: .init(frameCount: 512, fillRingSize: 64, txRingSize: 64), redirect: .none)
    }
    let peer = try UDPPeer(network, side: .a, port: UDPBurst.sourcePort)
    let template = Self.frame(to: peer)
    let queued = try socket.transmit(count: 100, wakeUp: false) { index, frame in
      template.withUnsafeBytes { frame.copyMemory(from: $0) }
      frame.storeBytes(of: UInt32(index).bigEndian, toByteOffset: UDPFrame.headerLength, as: UInt32.self)
      return template.count
    }
    #expect(queued == 64)
    #expect(try socket.transmit(count: 10, wakeUp: false) { _, _ in 60 } == 0)
    var free = 0
    for _ in 0..<200 where free != socket.transmitFrameCount {
      free = try socket.freeTransmitFrames()
      usleep(5_000)
    }
    #expect(free == socket.transmitFrameCount)
    let replies = peer.receive(count: 64)
    #expect(replies.map { UDPFrame.sequence(of: $0) }.sorted() == Array(0..<64))
    #expect(try socket.statistics().transmitInvalidDescriptors == 0)
  }

  @Test("a frame larger than a UMEM frame is refused and nothing of its batch is queued")
  func oversizedFrame() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    var socket = try Base.makeSocket(network) {
      try XDPSocket(
        interface: .name(network.interfaceB), queue: 0,
        configuration: .init(frameSize: 2048, frameCount: 256), redirect: .none)
    }
    #expect(socket.transmitCapacity == 2048)
    let free = try socket.freeTransmitFrames()
    let big = [UInt8](repeating: 0xab, count: 3000)
    #expect(throws: XDPSocketError.frameTooLarge(length: 3000, capacity: 2048)) {
      try big.withUnsafeBytes { _ = try socket.transmit($0) }
    }
    #expect(throws: XDPSocketError.frameTooLarge(length: 5000, capacity: 2048)) {
      try socket.transmit(count: 3) { index, _ in index == 2 ? 5000 : 60 }
    }
    #expect(try socket.freeTransmitFrames() == free)
  }

  @Test("after close no descriptor, mapping or program is left")
  func nothingLeftAfterClose() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    // Other suites open and close descriptors and map memory at the same time, so the check
    // is by identity, not by count: a descriptor is its /proc/self/fd link plus the object
    // ids in its fdinfo (prog_id, map_id, link_id); a mapping is its exact address range.
    func read(_ path: String) -> String {
      guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
      defer { try? handle.close() }
      // /proc files report size 0: read to the end instead of trusting the size.
      return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
    }
    func identity(_ fd: String) -> String {
      let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? "?"
      let ids = read("/proc/self/fdinfo/\(fd)").split(separator: "\n").filter { $0.contains("_id:") }
      return ([target] + ids.map(String.init)).joined(separator: " ")
    }
    func openIdentities() throws -> Set<String> {
      Set(try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").map(identity))
    }
    func mappedRanges() -> Set<String> {
      Set(read("/proc/self/maps").split(separator: "\n").map { String($0.prefix { $0 != " " }) })
    }

    var socket = try Base.makeSocket(network) { try XDPSocket(interface: .name(network.interfaceB), queue: 0) }
    var owned: Set<String> = []
    do {
      // In a scope of its own: the references taken here must not keep anything open.
      let redirectObject = socket.redirectObject
      let linkDescriptor = socket.redirectProgram?.linkDescriptor?.rawValue
      let object = try #require(redirectObject)
      let descriptors = [
        socket.descriptor, try object.program(XDPSocket.defaultProgramName).fileDescriptor.rawValue,
        try object.map("XSKS").fileDescriptor.rawValue, try #require(linkDescriptor),
      ]
      owned = Set(descriptors.map { identity(String($0)) })
    }
    #expect(owned.count == 4)
    #expect(owned.allSatisfy { $0.hasPrefix("socket:[") || $0.contains("_id:") })
    // The UMEM and the four rings, each as its exact address range.
    let regions = [
      (socket.umem.base, socket.configuration.umemLength), (socket.rings.fill.base, socket.rings.fill.length),
      (socket.rings.completion.base, socket.rings.completion.length),
      (socket.rings.rx.base, socket.rings.rx.length), (socket.rings.tx.base, socket.rings.tx.length),
    ].map { base, length in
      // The kernel maps whole pages.
      let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
      let end = UInt(bitPattern: base) + (UInt(length) + page - 1) / page * page
      return String(UInt(bitPattern: base), radix: 16) + "-" + String(end, radix: 16)
    }
    // Each region is mapped: inside one line of /proc/self/maps. Not necessarily a line of its
    // own: the kernel merges adjacent mappings of the same file and flags into one.
    let mapped = mappedRanges().compactMap { range -> (UInt, UInt)? in
      let bounds = range.split(separator: "-").compactMap { UInt($0, radix: 16) }
      return bounds.count == 2 ? (bounds[0], bounds[1]) : nil
    }
    for region in regions {
      let bounds = region.split(separator: "-").compactMap { UInt($0, radix: 16) }
      #expect(mapped.contains { $0.0 <= bounds[0] && bounds[1] <= $0.1 }, "\(region) is not mapped")
    }

    let peer = try UDPPeer(network, side: .a, port: UDPBurst.sourcePort)
    try peer.send(to: network.ipv4B, port: Base.port, count: 10)
    #expect(try Base.receive(&socket, count: 10).count == 10)
    #expect(try network.ip(.b, "link", "show", "dev", network.interfaceB).standardOutput.contains("prog/xdp"))
    socket.close()
    #expect(try openIdentities().isDisjoint(with: owned))
    #expect(mappedRanges().isDisjoint(with: regions))
    #expect(!(try network.ip(.b, "link", "show", "dev", network.interfaceB).standardOutput.contains("prog/xdp")))
  }

  /// A UDP frame from B to `peer` on A (port 9999 → the peer's port), checksum 0, 32 bytes of
  /// payload whose first four bytes are overwritten with a sequence number.
  static func frame(to peer: UDPPeer) -> [UInt8] {
    var frame: [UInt8] = [0x02, 0x58, 0x4b, 0, 0, 0x0a, 0x02, 0x58, 0x4b, 0, 0, 0x0b, 0x08, 0x00]
    var ip: [UInt8] = [0x45, 0, 0, 60, 0, 0, 0x40, 0, 64, 17, 0, 0, 192, 0, 2, 2, 192, 0, 2, 1]
    var sum: UInt32 = 0
    for i in stride(from: 0, to: 20, by: 2) { sum += UInt32(ip[i]) << 8 | UInt32(ip[i + 1]) }
    while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
    ip[10] = UInt8(~UInt16(sum) >> 8)
    ip[11] = UInt8(~UInt16(sum) & 0xff)
    frame += ip
    frame += [UInt8(Base.port >> 8), UInt8(Base.port & 0xff), UInt8(peer.port >> 8), UInt8(peer.port & 0xff), 0, 40, 0, 0]
    frame += [UInt8](repeating: 0x5a, count: 32)
    return frame
  }
}
