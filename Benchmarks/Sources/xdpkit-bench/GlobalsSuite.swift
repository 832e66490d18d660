import Synchronization
import XDPKit
import XDPKitMaps
import XDPKitSys

// 11. Global variables after load: a `.bss` variable (`packets` of the globals fixture,
// Tests/XDPKitObjectTests/Fixtures/globals.o) read and written through the mmapped section
// (global(_:) / setGlobal(_:to:), and a plain load through withGlobalPointer), against the
// bpf(2) path every loader had before mmapable arrays: BPF_MAP_LOOKUP_ELEM of the section to
// read, and lookup + BPF_MAP_UPDATE_ELEM of the whole section to write one variable. XDPKit
// only (libbpf's skeletons mmap the same way; what is measured is the gap).
//
// The same for an element of an array map created with BPF_F_MMAPABLE (1,024 `u64`s): read
// and write through the mapping (`mappedValue(at:)`, `setMapped(_:at:)`), an atomic add
// (`wrappingAdd(_:at:)`), against `value(at:)` and `set(_:at:)` (BPF_MAP_LOOKUP_ELEM /
// BPF_MAP_UPDATE_ELEM of one element).

enum GlobalsSuite {
  static func run(_ arguments: [String]) {
    guard arguments.count == 3 else { fail("usage: globals GLOBALS_O SAMPLES OPS") }
    let samples = integer(arguments[1], "SAMPLES")
    let operations = max(1, integer(arguments[2], "OPS"))
    let loaded = check("load \(arguments[0])") { try BPFObject(bytes: readFile(arguments[0])).load() }
    guard check("mapped", { try loaded.isMapped(section: ".bss") }) else { fail(".bss is not mmapped on this kernel") }
    let bss = check(".bss map") { try loaded.dataMap(".bss") }
    var section = [UInt8](repeating: 0, count: bss.valueSize)
    for s in -1..<samples {
      var sum: UInt64 = 0
      var stopwatch = Stopwatch()
      for _ in 0..<operations { sum &+= check("read") { try loaded.global("packets", as: UInt64.self) } }
      if s >= 0 { stopwatch.emit("globals.read.mapped", "ns", per: Double(operations)) }

      stopwatch = Stopwatch()
      for i in 0..<operations { check("write") { try loaded.setGlobal("packets", to: UInt64(i)) } }
      if s >= 0 { stopwatch.emit("globals.write.mapped", "ns", per: Double(operations)) }

      let handle = check("handle") { try loaded.mappedGlobal("packets", as: UInt64.self) }!
      stopwatch = Stopwatch()
      // A compiler fence after each access (no instruction on x86): the program may change the
      // variable at any time, and without it the inlined load is hoisted out of the loop (and
      // all stores but the last dropped), which would time an empty loop.
      for _ in 0..<operations {
        sum &+= handle.value
        atomicMemoryFence(ordering: .acquiring)
      }
      if s >= 0 { stopwatch.emit("globals.read.handle", "ns", per: Double(operations)) }

      stopwatch = Stopwatch()
      for i in 0..<operations {
        handle.value = UInt64(i)
        atomicMemoryFence(ordering: .releasing)
      }
      if s >= 0 { stopwatch.emit("globals.write.handle", "ns", per: Double(operations)) }

      stopwatch = Stopwatch()
      check("pointer") {
        try loaded.withGlobalPointer("packets", as: UInt64.self) { pointer in
          for _ in 0..<operations {
            sum &+= pointer.pointee
            atomicMemoryFence(ordering: .acquiring)
          }
        }
      }
      if s >= 0 { stopwatch.emit("globals.read.pointer", "ns", per: Double(operations)) }

      stopwatch = Stopwatch()
      var key: UInt32 = 0
      for _ in 0..<operations {
        let result = section.withUnsafeMutableBytes { BPF.lookupElement(map: bss.fileDescriptor.rawValue, key: &key, value: $0.baseAddress!) }
        if case .failure(let error) = result { fail("lookup: \(error)") }
        sum &+= UInt64(section[0])
      }
      if s >= 0 { stopwatch.emit("globals.read.syscall", "ns", per: Double(operations)) }

      stopwatch = Stopwatch()
      for i in 0..<operations {
        let read = section.withUnsafeMutableBytes { BPF.lookupElement(map: bss.fileDescriptor.rawValue, key: &key, value: $0.baseAddress!) }
        if case .failure(let error) = read { fail("lookup: \(error)") }
        section[0] = UInt8(truncatingIfNeeded: i)
        let write = section.withUnsafeBytes { BPF.updateElement(map: bss.fileDescriptor.rawValue, key: &key, value: $0.baseAddress!) }
        if case .failure(let error) = write { fail("update: \(error)") }
      }
      if s >= 0 { stopwatch.emit("globals.write.syscall", "ns", per: Double(operations)) }
      if sum == 42 { print("") }  // keeps the reads
    }
    runArray(samples: samples, operations: operations)
  }

