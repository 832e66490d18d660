import Testing
@testable import XDPKitMaps
import XDPKitObject
import XDPKitSys
import XDPKitTestSupport

@Suite("HashMap batches", .kernel)
struct HashMapBatchTests {
  @Test("batch insert of 10,000 entries, lookupAll returns exactly them, removeAll removes")
  func tenThousand() throws {
    let map = try makeMap(.hash, keySize: 4, valueSize: 8, maxEntries: 10_000, name: "batch")
    let hash = try HashMap<UInt32, UInt64>(map)
    let entries = (0..<UInt32(10_000)).map { (key: $0 &* 2_654_435_761, value: UInt64($0) << 20 | 5) }
    try hash.insert(contentsOf: entries)

    #expect(try hash.count() == 10_000)
    let all = try hash.lookupAll(batchSize: 100)
    #expect(all.count == 10_000)
    let expected = Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0.value) })
    let actual = Dictionary(all.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    #expect(actual == expected)
    // Spot-check single lookups against the batch.
    #expect(try hash.value(forKey: entries[1234].key) == entries[1234].value)

    // The default batch (4,096 for 4 + 8 bytes per element) takes three calls here.
    let byDefault = try hash.lookupAll()
    #expect(Dictionary(byDefault.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }) == expected)
    #expect(byDefault.count == 10_000)

    let half = entries.prefix(5_000).map(\.key)
    #expect(try hash.removeAll(keys: half) == 5_000)
    #expect(try hash.count() == 5_000)
    #expect(try hash.value(forKey: entries[0].key) == nil)
    #expect(try hash.value(forKey: entries[9_999].key) == entries[9_999].value)

    // Keys that are not there are skipped, the rest removed.
    let mixed = entries.map(\.key)
    #expect(try hash.removeAll(keys: mixed) == 5_000)
    #expect(try hash.count() == 0)
    #expect(try hash.lookupAll().isEmpty)
  }

  @Test("a batch insert into a full map stops with .full and says how many it stored")
  func batchIntoFullMap() throws {
    let map = try makeMap(.hash, keySize: 4, valueSize: 4, maxEntries: 8, name: "tiny")
    let hash = try HashMap<UInt32, UInt32>(map)
    let entries = (0..<UInt32(12)).map { (key: $0, value: $0) }
    #expect(throws: MapError.batchFailed(completed: 8, cause: .full(map: "tiny"))) {
      try hash.insert(contentsOf: entries)
    }
    #expect(try hash.count() == 8)
  }

  @Test("a batch update with onlyNew goes element by element and stops at an existing key")
  func batchOnlyNew() throws {
    let map = try makeMap(.hash, keySize: 4, valueSize: 4, maxEntries: 16, name: "onlynew")
    let hash = try HashMap<UInt32, UInt32>(map)
    try hash.insert(99, forKey: 3)
    let entries = (0..<UInt32(6)).map { (key: $0, value: $0 + 10) }
    #expect(throws: MapError.batchFailed(completed: 3, cause: .keyExists(map: "onlynew"))) {
      try hash.update(contentsOf: entries, policy: .onlyNew)
    }
    #expect(try hash.value(forKey: 2) == 12)
    #expect(try hash.value(forKey: 3) == 99)
    #expect(try hash.value(forKey: 4) == nil)
  }

  @Test("lookupAll grows the batch when a bucket does not fit (ENOSPC)")
  func lookupAllWithTinyBatch() throws {
    let map = try makeMap(.hash, keySize: 8, valueSize: 4, maxEntries: 4096, name: "buckets")
    let hash = try HashMap<UInt64, UInt32>(map)
    let entries = (0..<UInt64(3000)).map { (key: $0 * 7919, value: UInt32($0)) }
    try hash.insert(contentsOf: entries)
    let all = try hash.lookupAll(batchSize: 1)
    #expect(all.count == 3000)
    #expect(Set(all.map(\.key)) == Set(entries.map(\.key)))
  }
}

@Suite("Batch sizes")
struct BatchSizeTests {
  @Test("lookupAll's default batch: 64 KiB of elements, from 256 to 4,096")
  func defaultBatchSize() {
    #expect(BatchAccess.defaultBatchSize(elementBytes: 8) == 4096)
    #expect(BatchAccess.defaultBatchSize(elementBytes: 16) == 4096)
    #expect(BatchAccess.defaultBatchSize(elementBytes: 32) == 2048)
    #expect(BatchAccess.defaultBatchSize(elementBytes: 256) == 256)
    #expect(BatchAccess.defaultBatchSize(elementBytes: 4096) == 256)
    #expect(BatchAccess.defaultBatchSize(elementBytes: 0) == 4096)
  }
}
