import XDPKit
import XDPPrograms

// 10, on the host: each dispatcher's own work per frame, without freplace (which lockdown
// refuses here). XDPKit's shipped dispatcher and libxdp's (Debian's xdp-dispatcher.o), both
// configured as the protocol says for one enabled slot that chains on XDP_PASS, and both left
// with their stub in that slot: the stub returns the stub verdict, which every mask contains,
// so the dispatcher goes on and returns XDP_PASS after its last enabled slot. A component
// replaces the stub's body through the kernel's freplace patch, the same for both dispatchers,
// so what differs between them is measured here, on this machine's CPU rather than an
// emulated one. The floor (xdp_drop) runs in the same rounds, in rotating order, so that
// each round gives one paired sample of each.
//
//   dispatcher own LIBXDP_OBJECT FLOOR_OBJECT FRAME REPEAT SAMPLES
//
// Samples: `mp.own.xdpkit`, `mp.own.libxdp`, `mp.own.floor` (the kernel's `duration`, ns), each
// with `.cpu` (this thread's CPU time / repeats) and, for the dispatchers, `.xlated`/`.jited`.

enum DispatcherOwnCost {
  /// `struct xdp_dispatcher_config`, version 2 (124 bytes), as the protocol lays it out.
  struct Config: BitwiseCopyable, Sendable {
    var magic: UInt8 = 236
    var version: UInt8 = 2
    var enabled: UInt8 = 1
    var frags: UInt8 = 0
    var chainCallActions: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
      (1 << 2 | 1 << 31, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var priorities: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
      (50, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var flags: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
      (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
  }

  static func run(_ arguments: [String]) {
    guard arguments.count == 5, let repeatCount = UInt32(arguments[3]) else {
      fail("usage: dispatcher own LIBXDP_OBJECT FLOOR_OBJECT FRAME REPEAT SAMPLES")
    }
    guard MemoryLayout<Config>.size == 124 else { fail("dispatcher configuration is \(MemoryLayout<Config>.size) bytes, not 124") }
    let frame = readFile(arguments[2])
    let samples = integer(arguments[4], "SAMPLES")
    guard let oursBytes = XDPPrograms.object(named: "xdp_dispatcher") else { fail("xdp_dispatcher.o is not embedded") }
    let (oursObject, ours) = loadDispatcher(oursBytes, "XDPKit's xdp_dispatcher")
    let (theirsObject, theirs) = loadDispatcher(readFile(arguments[0]), arguments[0])
    let floorObject = check("load \(arguments[1])") { try BPFObject(bytes: readFile(arguments[1])).load() }
    let floor = check("program xdp_drop") { try floorObject.program("xdp_drop") }
    emitSize("xdpkit", "mp.own.xdpkit", ours)
    emitSize("libxdp", "mp.own.libxdp", theirs)

    let setups: [(side: String, metric: String, program: LoadedProgram, verdict: XDPAction)] = [
      ("xdpkit", "mp.own.xdpkit", ours, .pass),
      ("libxdp", "mp.own.libxdp", theirs, .pass),
      ("xdpkit", "mp.own.floor", floor, .drop),
    ]
    for round in 0..<samples {
      // The same order per round would favour a position; rotate it.
      for step in 0..<setups.count {
        let setup = setups[(round + step) % setups.count]
        DispatcherSuite.measure(setup.side, setup.metric, setup.verdict, repeatCount) {
          try frame.withUnsafeBytes {
            try BPF.testRun(program: setup.program.fileDescriptor, data: $0, repetitions: repeatCount)
          }
        }
      }
    }
    withExtendedLifetime((oursObject, theirsObject, floorObject)) {}
  }

  /// Loads `xdp_dispatcher` of `bytes` with the one-slot configuration.
  static func loadDispatcher(_ bytes: [UInt8], _ label: String) -> (LoadedObject, LoadedProgram) {
    var options = LoadOptions(programs: ["xdp_dispatcher"])
    options.globals["conf"] = Config()
    let object = check("load \(label)") { try BPFObject(bytes: bytes).load(options: options) }
    return (object, check("program xdp_dispatcher of \(label)") { try object.program("xdp_dispatcher") })
  }

  static func emitSize(_ side: String, _ metric: String, _ program: LoadedProgram) {
    let info = check("read \(metric)") { try BPF.programInfo(program.fileDescriptor) }
    print("\(side)\t\(metric).xlated\tcount\t\(info.translatedSize / 8)")
    print("\(side)\t\(metric).jited\tbytes\t\(info.jitedSize)")
  }
}