  static func runArray(samples: Int, operations: Int) {
    let count: UInt32 = 1024
    let attributes = MapCreateAttributes(type: .array, keySize: 4, valueSize: 8, maxEntries: count, flags: .mmapable,
                                         name: "bench_mmap")
    let descriptor = check("create a BPF_F_MMAPABLE array") { try BPF.createMap(attributes) }
    let map = BPFMap(fileDescriptor: descriptor, name: "bench_mmap", type: .array, keySize: 4, valueSize: 8,
                     maxEntries: Int(count), flags: MapCreateFlags.mmapable.rawValue)
    let array = check("view it as ArrayMap<UInt64>") { try ArrayMap<UInt64>(map) }
    let mask = count - 1
    for s in -1..<samples {
      var sum: UInt64 = 0
      var stopwatch = Stopwatch()
      for i in 0..<operations { sum &+= check("mapped read") { try array.mappedValue(at: UInt32(truncatingIfNeeded: i) & mask) } }
      if s >= 0 { stopwatch.emit("array.read.mapped", "ns", per: Double(operations)) }

      stopwatch = Stopwatch()
      for i in 0..<operations { sum &+= check("read") { try array.value(at: UInt32(truncatingIfNeeded: i) & mask) } }
      if s >= 0 { stopwatch.emit("array.read.syscall", "ns", per: Double(operations)) }

      stopwatch = Stopwatch()
      for i in 0..<operations { check("mapped write") { try array.setMapped(UInt64(i), at: UInt32(truncatingIfNeeded: i) & mask) } }
      if s >= 0 { stopwatch.emit("array.write.mapped", "ns", per: Double(operations)) }

      stopwatch = Stopwatch()
      for i in 0..<operations { check("write") { try array.set(UInt64(i), at: UInt32(truncatingIfNeeded: i) & mask) } }
      if s >= 0 { stopwatch.emit("array.write.syscall", "ns", per: Double(operations)) }

      // The handle, resolved once; a fence per access, as for the global handle above.
      let elements = check("mappedElements") { try array.mappedElements() }
      stopwatch = Stopwatch()
      for i in 0..<operations {
        sum &+= check("handle read") { try elements.value(at: UInt32(truncatingIfNeeded: i) & mask) }
        atomicMemoryFence(ordering: .acquiring)
      }
      if s >= 0 { stopwatch.emit("array.read.handle", "ns", per: Double(operations)) }

      stopwatch = Stopwatch()
      for i in 0..<operations {
        check("handle write") { try elements.set(UInt64(i), at: UInt32(truncatingIfNeeded: i) & mask) }
        atomicMemoryFence(ordering: .releasing)
      }
      if s >= 0 { stopwatch.emit("array.write.handle", "ns", per: Double(operations)) }

      stopwatch = Stopwatch()
      for i in 0..<operations { sum &+= check("atomic add") { try array.wrappingAdd(1, at: UInt32(truncatingIfNeeded: i) & mask) } }
      if s >= 0 { stopwatch.emit("array.add.atomic", "ns", per: Double(operations)) }
      if sum == 42 { print("") }  // keeps the reads
    }
  }
}
