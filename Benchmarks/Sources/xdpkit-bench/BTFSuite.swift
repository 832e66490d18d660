import XDPKit

// 8. Kernel BTF and CO-RE: read + parse /sys/kernel/btf/vmlinux with XDPKit's reader against
// libbpf's btf__parse (read + parse, no dedup); XDPKit alone: building the CO-RE candidate index
// of that BTF (done once per process, with the parse), and resolving + patching the 100 CO-RE
// relocations of the generated core100.o against it. No system calls besides the file reads.
// Without CORE_OBJ only the parse is run (run.sh counts its instructions under callgrind).

enum BTFSuite {
  static func run(_ arguments: [String]) {
    guard arguments.count == 3 || arguments.count == 4 else {
      fail("usage: btf SAMPLES ITERATIONS VMLINUX [CORE_OBJ]")
    }
    let samples = integer(arguments[0], "SAMPLES")
    let iterations = max(1, integer(arguments[1], "ITERATIONS"))
    let path = arguments[2]
    var kernel: BTF? = nil
    for s in -1..<samples {
      let stopwatch = Stopwatch()
      for _ in 0..<iterations {
        check("parse \(path)") { kernel = try BTF(bytes: try FileContents.read(path: path)) }
      }
      if s >= 0 { stopwatch.emit("btf.vmlinux", "ms", per: Double(iterations)) }
    }
    guard let kernel else { fail("no BTF parsed") }
    guard arguments.count == 4 else { return }
    var target: CORETarget? = nil
    for s in -1..<samples {
      let stopwatch = Stopwatch()
      for _ in 0..<iterations { target = CORETarget(btf: kernel) }
      if s >= 0 { stopwatch.emit("btf.index", "ms", per: Double(iterations)) }
    }
    guard let target else { fail("no index built") }

    let object = check("parse \(arguments[3])") { try BPFObject(bytes: readFile(arguments[3])) }
    guard let local = object.btf, let records = object.btfExt?.coreRelocations["xdp"],
      let program = object.programs.first
    else { fail("\(arguments[3]) has no CO-RE relocations in section xdp") }
    if records.count != 100 { fail("expected 100 CO-RE relocations, found \(records.count)") }
    let resolver = COREResolver(local: local, target: target)
    let rounds = iterations * 100
    for s in -1..<samples {
      let stopwatch = Stopwatch()
      for _ in 0..<rounds {
        var code = program.function.instructions
        for record in records {
          let index = Int(record.instructionIndex) - Int(program.function.offset / 8)
          check("resolve") {
            try COREPatcher.apply(try resolver.resolve(record), to: &code, at: index)
          }
        }
      }
      if s >= 0 { stopwatch.emit("core.100", "us", per: Double(rounds)) }
    }
  }
}
