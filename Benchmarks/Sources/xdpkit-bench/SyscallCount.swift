// Counts system calls per load+attach cycle from two `strace -f -o FILE` logs of the same
// suite, one with N cycles and one with none: (calls in the first − calls in the second) / N,
// so start-up, one-time probes and the process's own teardown cancel out. Prints samples
// `attach.syscalls`, `attach.bpf_calls` and `attach.bpf.<COMMAND>` for SIDE.

enum SyscallCount {
  static func run(_ arguments: [String]) {
    guard arguments.count == 4, let cycles = Int(arguments[3]), cycles > 0 else {
      fail("usage: syscalls SIDE TRACE_N TRACE_0 N")
    }
    let side = arguments[0]
    let withCycles = count(readFile(arguments[1]))
    let without = count(readFile(arguments[2]))
    func perCycle(_ key: String) -> Double {
      Double((withCycles[key] ?? 0) - (without[key] ?? 0)) / Double(cycles)
    }
    print("\(side)\tattach.syscalls\tcalls\t\(formatted(perCycle("*"), decimals: 2))")
    print("\(side)\tattach.bpf_calls\tcalls\t\(formatted(perCycle("bpf"), decimals: 2))")
    for key in Set(withCycles.keys).union(without.keys).sorted() where key.hasPrefix("BPF_") {
      let value = perCycle(key)
      if value != 0 { print("\(side)\tattach.bpf.\(key)\tcalls\t\(formatted(value, decimals: 2))") }
    }
  }

  /// Calls by name ("*": all, "bpf": bpf(2), "BPF_…": bpf(2) by command) in one log.
  static func count(_ log: [UInt8]) -> [String: Int] {
    var counts: [String: Int] = [:]
    for line in String(decoding: log, as: UTF8.self).split(separator: "\n") {
      // "PID name(args…) = result", "PID name(args… <unfinished …>", "PID <… name resumed>…",
      // "PID +++ exited …", "PID --- SIGNAL …". Count each call once, at its start.
      var rest = line.drop { $0.isNumber }.drop { $0 == " " }
      guard let open = rest.firstIndex(of: "("), !rest.hasPrefix("<"), !rest.hasPrefix("+"),
        !rest.hasPrefix("-")
      else { continue }
      let name = rest[..<open]
      guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
      counts["*", default: 0] += 1
      if name == "bpf" {
        counts["bpf", default: 0] += 1
        rest = rest[rest.index(after: open)...]
        let command = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        counts[String(command), default: 0] += 1
      }
    }
    return counts
  }
}
