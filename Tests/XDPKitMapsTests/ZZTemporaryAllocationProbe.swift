// TEMPORARY: allocation probe, run with LD_PRELOAD=/tmp/alloccount/libcount.so. Deleted after.
import Glibc
import Testing
import XDPKitMaps
import XDPKitObject
import XDPKitSys

private typealias Begin = @convention(c) () -> Void
private typealias End = @convention(c) () -> Int

private func measure(_ label: String, _ body: () throws -> Void) rethrows -> Int {
  guard let b = dlsym(nil, "xdpkit_alloc_begin"),  // RTLD_DEFAULT is 0
        let e = dlsym(nil, "xdpkit_alloc_end") else { return -1 }
  let begin = unsafeBitCast(b, to: Begin.self)
  let end = unsafeBitCast(e, to: End.self)
  try body()  // warm up
  begin()
  for _ in 0..<100 { try body() }
  let n = end()
  print("ALLOC \(label): \(n)")
  return n
}

@Suite("ZZ allocation probe", .serialized)
struct AllocationProbe {
  @Test func probe() throws {
    let h = try makeMap(.hash, keySize: 4, valueSize: 4, maxEntries: 64, name: "a")
    let hash = try HashMap<UInt32, UInt32>(h)
    let p = try makeMap(.hash, keySize: 8, valueSize: 16, maxEntries: 64, name: "p")
    let padded = try HashMap<PaddedKey, Pair>(p)
    let a = try makeMap(.array, keySize: 4, valueSize: 8, maxEntries: 4, name: "arr")
    let array = try ArrayMap<UInt64>(a)
    let pc = try makeMap(.perCPUArray, keySize: 4, valueSize: 8, maxEntries: 4, name: "pc")
    let perCPU = try PerCPUArray<UInt64>(pc)
    let ph = try makeMap(.perCPUHash, keySize: 4, valueSize: 4, maxEntries: 4, name: "ph")
    let perCPUHash = try PerCPUHashMap<UInt32, UInt32>(ph)
    let t = try makeMap(.lpmTrie, keySize: 20, valueSize: 4, maxEntries: 8, flags: .noPreallocation, name: "t")
    let trie = try LPMTrie<IPv6Address, UInt32>(t)
    let prefix = try IPv6Prefix("2001:db8::/32")
    let address = try IPv6Address(parsing: "2001:db8::1")
    try trie.insert(1, forKey: prefix)
    var results: [String: Int] = [:]
    results["hash.insert"] = try measure("hash.insert") { try hash.insert(1, forKey: 7) }
    results["hash.update.onlyExisting"] = try measure("hash.update") { try hash.update(2, forKey: 7, policy: .onlyExisting) }
    results["hash.value"] = try measure("hash.value") { _ = try hash.value(forKey: 7) }
    results["hash.value.absent"] = try measure("hash.value absent") { _ = try hash.value(forKey: 8) }
    results["hash.contains"] = try measure("hash.contains") { _ = try hash.contains(7) }
    results["hash.remove"] = try measure("hash.remove") { try hash.insert(1, forKey: 9); _ = try hash.removeValue(forKey: 9) }
    results["hash.take"] = try measure("hash.take") { try hash.insert(1, forKey: 9); _ = try hash.takeValue(forKey: 9) }
    results["hash.keyExists error"] = measure("hash.keyExists") { do throws(MapError) { try hash.update(1, forKey: 7, policy: .onlyNew) } catch { precondition(error == .keyExists(map: "a")) } }
    results["array.outOfRange error"] = measure("array.oor") { do throws(MapError) { try array.set(1, at: 99) } catch { precondition(error == .indexOutOfRange(map: "arr", index: 99, count: 4)) } }
    results["padded.insert"] = try measure("padded.insert") { try padded.insert(Pair(first: 1, second: 2), forKey: PaddedKey(a: 1, b: 2)) }
    results["padded.value"] = try measure("padded.value") { _ = try padded.value(forKey: PaddedKey(a: 1, b: 2)) }
    results["array.set"] = try measure("array.set") { try array.set(5, at: 1) }
    results["array.value"] = try measure("array.value") { _ = try array.value(at: 1) }
    results["percpu.sum"] = try measure("percpu.sum") { _ = try perCPU.sum(at: 1) }
    results["percpu.set"] = try measure("percpu.set") { try perCPU.set(3, at: 1) }
    results["percpuhash.set"] = try measure("percpuhash.set") { try perCPUHash.set(3, forKey: 1) }
    results["percpuhash.sum"] = try measure("percpuhash.sum") { _ = try perCPUHash.sum(forKey: 1) }
    results["trie.longestMatch"] = try measure("trie.longestMatch") { _ = try trie.longestMatch(for: address) }
    results["trie.value exact"] = try measure("trie.value") { _ = try trie.value(forKey: prefix) }
    results["trie.insert"] = try measure("trie.insert") { try trie.insert(1, forKey: prefix) }
    for (k, v) in results.sorted(by: { $0.key < $1.key }) { print("ALLOCRESULT \(k) = \(v)") }
  }
}
