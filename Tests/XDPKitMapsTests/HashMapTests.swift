import Testing
import XDPKitMaps
import XDPKitObject
import XDPKitSys
import XDPKitTestSupport

@Suite("HashMap", .kernel)
struct HashMapTests {
  @Test("insert, lookup, absent key is nil, remove, contains")
  func basicOperations() throws {
    let map = try makeMap(.hash, keySize: 4, valueSize: 4, maxEntries: 16, name: "basic")
    let hash = try HashMap<UInt32, UInt32>(map)

    #expect(try hash.value(forKey: 1) == nil)
    #expect(try hash.contains(1) == false)
    #expect(try hash.isEmpty())
    try hash.insert(100, forKey: 1)
    #expect(try !hash.isEmpty())
    try hash.insert(200, forKey: 2)
    #expect(try hash.value(forKey: 1) == 100)
    #expect(try hash.value(forKey: 2) == 200)
    #expect(try hash.value(forKey: 3) == nil)
    #expect(try hash.contains(2))

    try hash.insert(101, forKey: 1)  // insert replaces
    #expect(try hash.value(forKey: 1) == 101)

    #expect(try hash.removeValue(forKey: 1) == true)
    #expect(try hash.removeValue(forKey: 1) == false)
    #expect(try hash.value(forKey: 1) == nil)
    #expect(try hash.count() == 1)
    #expect(try hash.takeValue(forKey: 2) == 200)
    #expect(try hash.takeValue(forKey: 2) == nil)
    #expect(try hash.count() == 0)
    #expect(try hash.isEmpty())
  }

  @Test("update policies: onlyNew on an existing key, onlyExisting on an absent key")
  func updatePolicies() throws {
    let map = try makeMap(.hash, keySize: 4, valueSize: 4, maxEntries: 16, name: "policies")
    let hash = try HashMap<UInt32, UInt32>(map)

    try hash.update(7, forKey: 5, policy: .onlyNew)
    #expect(try hash.value(forKey: 5) == 7)
    #expect(throws: MapError.keyExists(map: "policies")) {
      try hash.update(8, forKey: 5, policy: .onlyNew)
    }
    #expect(try hash.value(forKey: 5) == 7)

