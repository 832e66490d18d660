import SystemPackage
import Testing
import XDPKitObject
import XDPKitTestSupport

@testable import XDPKitSys

@Suite("bpf(2) batch map commands", .kernel)
struct BPFMapBatchTests {
  static let count = 1000

  static func expectedValue(_ key: UInt32) -> UInt64 { UInt64(key) &* UInt64(key) &+ 7 }

  /// Reads the whole map with BPF_MAP_LOOKUP_BATCH (or its deleting variant) in chunks.
  static func readAll(
    _ map: BPFFileDescriptor, chunk: Int, deleting: Bool = false
  ) throws -> [UInt32: UInt64] {
    var contents: [UInt32: UInt64] = [:]
    var keys = [UInt32](repeating: 0, count: chunk)
    var values = [UInt64](repeating: 0, count: chunk)
    // Hash maps use a 4-byte bucket cursor, arrays a key: 8 bytes hold either.
    var inToken: UInt64 = 0
    var outToken: UInt64 = 0
    var first = true
    while true {
      let result = try keys.withUnsafeMutableBytes { keyBytes in
        try values.withUnsafeMutableBytes { valueBytes in
          try withUnsafeBytes(of: inToken) { inBytes in
            try withUnsafeMutableBytes(of: &outToken) { outBytes in
              let after = first ? nil : inBytes.baseAddress
              return deleting
                ? try BPF.lookupAndDeleteBatch(
                  map: map.rawValue, after: after, next: outBytes.baseAddress!,
                  keys: keyBytes.baseAddress!, values: valueBytes.baseAddress!, count: chunk)
                : try BPF.lookupBatch(
                  map: map.rawValue, after: after, next: outBytes.baseAddress!,
                  keys: keyBytes.baseAddress!, values: valueBytes.baseAddress!, count: chunk)
            }
          }
        }
      }
      for index in 0..<result.count {
        #expect(contents.updateValue(values[index], forKey: keys[index]) == nil, "duplicate key")
      }
      if result.isComplete { return contents }
      #expect(result.count > 0)
      inToken = outToken
      first = false
    }
  }

  @Test("update, look up and delete 1000 elements in batches, with exact contents")
  func hashBatches() throws {
    let map = try BPF.createMap(
      MapCreateAttributes(
        type: .hash, keySize: 4, valueSize: 8, maxEntries: UInt32(Self.count), name: "xdpkit_batch"))
    let keys = (0..<UInt32(Self.count)).map { $0 &* 2654435761 }  // spread over buckets
    let values = keys.map(Self.expectedValue)

    let stored = try keys.withUnsafeBytes { keyBytes in
      try values.withUnsafeBytes { valueBytes in
        try BPF.updateBatch(
          map: map.rawValue, keys: keyBytes.baseAddress!, values: valueBytes.baseAddress!,
          count: keys.count)
      }
    }
    #expect(stored == Self.count)

    let expected = Dictionary(uniqueKeysWithValues: zip(keys, values))
    #expect(try Self.readAll(map, chunk: 128) == expected)
    #expect(try Self.readAll(map, chunk: 1000) == expected)
    // A chunk larger than the map still ends with "complete".
    #expect(try Self.readAll(map, chunk: 4096) == expected)

    // Delete the first half.
    let half = Self.count / 2
    let deleted = try keys.withUnsafeBytes { keyBytes in
      try BPF.deleteBatch(map: map.rawValue, keys: keyBytes.baseAddress!, count: half)
    }
    #expect(deleted == half)
    let remaining = Dictionary(uniqueKeysWithValues: zip(keys[half...], values[half...]))
    #expect(try Self.readAll(map, chunk: 100) == remaining)

    // Deleting them again fails on the first, absent, key.
    let missing = #expect(throws: MapBatchError.self) {
      _ = try keys.withUnsafeBytes { keyBytes in
        try BPF.deleteBatch(map: map.rawValue, keys: keyBytes.baseAddress!, count: half)
      }
    }
    #expect(missing?.syscall.errno == .noSuchFileOrDirectory)
    #expect(missing?.processedCount == 0)

    // Lookup-and-delete drains the map.
    #expect(try Self.readAll(map, chunk: 64, deleting: true) == remaining)
    #expect(try allKeys(map, as: UInt32.self).isEmpty)
    #expect(try Self.readAll(map, chunk: 64) == [:])
  }

  @Test("array maps batch with a key-sized cursor")
  func arrayBatches() throws {
    let map = try BPF.createMap(
      MapCreateAttributes(type: .array, keySize: 4, valueSize: 8, maxEntries: 300, name: "xdpkit_abatch"))
    let keys = Array(0..<UInt32(300))
    let values = keys.map(Self.expectedValue)
    let stored = try keys.withUnsafeBytes { keyBytes in
      try values.withUnsafeBytes { valueBytes in
        try BPF.updateBatch(
          map: map.rawValue, keys: keyBytes.baseAddress!, values: valueBytes.baseAddress!,
          count: keys.count)
      }
    }
    #expect(stored == 300)
    #expect(try Self.readAll(map, chunk: 77) == Dictionary(uniqueKeysWithValues: zip(keys, values)))

    // An index beyond the array stops the batch there, and the error says how far it got.
    let outOfRange: [UInt32] = [1, 2, 3, 4, 5, 300, 6]
    let refused = #expect(throws: MapBatchError.self) {
      _ = try outOfRange.withUnsafeBytes { keyBytes in
        try values.withUnsafeBytes { valueBytes in
          try BPF.updateBatch(
            map: map.rawValue, keys: keyBytes.baseAddress!, values: valueBytes.baseAddress!,
            count: outOfRange.count)
        }
      }
    }
    #expect(refused?.syscall.errno == .argListTooLong)
    #expect(refused?.syscall.command == .mapUpdateBatch)
    #expect(refused?.processedCount == 5)

    // The batch commands take no BPF_NOEXIST: EINVAL before any element is looked at.
    let flagged = #expect(throws: MapBatchError.self) {
      _ = try keys.withUnsafeBytes { keyBytes in
        try values.withUnsafeBytes { valueBytes in
          try BPF.updateBatch(
            map: map.rawValue, keys: keyBytes.baseAddress!, values: valueBytes.baseAddress!,
            count: keys.count, flags: MapBatchFlags(rawValue: MapUpdateFlags.noExist.rawValue))
        }
      }
    }
    #expect(flagged?.syscall.errno == .invalidArgument)
  }
}
