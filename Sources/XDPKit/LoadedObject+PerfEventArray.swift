import XDPKitMaps

extension LoadedObject {
  /// A reader of perf event array map `name` (BPF_MAP_TYPE_PERF_EVENT_ARRAY): one perf event
  /// and mmapped ring per CPU, stored in the map's slots, and an `AsyncSequence` of samples via
  /// `records()` / `records(as:)`. Make one per map.
  public func perfEventArray(_ name: String, pagesPerCPU: Int = 8) throws -> PerfEventArray {
    try PerfEventArray(map(name), pagesPerCPU: pagesPerCPU)
  }
}
