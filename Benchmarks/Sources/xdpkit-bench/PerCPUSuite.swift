import XDPKit

// 4. The stats path: read one element of a per-CPU array and add up the CPUs' values, per
// call. A PERCPU_ARRAY of 8 UInt64 values made for the benchmark; element 3 holds
// 1000 + cpu on each possible CPU. The libbpf side does bpf_map_lookup_elem into a buffer of
// libbpf_num_possible_cpus() values and sums them in a loop.

enum PerCPUSuite {
  static func run(_ arguments: [String]) {
    guard arguments.count == 2 else { fail("usage: percpu SAMPLES CALLS") }
    let samples = integer(arguments[0], "SAMPLES")
    let calls = max(1, integer(arguments[1], "CALLS"))
    let fd = check("create map") {
      try BPF.createMap(MapCreateAttributes(
        type: .perCPUArray, keySize: 4, valueSize: 8, maxEntries: 8, name: "bench_percpu"))
    }
    let map = BPFMap(fileDescriptor: fd, name: "bench_percpu", type: .perCPUArray, keySize: 4,
                     valueSize: 8, maxEntries: 8)
    let stats = check("view") { try PerCPUArray<UInt64>(map) }
    Allocations.selfTest()
    let cpus = stats.possibleCPUCount
    check("fill") { try stats.setValues((0..<cpus).map { 1000 + UInt64($0) }, at: 3) }
    let expected = UInt64(1000 * cpus + cpus * (cpus - 1) / 2)
    for s in -1..<samples {
      let stopwatch = Stopwatch()
      let (total, allocated) = check("sum") { try sample(stats, calls: calls) }
      if s >= 0 { stopwatch.emit("percpu.sum", "ns", per: Double(calls)) }
      if total != expected &* UInt64(calls) { fail("wrong sums") }
      if s < 0 { continue }
      if Allocations.available { emitSample("percpu.sum.allocs", "allocs/op", Double(allocated) / Double(calls)) }
    }
  }

  /// (sum of all sums, allocations) of `calls` calls.
  static func sample(_ stats: PerCPUArray<UInt64>, calls: Int) throws -> (UInt64, UInt64) {
    var total: UInt64 = 0
    let allocations = Allocations.now()
    for _ in 0..<calls { total &+= try stats.sum(at: 3) }
    return (total, Allocations.now() - allocations)
  }
}
