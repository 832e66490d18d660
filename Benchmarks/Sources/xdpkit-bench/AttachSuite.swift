import XDPKit
import XDPPrograms

// 1. Load + attach + teardown of the blocklist object, as a service starting and stopping:
// parse the embedded bytes, create the maps and load the program, attach it to the veth in
// native mode through a bpf_link, then release everything. The libbpf side does
// bpf_object__open_mem, bpf_object__load, bpf_program__attach_xdp, bpf_link__destroy and
// bpf_object__close on the same bytes.
//
// Teardown is what libbpf's bpf_link__destroy does for an XDP link: close the link's
// descriptor (the kernel detaches the program when the last reference goes). With `detach`,
// the cycle also calls XDPLink.detach() first (BPF_LINK_DETACH), reported separately.
//
// Besides each cycle's time, the process's user and system CPU time over all its timed
// cycles (getrusage RUSAGE_SELF deltas, divided by the cycles) is printed as one sample of
// `attach.cycle.user` and `attach.cycle.system`, when there are at least 100 cycles: the
// kernel splits the two at the tick (250 Hz here), so a sample needs many cycles. With
// Benchmarks/C/syscall_cpu.so preloaded, the exact split is printed as well
// (`attach.cycle.user_cpu`, `.syscall_cpu`, `.syscall_count`; see SyscallSplit).
//
// With `phases` (and the shim), the cycle is read at each of its four steps instead, and the
// split is printed per step: `attach.phase.parse`, `.load`, `.attach`, `.teardown` (each
// `.user_cpu`, `.syscall_cpu`, `.syscall_count`). The extra clock reads make this a run of its
// own, not the one the per-cycle rows come from.

enum AttachSuite {
  static func run(_ arguments: [String]) {
    guard arguments.count == 3 || (arguments.count == 4 && ["detach", "phases"].contains(arguments[3])) else {
      fail("usage: attach IFACE ITERATIONS WARMUP [detach|phases]")
    }
    let interface = arguments[0]
    let iterations = integer(arguments[1], "ITERATIONS")
    let warmup = integer(arguments[2], "WARMUP")
    if arguments.count == 4 && arguments[3] == "phases" {
      return runPhases(interface: interface, iterations: iterations, warmup: warmup)
    }
    let explicitDetach = arguments.count == 4
    let bytes = XDPPrograms.firewall
    let metric = explicitDetach ? "attach.cycle_detach" : "attach.cycle"
    var start = ThreadTimes()
    var split = SyscallSplit.zero
    for i in -warmup..<iterations {
      if i == 0 { start = ThreadTimes() }
      let stopwatch = Stopwatch()
      // The split covers the library's work only, not the stopwatch or the output.
      let before = SyscallSplit.now()
      check("load+attach cycle") { try cycle(bytes, interface: interface, detach: explicitDetach) }
      if i >= 0, let before, let after = SyscallSplit.now() { split.add(from: before, to: after) }
      if i >= 0 { stopwatch.emit(metric, "us") }
    }
    if iterations >= 100 {
      let spent = ThreadTimes() - start
      emitSample(metric + ".user", "us", spent.user * 1e6 / Double(iterations))
      emitSample(metric + ".system", "us", spent.system * 1e6 / Double(iterations))
    }
    SyscallSplit.emit(metric, total: split, iterations: iterations)
  }

  /// The cycle with the shim read between its steps; the split per step.
  static func runPhases(interface: String, iterations: Int, warmup: Int) {
    guard SyscallSplit.now() != nil else { fail("attach ... phases needs Benchmarks/C/syscall_cpu.so preloaded") }
    let bytes = XDPPrograms.firewall
    let names = ["parse", "load", "attach", "teardown"]
    var sums = [SyscallSplit](repeating: .zero, count: names.count)
    var marks = [SyscallSplit](repeating: .zero, count: names.count + 1)
    for i in -warmup..<iterations {
      marks[0] = SyscallSplit.now()!
      check("load+attach cycle") {
        let object = try BPFObject(bytes: bytes)
        marks[1] = SyscallSplit.now()!
        let loaded = try object.load()
        marks[2] = SyscallSplit.now()!
        let link = try loaded.xdpProgram("xdp_firewall").attach(to: .name(interface), mode: .native)
        marks[3] = SyscallSplit.now()!
        // Teardown as in `cycle`: the objects first, the link (and its descriptor) last.
        withExtendedLifetime(link) { loaded.close() }
      }
      marks[4] = SyscallSplit.now()!
      guard i >= 0 else { continue }
      for step in names.indices { sums[step].add(from: marks[step], to: marks[step + 1]) }
    }
    for (step, name) in names.enumerated() {
      SyscallSplit.emit("attach.phase." + name, total: sums[step], iterations: iterations)
    }
  }

  /// One cycle; everything it creates is released when it returns.
  static func cycle(_ bytes: [UInt8], interface: String, detach: Bool) throws {
    let object = try BPFObject(bytes: bytes)
    let loaded = try object.load()
    let link = try loaded.xdpProgram("xdp_firewall").attach(to: .name(interface), mode: .native)
    if detach { try link.detach() }
    withExtendedLifetime(link) {}
    loaded.close()
  }
}
