import XDPKit
import XDPPrograms

// 2. Single-element operations on the blocklist's BLOCKLIST map (HASH, u32 -> u32, 131,072
// entries, preallocated), through HashMap<UInt32, UInt32>. The map holds 1,000 entries
// throughout; each sample inserts OPS new keys, looks each up (hit), looks up OPS absent keys
// (miss) and removes the inserted keys, timing each loop. The libbpf side runs the same loops
// with bpf_map_update_elem / bpf_map_lookup_elem / bpf_map_delete_elem on the same map of a
// libbpf-loaded copy. Allocations are counted over each timed loop when the malloc-counting
// shim is preloaded.

enum MapSuite {
  static func run(_ arguments: [String]) {
    guard arguments.count == 2 else { fail("usage: maps SAMPLES OPS") }
    let samples = integer(arguments[0], "SAMPLES")
    let ops = max(1, integer(arguments[1], "OPS"))
    Allocations.selfTest()
    let loaded = check("load") { try BPFObject(bytes: XDPPrograms.firewall).load() }
    let map = check("BLOCKLIST") { try loaded.hashMap("BLOCKLIST", key: UInt32.self, value: UInt32.self) }
    for i in 0..<UInt32(1000) {
      check("prefill") { try map.insert(0, forKey: fillKey(i)) }
    }
    for s in -1..<samples {
      check("sample") { try sample(map, ops: UInt32(ops), report: s >= 0) }  // s < 0: warm-up
    }
    withExtendedLifetime(loaded) {}
  }

  static func sample(_ map: HashMap<UInt32, UInt32>, ops: UInt32, report: Bool) throws {
    var sink: UInt32 = 0
    func done(_ metric: String, _ stopwatch: Stopwatch, _ allocationsBefore: UInt64) {
      let allocations = Allocations.now() - allocationsBefore
      guard report else { return }
      stopwatch.emit("map.\(metric)", "ns", per: Double(ops))
      if Allocations.available {
        emitSample("map.\(metric).allocs", "allocs/op", Double(allocations) / Double(ops))
      }
    }

    var allocations = Allocations.now()
    var stopwatch = Stopwatch()
    for i in 0..<ops { try map.insert(i, forKey: 0xE000_0000 &+ i) }
    done("insert", stopwatch, allocations)

    allocations = Allocations.now()
    stopwatch = Stopwatch()
    for i in 0..<ops {
      guard let value = try map.value(forKey: 0xE000_0000 &+ i) else { fail("lookup hit found nothing") }
      sink &+= value
    }
    done("lookup_hit", stopwatch, allocations)

    allocations = Allocations.now()
    stopwatch = Stopwatch()
    for i in 0..<ops {
      if try map.value(forKey: 0xE800_0000 &+ i) != nil { fail("lookup miss found a value") }
    }
    done("lookup_miss", stopwatch, allocations)

    allocations = Allocations.now()
    stopwatch = Stopwatch()
    for i in 0..<ops {
      guard try map.removeValue(forKey: 0xE000_0000 &+ i) else { fail("delete found nothing") }
    }
    done("delete", stopwatch, allocations)

    if sink != UInt32(truncatingIfNeeded: UInt64(ops) * UInt64(ops - 1) / 2) {
      fail("lookups returned wrong values")
    }
  }
}
