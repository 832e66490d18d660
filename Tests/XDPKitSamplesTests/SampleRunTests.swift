import Foundation
import Testing
import XDPKit
import XDPKitTestSupport

/// The kernel-facing samples, run against the firewall (Programs/xdp_firewall.c, compiled into
/// this target's `XDPFirewall` as a user's target would have it) on a veth pair between two
/// network namespaces the test makes. The firewall is attached to B's end; A sends from
/// 192.0.2.1, which the samples block.
@Suite("Documentation samples run against the firewall", .kernel, .serialized)
struct SampleRunTests {
  @Test("README quick start: 40 packets from the blocked address are dropped and counted, then detached")
  func quickStartDropsAndCounts() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let receiver = try network.countingReceiver(in: .b, port: 7101, address: network.ipv4B)
    let dropped = try network.withNamespace(.b) {
      try quickStart(interface: .name(network.interfaceB)) {
        let sent = try network.sendUDP(from: .a, to: network.ipv4B, count: 40, port: 7101, source: network.ipv4A)
        #expect(sent == 40)
        #expect(receiver.count() == 0)
      }
    }
    #expect(dropped == 40)
    let interface = network.interfaceB
    let state = try network.withNamespace(.b) { try XDP.attachment(on: .name(interface)) }
    #expect(state.programID == nil)
    // Detached: the same address passes again.
    let sent = try network.sendUDP(from: .a, to: network.ipv4B, count: 10, port: 7101, source: network.ipv4A)
    #expect(sent == 10)
    #expect(receiver.count() == 10)
  }

  @Test("getting started: five steps drop 30 packets of 74 bytes, count the entry's hits and report drop events")
  func gettingStartedFiveSteps() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let receiver = try network.countingReceiver(in: .b, port: 7102, address: network.ipv4B)
    let result = try network.withNamespace(.b) {
      try gettingStarted(interface: .name(network.interfaceB)) {
        let sent = try network.sendUDP(from: .a, to: network.ipv4B, count: 30, port: 7102, source: network.ipv4A)
        #expect(sent == 30)
        #expect(receiver.count() == 0)
      }
    }
    // Ethernet 14 + IPv4 20 + UDP 8 + 32 bytes of payload.
    #expect(result.packets == 30)
    #expect(result.bytes == 30 * 74)
    #expect(result.hits == 30)
    // At most events_per_second (10) per CPU in the second the packets took.
    #expect((1...20).contains(result.events.count))
    for event in result.events {
      #expect(event.family == 4)
      #expect(event.reason == .exact4)
      #expect(event.packetLength == 74)
      #expect((0..<4).map { event.addr[$0] } == [192, 0, 2, 1])
    }
  }

  @Test("pinning: the pinned link keeps the firewall attached and the pinned map blocks; unpinning detaches")
  func pinningKeepsTheFirewall() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let directory = "/sys/fs/bpf/xdpkit-samples-\(getpid())"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let receiver = try network.countingReceiver(in: .b, port: 7103, address: network.ipv4B)

    try network.withNamespace(.b) { try pinning(interface: .name(network.interfaceB), directory: directory) }
    let sent = try network.sendUDP(from: .a, to: network.ipv4B, count: 20, port: 7103, source: network.ipv4A)
    #expect(sent == 20)
    #expect(receiver.count() == 0)
    let blocklist = try HashMap<UInt32, UInt32>(BPFMap.open(pinnedAt: "\(directory)/BLOCKLIST"))
    #expect(try blocklist.value(forKey: 0xC000_0201) == 20)

    for pin in ["link", "BLOCKLIST"] { try FileManager.default.removeItem(atPath: "\(directory)/\(pin)") }
    let interface = network.interfaceB
    // The kernel releases a link whose last pin is gone from a work queue: poll, bounded.
    var state = try network.withNamespace(.b) { try XDP.attachment(on: .name(interface)) }
    for _ in 0..<100 where state.programID != nil {
      usleep(20_000)
      state = try network.withNamespace(.b) { try XDP.attachment(on: .name(interface)) }
    }
    #expect(state.programID == nil)
    let sentAfter = try network.sendUDP(from: .a, to: network.ipv4B, count: 5, port: 7103, source: network.ipv4A)
    #expect(sentAfter == 5)
    #expect(receiver.count() == 5)
  }
}