    try hash.update(9, forKey: 5, policy: .onlyExisting)
    #expect(try hash.value(forKey: 5) == 9)
    #expect(throws: MapError.keyNotFound(map: "policies")) {
      try hash.update(1, forKey: 6, policy: .onlyExisting)
    }
    #expect(try hash.value(forKey: 6) == nil)

    try hash.update(10, forKey: 5, policy: .any)
    try hash.update(11, forKey: 6, policy: .any)
    #expect(try hash.value(forKey: 5) == 10)
    #expect(try hash.value(forKey: 6) == 11)
  }

  @Test("keys, entries and count return exactly what was inserted")
  func iteration() throws {
    let map = try makeMap(.hash, keySize: 4, valueSize: 8, maxEntries: 64, name: "iterate")
    let hash = try HashMap<UInt32, UInt64>(map)
    #expect(try hash.keys().isEmpty)
    #expect(try hash.count() == 0)
    for key: UInt32 in 1...20 { try hash.insert(UInt64(key) * 1_000_000_007, forKey: key) }

    #expect(try hash.keys().sorted() == Array(1...20))
    let entries = try hash.entries().sorted { $0.key < $1.key }
    #expect(entries.map(\.key) == Array(1...20))
    #expect(entries.map(\.value) == (1...20).map { UInt64($0) * 1_000_000_007 })
    #expect(try hash.count() == 20)
  }

  @Test("a full hash map refuses a new key with .full (E2BIG) but still replaces values")
  func full() throws {
    let map = try makeMap(.hash, keySize: 4, valueSize: 4, maxEntries: 4, name: "small")
    let hash = try HashMap<UInt32, UInt32>(map)
    for key: UInt32 in 0..<4 { try hash.insert(key, forKey: key) }
    #expect(throws: MapError.full(map: "small")) { try hash.insert(4, forKey: 4) }
    try hash.insert(30, forKey: 3)
    #expect(try hash.value(forKey: 3) == 30)
    #expect(try hash.count() == 4)
    #expect(try hash.value(forKey: 4) == nil)
  }

  @Test("an LRU hash map through HashMap evicts instead of failing")
  func lruEvicts() throws {
    let map = try makeMap(.lruHash, keySize: 4, valueSize: 4, maxEntries: 4, name: "lru")
    let hash = try HashMap<UInt32, UInt32>(map)
    for key: UInt32 in 0..<64 { try hash.insert(key + 1000, forKey: key) }
    // The LRU keeps at most max_entries elements (fewer, by the way it frees per CPU) and the
    // most recent insert is among them.
    let count = try hash.count()
    #expect(count >= 1 && count <= 4)
    #expect(try hash.value(forKey: 63) == 1063)
    #expect(try hash.value(forKey: 0) == nil)
  }

  @Test("a key type of the wrong size names both sizes")
  func keySizeMismatch() throws {
    let map = try makeMap(.hash, keySize: 4, valueSize: 4, maxEntries: 4, name: "sizes")
    let error = #expect(throws: MapError.self) { try HashMap<UInt64, UInt32>(map) }
    #expect(error == .keySizeMismatch(map: "sizes", expected: 4, actual: 8))
    let text = error.map { "\($0)" } ?? ""
    #expect(text.contains("key_size is 4 bytes"))
    #expect(text.contains("stride is 8 bytes"))
  }

  @Test("a value type of the wrong size names both sizes")
  func valueSizeMismatch() throws {
    let map = try makeMap(.hash, keySize: 4, valueSize: 4, maxEntries: 4, name: "sizes")
    #expect(throws: MapError.valueSizeMismatch(map: "sizes", expected: 4, actual: 16)) {
      try HashMap<UInt32, Pair>(map)
    }
    #expect(throws: MapError.valueSizeMismatch(map: "sizes", expected: 4, actual: 2)) {
      try HashMap<UInt32, UInt16>(map)
    }
  }

  @Test("a view of the wrong map type says which types it needs")
  func wrongType() throws {
    let map = try makeMap(.array, keySize: 4, valueSize: 4, maxEntries: 4, name: "array")
    #expect(throws: MapError.wrongType(map: "array", expected: [.hash, .lruHash], actual: .array)) {
      try HashMap<UInt32, UInt32>(map)
    }
    let hashMap = try makeMap(.hash, keySize: 4, valueSize: 4, maxEntries: 4, name: "hash")
    #expect(throws: MapError.wrongType(map: "hash", expected: [.array], actual: .hash)) {
      try ArrayMap<UInt32>(hashMap)
    }
    #expect(throws: MapError.wrongType(map: "hash", expected: [.perCPUArray], actual: .hash)) {
      try PerCPUArray<UInt64>(hashMap)
    }
  }

  @Test("a key with tail padding (C struct { u32; u8; }, 8 bytes) round-trips")
  func paddedKey() throws {
    #expect(MemoryLayout<PaddedKey>.size == 5)
    #expect(MemoryLayout<PaddedKey>.stride == 8)
    let map = try makeMap(.hash, keySize: 8, valueSize: 4, maxEntries: 16, name: "padded")
    let hash = try HashMap<PaddedKey, UInt32>(map)
    try hash.insert(1, forKey: PaddedKey(a: 0xDEAD_BEEF, b: 7))
    try hash.insert(2, forKey: PaddedKey(a: 0xDEAD_BEEF, b: 8))
    #expect(try hash.value(forKey: PaddedKey(a: 0xDEAD_BEEF, b: 7)) == 1)
    #expect(try hash.value(forKey: PaddedKey(a: 0xDEAD_BEEF, b: 8)) == 2)
    #expect(try hash.value(forKey: PaddedKey(a: 0xDEAD_BEEF, b: 9)) == nil)
    #expect(Set(try hash.keys()) == [PaddedKey(a: 0xDEAD_BEEF, b: 7), PaddedKey(a: 0xDEAD_BEEF, b: 8)])

    // The padding bytes the kernel stored are zero: the raw key is a, b, 0, 0, 0.
    let raw = try HashMap<UInt64, UInt32>(map)
    let expected = UInt64(0xDEAD_BEEF) | UInt64(7) << 32
    #expect(try raw.value(forKey: expected) == 1)
    #expect(try hash.removeValue(forKey: PaddedKey(a: 0xDEAD_BEEF, b: 7)))
    #expect(try hash.count() == 1)
  }

  @Test("struct values round-trip")
  func structValues() throws {
    let map = try makeMap(.hash, keySize: 4, valueSize: 16, maxEntries: 4, name: "pairs")
    let hash = try HashMap<UInt32, Pair>(map)
    try hash.insert(Pair(first: 1 << 40, second: .max), forKey: 9)
    #expect(try hash.value(forKey: 9) == Pair(first: 1 << 40, second: .max))
  }

  @Test("eight tasks each inserting 1,000 distinct keys into one map leave 8,000")
  func concurrentInserts() async throws {
    let map = try makeMap(.hash, keySize: 4, valueSize: 4, maxEntries: 8192, name: "shared")
    let hash = try HashMap<UInt32, UInt32>(map)
    try await withThrowingTaskGroup(of: Void.self) { group in
      for task in 0..<8 {
        group.addTask {
          for index in 0..<1000 {
            let key = UInt32(task * 1000 + index)
            try hash.insert(key &* 3, forKey: key)
          }
        }
      }
      try await group.waitForAll()
    }
    #expect(try hash.count() == 8000)
    let entries = try hash.lookupAll()
    #expect(entries.count == 8000)
    #expect(entries.allSatisfy { $0.value == $0.key &* 3 })
    #expect(Set(entries.map(\.key)) == Set(0..<8000))
  }

  @Test("walking the keys while another task deletes every other key finishes without repeats")
  func iterationDuringDeletion() async throws {
    let total: UInt32 = 4000
    let map = try makeMap(.hash, keySize: 4, valueSize: 4, maxEntries: Int(total), name: "churn")
    let hash = try HashMap<UInt32, UInt32>(map)
    for round in 0..<5 {
      for key in 0..<total { try hash.insert(key, forKey: key) }
      async let deleted: Int = Task.detached {
        var removed = 0
        for key in stride(from: UInt32(round % 2), to: total, by: 2)
        where try hash.removeValue(forKey: key) {
          removed += 1
        }
        return removed
      }.value
      let keys = try hash.keys()
      #expect(try await deleted == Int(total) / 2)
      // No key twice, and every key the deleter did not touch (present throughout) is there.
      #expect(Set(keys).count == keys.count)
      let kept = Set(keys.filter { $0 % 2 != UInt32(round % 2) })
      #expect(kept.count == Int(total) / 2)
      #expect(try hash.count() == Int(total) / 2)
      try hash.removeAll(keys: Array(0..<total))
    }
  }
}
