// Typed views of the redirect maps (DEVMAP, DEVMAP_HASH, CPUMAP, XSKMAP) of a loaded object.

extension LoadedObject {
  /// A typed view of device map `name` (BPF_MAP_TYPE_DEVMAP).
  public func devMap(_ name: String) throws -> DevMap {
    try DevMap(map(name))
  }

  /// A typed view of hashed device map `name` (BPF_MAP_TYPE_DEVMAP_HASH).
  public func devMapHash(_ name: String) throws -> DevMapHash {
    try DevMapHash(map(name))
  }

  /// A typed view of CPU map `name` (BPF_MAP_TYPE_CPUMAP).
  public func cpuMap(_ name: String) throws -> CPUMap {
    try CPUMap(map(name))
  }

  /// A typed view of AF_XDP socket map `name` (BPF_MAP_TYPE_XSKMAP).
  public func xskMap(_ name: String) throws -> XSKMap {
    try XSKMap(map(name))
  }
}
