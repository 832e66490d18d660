import XDPKit

// The samples of the maps article (Maps.md).

func mapsViews(loaded: LoadedObject) throws {
  // sample: MapsViews
  let blocklist = try loaded.hashMap("BLOCKLIST", key: UInt32.self, value: UInt32.self)
  try blocklist.insert(0, forKey: 0xC000_0201)          // BPF_MAP_UPDATE_ELEM, BPF_ANY
  try blocklist.update(1, forKey: 0xC000_0201, policy: .onlyExisting)
  if let hits = try blocklist.value(forKey: 0xC000_0202) { print(hits) }  // nil when absent
  try blocklist.removeValue(forKey: 0xC000_0201)         // false when absent
  for key in try blocklist.keys() { print(key) }         // BPF_MAP_GET_NEXT_KEY
  try blocklist.insert(contentsOf: [(key: 1, value: 0)]) // BPF_MAP_UPDATE_BATCH (5.6+)
  for (key, hits) in try blocklist.lookupAll() { print(key, hits) }  // BPF_MAP_LOOKUP_BATCH

  let stats = try loaded.perCPUArray("STATS", value: UInt64.self)
  print(try stats.values(at: 1))        // one value per possible CPU
  print(try stats.sum(at: 1))           // summed, without allocating

  let cidrs = try loaded.lpmTrie("PREFIXES", key: IPv4Address.self, value: UInt32.self)
  try cidrs.insert(1, forKey: try IPv4Prefix("198.51.100.0/24"))
  if let match = try cidrs.longestMatch(for: IPv4Address(198, 51, 100, 7)) { print(match) }
  // sample: end
}

func mapsDirectAccess(loaded: LoadedObject) throws {
  // sample: MapsDirectAccess
  let counters = try loaded.arrayMap("COUNTERS", value: UInt64.self)
  print(counters.isMappable)                   // created with BPF_F_MMAPABLE
  print(try counters.mappedValue(at: 1))       // a load from the mapping
  try counters.setMapped(0, at: 2)             // a store the program sees at once
  try counters.wrappingAdd(1, at: 1)           // atomic (lock xadd), safe against the program's
  print(try counters.atomicValue(at: 1))       //   __sync_fetch_and_add on the same element
  let pointer = try counters.pointer(at: 3)    // UnsafePointer<UInt64>, valid while the map lives
  let elements = try counters.mappedElements() // resolved once: then an index check and a load
  print(try elements.value(at: 1))             //   per access, inlined into this code
  // sample: end
  _ = pointer
  _ = elements
}
