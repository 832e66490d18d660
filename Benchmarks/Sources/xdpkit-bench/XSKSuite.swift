import Glibc
import XDPKit

// 12. AF_XDP: packets per second per core through XDPSocket's batch API, RX only, TX only and
// echo, on the namespace's veth pair in copy mode. The libxdp side (Benchmarks/C/xsk_bench.c)
// runs the same loops with the same settings and the same redirect program; the same
// generator (Benchmarks/C/packet_gen.c, AF_PACKET on the peer) feeds RX and echo on both.
//
// Per run: a warm-up of WARMUP packets (lazy set-up, first-use costs), then PACKETS timed.
// Samples: packets per CPU-second of the measuring thread (it waits in poll(2) when the RX
// ring is empty, so waiting is not counted), packets per wall-clock second, user-space and
// kernel ns per packet (getrusage RUSAGE_THREAD), packets per non-empty batch, and with the
// malloc-counting shim preloaded, the measuring thread's heap allocations per packet.

enum XSKSuite {
  /// What the libxdp side uses too: 4096 frames of 4096 bytes, 2048-slot rings, batches of
  /// 64, copy mode, need_wakeup.
  static let configuration = XDPSocketConfiguration(
    frameSize: 4096, frameCount: 4096, fillRingSize: 2048, completionRingSize: 2048,
    rxRingSize: 2048, txRingSize: 2048, bindMode: .copy, needWakeup: true)
  static let batch = 64

  struct Counters {
    var batches = 0
    var sink = 0
  }

  static func run(_ arguments: [String]) {
    guard arguments.count == 5, ["rx", "tx", "echo"].contains(arguments[0]) else {
      fail("usage: xsk rx|tx|echo IFACE WARMUP PACKETS READY_FILE")
    }
    let mode = arguments[0]
    let warmup = integer(arguments[2], "WARMUP")
    let packets = max(1, integer(arguments[3], "PACKETS"))
    let redirect: XDPSocketRedirect = mode == "tx" ? .none : .defaultProgram(mode: .native)
    var socket: XDPSocket
    do {
      socket = try XDPSocket(
        interface: .name(arguments[1]), queue: 0, configuration: configuration, redirect: redirect)
    } catch { fail("XDPSocket on \(arguments[1]): \(error)") }
    let ready = open(arguments[4], O_CREAT | O_WRONLY, 0o600)
    if ready < 0 { fail("create \(arguments[4])") }
    close(ready)

    let template = Fixtures.frame("ipv4_miss")
    let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: template.count, alignment: 8)
    defer { frame.deallocate() }
    frame.copyBytes(from: template)
    let loop: (inout XDPSocket, Int, inout Counters) throws -> Int =
      switch mode {
      case "rx": receive
      case "tx": { socket, packets, counters in try transmit(&socket, packets, UnsafeRawBufferPointer(frame), &counters) }
      default: echo
      }

    var counters = Counters()
    do {
      guard try loop(&socket, warmup, &counters) >= warmup else { fail("traffic stopped during the warm-up") }
      counters.batches = 0
      let allocations = Allocations.threadNow()
      let usage = threadUsage()
      let stopwatch = (wall: nowNanoseconds(), cpu: cpuNanoseconds())
      let done = try loop(&socket, packets, &counters)
      let cpu = Double(cpuNanoseconds() - stopwatch.cpu)
      let wall = Double(nowNanoseconds() - stopwatch.wall)
      let now = threadUsage()
      let used = (user: now.user - usage.user, system: now.system - usage.system)
      let allocated = Allocations.threadNow() - allocations
      guard done >= packets else { fail("traffic stopped before \(packets) packets (\(done))") }
      let count = Double(done)
      emitSample("xsk.\(mode).pps", "pps", count / (cpu / 1e9))
      emitSample("xsk.\(mode).pps.wall", "pps", count / (wall / 1e9))
      emitSample("xsk.\(mode).user", "ns", used.user / count)
      emitSample("xsk.\(mode).system", "ns", used.system / count)
      emitSample("xsk.\(mode).batch", "packets", counters.batches > 0 ? count / Double(counters.batches) : 0)
      if Allocations.threadAvailable {
        emitSample("xsk.\(mode).allocs", "allocs/packet", Double(allocated) / count)
      }
    } catch { fail("\(mode): \(error)") }
    if counters.sink == 42 { print("", terminator: "") }
    socket.close()
  }

  /// RX only: receive, read each frame's first byte and length, give the frames back; wait
  /// in poll(2) when nothing arrived.
  static func receive(_ socket: inout XDPSocket, _ packets: Int, _ counters: inout Counters) throws -> Int {
    var received = 0
    while received < packets {
      let count = socket.receive(limit: batch) { frames in
        var sink = 0
        frames.forEachFrame { _, bytes in sink &+= Int(bytes[0]) &+ bytes.count }
        counters.sink &+= sink
        return frames.count
      }
      if count == 0 {
        guard try socket.waitForReceive(timeout: .seconds(3)) else { break }
        continue
      }
      received += count
      counters.batches += 1
    }
    return received
  }

  /// TX only: queue copies of `frame`, 64 at a time, until `packets` were queued, then wait
  /// until every frame has completed.
  static func transmit(
    _ socket: inout XDPSocket, _ packets: Int, _ frame: UnsafeRawBufferPointer, _ counters: inout Counters
  ) throws -> Int {
    var queued = 0
    while queued < packets {
      let count = try socket.transmit(count: min(batch, packets - queued)) { _, buffer in
        buffer.copyMemory(from: frame)
        return frame.count
      }
      queued += count
      if count > 0 { counters.batches += 1 }
    }
    while try socket.freeTransmitFrames() < socket.transmitFrameCount {}
    counters.sink &+= queued
    return queued
  }

  /// Echo: each received frame copied into a free frame with its MAC addresses swapped and
  /// sent back (`respond`); waits in poll(2) only when nothing was received.
  static func echo(_ socket: inout XDPSocket, _ packets: Int, _ counters: inout Counters) throws -> Int {
    var echoed = 0
    while echoed < packets {
      let (received, _) = try socket.respond(limit: batch) { frame, reply in
        reply.copyMemory(from: frame)
        for i in 0..<6 { reply.swapAt(i, i + 6) }
        counters.sink &+= Int(reply[0])
        return frame.count
      }
      if received == 0 {
        if socket.pendingReceives() == 0 {
          guard try socket.waitForReceive(timeout: .seconds(3)) else { break }
        }
        continue
      }
      echoed += received
      counters.batches += 1
    }
    return echoed
  }
}

/// This thread's user and kernel CPU time so far, in ns: getrusage(RUSAGE_THREAD), which
/// Glibc's module does not export by name (its value is 1). The kernel splits the two by
/// sampling at the tick, so short runs give coarse figures; their sum is exact enough.
func threadUsage() -> (user: Double, system: Double) {
  var usage = rusage()
  getrusage(1, &usage)
  return (
    (Double(usage.ru_utime.tv_sec) * 1e6 + Double(usage.ru_utime.tv_usec)) * 1e3,
    (Double(usage.ru_stime.tv_sec) * 1e6 + Double(usage.ru_stime.tv_usec)) * 1e3
  )
}
