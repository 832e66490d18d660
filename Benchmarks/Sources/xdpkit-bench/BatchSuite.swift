import XDPKit

// 3. A million entries in and out of a HASH map (u32 -> u32, max_entries 2^20, preallocated)
// made for the benchmark: HashMap.insert(contentsOf:) into a fresh map and lookupAll() of the
// full map (BPF_MAP_UPDATE_BATCH / BPF_MAP_LOOKUP_BATCH), then, on another fresh map, the same
// with one call per element (insert(_:forKey:) and value(forKey:) for every key). The libbpf
// side does bpf_map_update_batch and bpf_map_lookup_batch in chunks of 4,096 (XDPKit's update
// chunk) and the same per-element loops.

enum BatchSuite {
  static let maxEntries: UInt32 = 1 << 20

  static func run(_ arguments: [String]) {
    guard arguments.count == 2 || arguments.count == 3 else { fail("usage: batch SAMPLES ENTRIES [LOOKUP_BATCH]") }
    let samples = integer(arguments[0], "SAMPLES")
    let count = integer(arguments[1], "ENTRIES")
    let lookupBatch = arguments.count == 3 ? integer(arguments[2], "LOOKUP_BATCH") : nil
    guard count <= Int(maxEntries), count > 0 else { fail("ENTRIES must be in 1...\(maxEntries)") }
    let entries: [(key: UInt32, value: UInt32)] = (0..<UInt32(count)).map { (fillKey($0), $0) }
    let expected = UInt64(count) * UInt64(count - 1) / 2
    for _ in 0..<samples {
      check("batch sample") { try batchSample(entries, expected: expected, lookupBatch: lookupBatch) }
      check("loop sample") { try loopSample(entries, expected: expected) }
    }
  }

  static func freshMap(_ name: String) throws -> HashMap<UInt32, UInt32> {
    let fd = try BPF.createMap(MapCreateAttributes(
      type: .hash, keySize: 4, valueSize: 4, maxEntries: maxEntries, name: name))
    return try HashMap(BPFMap(fileDescriptor: fd, name: name, type: .hash, keySize: 4,
                              valueSize: 4, maxEntries: Int(maxEntries)))
  }

  static func batchSample(_ entries: [(key: UInt32, value: UInt32)], expected: UInt64,
                          lookupBatch: Int?) throws {
    let map = try freshMap("bench_batch")
    var stopwatch = Stopwatch()
    try map.insert(contentsOf: entries)
    stopwatch.emit("batch.insert", "ms")

    stopwatch = Stopwatch()
    let all = try lookupBatch.map { try map.lookupAll(batchSize: $0) } ?? map.lookupAll()
    stopwatch.emit("batch.lookup", "ms")
    guard all.count == entries.count else { fail("lookupAll returned \(all.count) of \(entries.count)") }
    var checksum: UInt64 = 0
    for entry in all { checksum &+= UInt64(entry.value) }
    if checksum != expected { fail("lookupAll returned wrong values") }
  }

  static func loopSample(_ entries: [(key: UInt32, value: UInt32)], expected: UInt64) throws {
    let map = try freshMap("bench_loop")
    var stopwatch = Stopwatch()
    for entry in entries { try map.insert(entry.value, forKey: entry.key) }
    stopwatch.emit("loop.insert", "ms")

    var checksum: UInt64 = 0
    stopwatch = Stopwatch()
    for entry in entries {
      guard let value = try map.value(forKey: entry.key) else { fail("loop lookup found nothing") }
      checksum &+= UInt64(value)
    }
    stopwatch.emit("loop.lookup", "ms")
    if checksum != expected { fail("loop lookup returned wrong values") }
  }
}
