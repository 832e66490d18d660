import Testing
import XDPKitMaps
import XDPKitObject
import XDPKitSys
import XDPKitTestSupport

@Suite("ArrayMap, PerCPUArray, PerCPUHashMap", .kernel)
struct ArrayAndPerCPUTests {
  @Test("ArrayMap: zero-initialised, set/get, range check, all values")
  func arrayMap() throws {
    let map = try makeMap(.array, keySize: 4, valueSize: 8, maxEntries: 10, name: "array")
    let array = try ArrayMap<UInt64>(map)
    #expect(array.count == 10)
    #expect(try array.value(at: 3) == 0)
    try array.set(0xFEED_FACE_CAFE_BEEF, at: 3)
    try array.set(42, at: 9)
    #expect(try array.value(at: 3) == 0xFEED_FACE_CAFE_BEEF)
    #expect(try array.value(at: 9) == 42)
    #expect(throws: MapError.indexOutOfRange(map: "array", index: 10, count: 10)) {
      try array.value(at: 10)
    }
    #expect(throws: MapError.indexOutOfRange(map: "array", index: 11, count: 10)) {
      try array.set(1, at: 11)
    }
    var expected = [UInt64](repeating: 0, count: 10)
    expected[3] = 0xFEED_FACE_CAFE_BEEF
    expected[9] = 42
    #expect(try array.values() == expected)
    #expect(try array.values(batchSize: 3) == expected)
  }

  @Test("ArrayMap: key size other than 4 is refused")
  func arrayKeySize() throws {
    let map = try makeMap(.array, keySize: 4, valueSize: 4, maxEntries: 2, name: "arr")
    #expect(throws: MapError.valueSizeMismatch(map: "arr", expected: 4, actual: 8)) {
      try ArrayMap<UInt64>(map)
    }
  }

  @Test("PerCPUArray: one value per possible CPU, distinct values round-trip, sum")
  func perCPUArray() throws {
    let cpus = try possibleCPUs()
    let map = try makeMap(.perCPUArray, keySize: 4, valueSize: 8, maxEntries: 4, name: "stats")
    let stats = try PerCPUArray<UInt64>(map)
    #expect(stats.possibleCPUCount == cpus)
    #expect(map.isPerCPU)
    #expect(map.valueStride == 8)
    #expect(try map.valueBufferSize == 8 * cpus)

    #expect(try stats.values(at: 1) == Array(repeating: 0, count: cpus))
    let distinct = (0..<cpus).map { UInt64($0 + 1) * 1_000_000_000_000 + UInt64($0) }
    try stats.setValues(distinct, at: 1)
    #expect(try stats.values(at: 1) == distinct)
    #expect(try stats.sum(at: 1) == distinct.reduce(0, +))
    #expect(try stats.values(at: 0) == Array(repeating: 0, count: cpus))
    #expect(try stats.reduce(at: 1, into: UInt64.max) { $0 = min($0, $1) } == distinct[0])

    try stats.set(7, at: 2)
    #expect(try stats.values(at: 2) == Array(repeating: 7, count: cpus))
    #expect(try stats.sum(at: 2) == 7 * UInt64(cpus))

    #expect(throws: MapError.cpuCountMismatch(map: "stats", expected: cpus, actual: cpus + 1)) {
      try stats.setValues(Array(repeating: 1, count: cpus + 1), at: 0)
    }
    #expect(throws: MapError.indexOutOfRange(map: "stats", index: 4, count: 4)) {
      try stats.sum(at: 4)
    }
  }

  @Test("PerCPUArray: 4-byte values sit 8 bytes apart in the kernel's buffer")
  func perCPUArrayNarrowValues() throws {
    let cpus = try possibleCPUs()
    let map = try makeMap(.perCPUArray, keySize: 4, valueSize: 4, maxEntries: 2, name: "narrow")
    let narrow = try PerCPUArray<UInt32>(map)
    #expect(map.valueStride == 8)
    let distinct = (0..<cpus).map { UInt32(0xA000_0000) | UInt32($0) }
    try narrow.setValues(distinct, at: 0)
    #expect(try narrow.values(at: 0) == distinct)
    // Wrapping sum: the counters themselves wrap.
    #expect(try narrow.sum(at: 0) == distinct.reduce(0, &+))
  }

  @Test("PerCPUHashMap: values per CPU, sum, policies, remove, keys")
  func perCPUHash() throws {
    let cpus = try possibleCPUs()
    let map = try makeMap(.perCPUHash, keySize: 4, valueSize: 8, maxEntries: 16, name: "flows")
    let flows = try PerCPUHashMap<UInt32, UInt64>(map)
    #expect(flows.possibleCPUCount == cpus)

    #expect(try flows.values(forKey: 1) == nil)
    #expect(try flows.sum(forKey: 1) == nil)
    let distinct = (0..<cpus).map { UInt64($0) * 3 + 11 }
    try flows.setValues(distinct, forKey: 1)
    #expect(try flows.values(forKey: 1) == distinct)
    #expect(try flows.sum(forKey: 1) == distinct.reduce(0, +))
    #expect(try flows.contains(1))

    try flows.set(5, forKey: 2, policy: .onlyNew)
    #expect(try flows.values(forKey: 2) == Array(repeating: 5, count: cpus))
    #expect(throws: MapError.keyExists(map: "flows")) {
      try flows.set(6, forKey: 2, policy: .onlyNew)
    }
    #expect(throws: MapError.keyNotFound(map: "flows")) {
      try flows.set(6, forKey: 3, policy: .onlyExisting)
    }
    #expect(Set(try flows.keys()) == [1, 2])
    #expect(try flows.count() == 2)

    let all = try flows.lookupAll(batchSize: 1)
    #expect(all.count == 2)
    #expect(all.first { $0.key == 1 }?.values == distinct)
    #expect(all.first { $0.key == 2 }?.values == Array(repeating: 5, count: cpus))

    #expect(try flows.removeValue(forKey: 1))
    #expect(try flows.removeValue(forKey: 1) == false)
    #expect(try flows.values(forKey: 1) == nil)
  }

  @Test("LRU per-CPU hash goes through PerCPUHashMap")
  func lruPerCPU() throws {
    let map = try makeMap(.lruPerCPUHash, keySize: 4, valueSize: 4, maxEntries: 8, name: "lrupc")
    let lru = try PerCPUHashMap<UInt32, UInt32>(map)
    for key: UInt32 in 0..<100 { try lru.set(key, forKey: key) }
    #expect(try lru.sum(forKey: 99) == 99 &* UInt32(lru.possibleCPUCount))
    #expect(try lru.count() <= 8)
  }
}
