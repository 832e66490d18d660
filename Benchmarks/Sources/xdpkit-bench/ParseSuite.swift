import XDPKit

// 6. Parsing: BPFObject(bytes:) on each object, ITERATIONS times per sample, against
// bpf_object__open_mem + bpf_object__close on the libbpf side. No system calls on either side
// (libbpf's open does not touch the kernel; XDPKit's reader never does).

enum ParseSuite {
  static func run(_ arguments: [String]) {
    guard arguments.count >= 3 else { fail("usage: parse SAMPLES ITERATIONS NAME=OBJ...") }
    let samples = integer(arguments[0], "SAMPLES")
    let iterations = max(1, integer(arguments[1], "ITERATIONS"))
    for argument in arguments.dropFirst(2) {
      guard let equals = argument.firstIndex(of: "=") else { fail("expected NAME=PATH, got \(argument)") }
      let name = String(argument[..<equals])
      let bytes = readFile(String(argument[argument.index(after: equals)...]))
      for s in -1..<samples {
        let stopwatch = Stopwatch()
        check("parse \(name)") { try parse(bytes, iterations: iterations) }
        if s >= 0 { stopwatch.emit("parse.\(name)", "us", per: Double(iterations)) }
      }
    }
  }

  static func parse(_ bytes: [UInt8], iterations: Int) throws {
    var programs = 0
    for _ in 0..<iterations {
      let object = try BPFObject(bytes: bytes)
      programs &+= object.programs.count
    }
    if programs == 0 { fail("no programs parsed") }
  }
}
