import Glibc
import XDPKit

// 10. The multi-program dispatcher's cost per frame: one program measured on its own, behind
// XDPKit's dispatcher, and behind libxdp's (installed by xdp-loader before this process
// starts), each under BPF_PROG_TEST_RUN of the program the interface runs. Freplace, which
// the dispatchers need, is refused under lockdown, so run.sh runs this suite in the 6.1 VM
// (Tests/VM); its nanoseconds are those of a software-emulated CPU, and only the ratios
// between the three setups, taken in the same VM, carry over.
//
//   dispatcher direct    IFACE OBJECT PROGRAM FRAME REPEAT SAMPLES   the program alone
//   dispatcher xdpkit    IFACE OBJECT PROGRAM FRAME REPEAT SAMPLES   behind XDPKit's dispatcher
//   dispatcher installed IFACE OBJECT PROGRAM FRAME REPEAT SAMPLES   behind the dispatcher on IFACE
//   dispatcher own LIBXDP_OBJECT FLOOR_OBJECT FRAME REPEAT SAMPLES   each dispatcher's own cost, on the host
//
// Samples: `mp.<setup>.<program>` (the kernel's `duration`, ns) and `.cpu` (this thread's
// CPU time / repeats); for the dispatchers also `.xlated` (instructions) and `.jited` (bytes). `installed` prints them under the side `libxdp`, and checks that the
// interface runs a dispatcher whose only program is PROGRAM. Every run checks the verdict
// against the program's own.

enum DispatcherSuite {
  static func run(_ arguments: [String]) {
    if arguments.first == "own" { return DispatcherOwnCost.run(Array(arguments.dropFirst())) }
    guard arguments.count == 7, let repeatCount = UInt32(arguments[5]) else {
      fail("usage: dispatcher direct|xdpkit|installed IFACE OBJECT PROGRAM FRAME REPEAT SAMPLES")
    }
    let (setup, interface, objectPath, programName) = (arguments[0], arguments[1], arguments[2], arguments[3])
    let frame = readFile(arguments[4])
    let samples = integer(arguments[6], "SAMPLES")
    let object = check("parse \(objectPath)") { try BPFObject(bytes: readFile(objectPath)) }

    // The verdict every setup must give: the program's own, on this frame.
    let alone = check("load \(programName)") { try object.load() }
    let expected = check("test run \(programName)") {
      try alone.program(programName).testRun(packet: frame).action
    }
    switch setup {
    case "direct":
      let program = check("program") { try alone.program(programName) }
      for _ in 0..<samples {
        measure(side, "mp.direct.\(programName)", expected, repeatCount) {
          try frame.withUnsafeBytes {
            try BPF.testRun(program: program.fileDescriptor, data: $0, repetitions: repeatCount)
          }
        }
      }
      alone.close()
    case "xdpkit":
      alone.close()
      let attachment = check("attach \(programName) behind XDPKit's dispatcher") {
        try XDPComponent(object: object, program: programName).attach(to: .name(interface))
      }
      let dispatcher = dispatcherID(on: interface, expecting: programName)
      emitSize(side, "mp.xdpkit.\(programName)", dispatcher)
      for _ in 0..<samples {
        measure(side, "mp.xdpkit.\(programName)", expected, repeatCount) { try testRun(dispatcher, frame, repeatCount) }
      }
      check("detach") { try attachment.detach() }
    case "installed":
      alone.close()
      let dispatcher = dispatcherID(on: interface, expecting: programName)
      emitSize("libxdp", "mp.libxdp.\(programName)", dispatcher)
      for _ in 0..<samples {
        measure("libxdp", "mp.libxdp.\(programName)", expected, repeatCount) { try testRun(dispatcher, frame, repeatCount) }
      }
    default:
      fail("dispatcher: unknown setup \(setup) (direct, xdpkit or installed)")
    }
  }

  /// The id of the dispatcher on `interface`, which must run `program` and nothing else.
  static func dispatcherID(on interface: String, expecting program: String) -> UInt32 {
    let programs = check("read the programs on \(interface)") { try XDP.programs(on: .name(interface)) }
    guard case .dispatcher(let dispatcher) = programs else {
      fail("\(interface) runs no dispatcher: \(programs)")
    }
    guard dispatcher.components.map(\.name) == [program] else {
      fail("the dispatcher on \(interface) runs \(dispatcher.components.map(\.name)), not just \(program)")
    }
    return dispatcher.id
  }

  /// The dispatcher's size: translated (xlated) instructions and JIT-compiled bytes, which do
  /// not depend on the emulator's timing.
  static func emitSize(_ sideLabel: String, _ metric: String, _ id: UInt32) {
    let info = check("read dispatcher \(id)") { try BPF.programInfo(try BPF.openProgram(id: id)) }
    print("\(sideLabel)\t\(metric).xlated\tcount\t\(info.translatedSize / 8)")
    print("\(sideLabel)\t\(metric).jited\tbytes\t\(info.jitedSize)")
  }

  static func testRun(_ id: UInt32, _ frame: [UInt8], _ repeatCount: UInt32) throws -> TestRunResult {
    let fd = try BPF.openProgram(id: id)  // closed when released
    return try frame.withUnsafeBytes { try BPF.testRun(program: fd, data: $0, repetitions: repeatCount) }
  }

  /// One sample: the kernel's average and this thread's CPU time per repeat.
  static func measure(_ sideLabel: String, _ metric: String, _ expected: XDPAction?, _ repeatCount: UInt32,
                      _ body: () throws -> TestRunResult) {
    let cpu = cpuNanoseconds()
    let run = check("test run \(metric)") { try body() }
    let cpuPerRun = Double(cpuNanoseconds() - cpu) / Double(repeatCount)
    guard XDPAction(rawValue: run.returnValue) == expected else {
      fail("\(metric): verdict \(run.returnValue), the program alone gives \(expected.map { "\($0)" } ?? "?")")
    }
    print("\(sideLabel)\t\(metric)\tns\t\(formatted(Double(run.durationNanoseconds), decimals: 3))")
    print("\(sideLabel)\t\(metric).cpu\tns\t\(formatted(cpuPerRun, decimals: 3))")
  }
}
