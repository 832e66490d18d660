import XDPKit
import XDPPrograms
import CXDPKit

// Temporary: where does the single-element gap come from?
enum Probe {
  static func run(_ arguments: [String]) {
    let loaded = check("load") { try BPFObject(bytes: XDPPrograms.firewall).load() }
    let map = check("BLOCKLIST") { try loaded.hashMap("BLOCKLIST", key: UInt32.self, value: UInt32.self) }
    check("insert") { try map.insert(7, forKey: 1) }
    let fd = map.map.fileDescriptor.rawValue
    let n = 200_000
    for _ in 0..<5 {
      var sw = Stopwatch()
      var sink: UInt32 = 0
      for _ in 0..<n { sink &+= (try? map.value(forKey: 1)) ?? 0 }
      sw.emit("probe.hashmap", "ns", per: Double(n))
      sw = Stopwatch()
      for _ in 0..<n {
        var key: UInt32 = 1
        var value: UInt32 = 0
        _ = BPF.lookupElement(map: fd, key: &key, value: &value)
        sink &+= value
      }
      sw.emit("probe.bpf", "ns", per: Double(n))
      sw = Stopwatch()
      var key: UInt32 = 1
      var value: UInt32 = 0
      var attr = bpf_attr()
      for _ in 0..<n {
        withUnsafeMutablePointer(to: &key) { k in
          withUnsafeMutablePointer(to: &value) { v in
            attr.map_fd = UInt32(fd)
            attr.key = UInt64(UInt(bitPattern: k))
            attr.value = UInt64(UInt(bitPattern: v))
            _ = cxdpkit_bpf(Int32(BPF_MAP_LOOKUP_ELEM.rawValue), &attr, 32)
          }
        }
        sink &+= value
      }
      sw.emit("probe.raw", "ns", per: Double(n))
      if sink == 42 { print(sink) }
    }
  }
}
