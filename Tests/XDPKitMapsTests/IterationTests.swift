import Testing
import XDPKitMaps
import XDPKitObject
import XDPKitSys
import XDPKitTestSupport

/// Key walks whose map changes under them at exactly the worst moment: inside the callback,
/// between two BPF_MAP_GET_NEXT_KEY calls, where the cursor key is the one being changed.
@Suite("Key iteration under change", .kernel)
struct IterationTests {
  @Test("removing every other key as it is visited: each key visited once, the walk ends")
  func removeWhileWalking() throws {
    let map = try makeMap(.hash, keySize: 4, valueSize: 4, maxEntries: 1024, name: "walk")
    let hash = try HashMap<UInt32, UInt32>(map)
    for key: UInt32 in 0..<1000 { try hash.insert(key, forKey: key) }
    var visited: [UInt32] = []
    try hash.forEachKey { (key) throws(MapError) in
      visited.append(key)
      // Removing the cursor key makes the kernel answer the next call with the first key.
      if visited.count % 2 == 0 { try hash.removeValue(forKey: key) }
    }
    #expect(visited.count == 1000)
    #expect(Set(visited) == Set(0..<1000))
    #expect(try hash.count() == 500)
  }

  @Test("removing and re-adding each key as it is visited: no key twice")
  func reinsertWhileWalking() throws {
    let map = try makeMap(.hash, keySize: 4, valueSize: 4, maxEntries: 256, name: "readd")
    let hash = try HashMap<UInt32, UInt32>(map)
    for key: UInt32 in 0..<200 { try hash.insert(key, forKey: key) }
    var visited: [UInt32] = []
    try hash.forEachKey { (key) throws(MapError) in
      visited.append(key)
      try hash.removeValue(forKey: key)
      try hash.insert(key + 1, forKey: key)  // back at the head of its bucket
    }
    #expect(visited.count == 200)
    #expect(Set(visited) == Set(0..<200))
    #expect(try hash.count() == 200)
  }

  @Test("a map that never stops changing ends the walk with .iterationDidNotFinish")
  func endlessChurn() throws {
    let map = try makeMap(.hash, keySize: 4, valueSize: 4, maxEntries: 4, name: "endless")
    let hash = try HashMap<UInt32, UInt32>(map)
    for key: UInt32 in 0..<4 { try hash.insert(key, forKey: key) }
    var next: UInt32 = 4
    #expect(throws: MapError.iterationDidNotFinish(map: "endless", calls: 4096)) {
      try hash.forEachKey { (key) throws(MapError) in
        // Every visited key is replaced by a key the walk has not seen yet.
        try hash.removeValue(forKey: key)
        try hash.insert(next, forKey: next)
        next += 1
      }
    }
  }

  @Test("an error thrown by the callback ends the walk with that error")
  func callbackError() throws {
    let map = try makeMap(.hash, keySize: 4, valueSize: 4, maxEntries: 8, name: "stop")
    let hash = try HashMap<UInt32, UInt32>(map)
    for key: UInt32 in 0..<8 { try hash.insert(key, forKey: key) }
    var calls = 0
    #expect(throws: MapError.keyNotFound(map: "stop")) {
      try hash.forEachKey { (_) throws(MapError) in
        calls += 1
        if calls == 3 { throw .keyNotFound(map: "stop") }
      }
    }
    #expect(calls == 3)
  }
}
