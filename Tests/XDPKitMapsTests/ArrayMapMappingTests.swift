import Synchronization
import Testing
import XDPKitMaps
import XDPKitObject
import XDPKitSys
import XDPKitTestSupport

/// Direct element access to arrays made with BPF_MAP_CREATE and BPF_F_MMAPABLE: the kernel's
/// element layout (values 8-byte aligned), the mapping kept by the map, atomics from many
/// threads, and the read-only mapping of a frozen map.
@Suite("ArrayMap mmapped elements", .kernel)
struct ArrayMapMappingTests {
  @Test("4-byte values sit 8 bytes apart, as the kernel stores them; bpf(2) and memory agree both ways")
  func layout() throws {
    let map = try makeMap(.array, keySize: 4, valueSize: 4, maxEntries: 1000, flags: .mmapable, name: "mm_u32")
    let array = try ArrayMap<UInt32>(map)
    #expect(array.isMappable)
    try array.set(0xDEAD_BEEF, at: 999)
    try array.set(11, at: 1)
    #expect(try array.mappedValue(at: 999) == 0xDEAD_BEEF)
    #expect(try array.mappedValue(at: 1) == 11)
    #expect(try array.mappedValue(at: 0) == 0)
    #expect(UnsafeRawPointer(try array.pointer(at: 1)) - UnsafeRawPointer(try array.pointer(at: 0)) == 8)
    try array.setMapped(77, at: 500)
    #expect(try array.value(at: 500) == 77)
    #expect(try array.wrappingAdd(3, at: 500) == 80)
    #expect(try array.wrappingSubtract(81, at: 500) == UInt32.max)
    #expect(try array.value(at: 500) == UInt32.max)
    // The same mapping every time: made once, kept by the map.
    #expect(try array.pointer(at: 2) == (try ArrayMap<UInt32>(map).pointer(at: 2)))
  }

  @Test("atomic adds from four threads add up exactly")
  func atomicsFromThreads() async throws {
    let map = try makeMap(.array, keySize: 4, valueSize: 8, maxEntries: 2, flags: .mmapable, name: "mm_u64")
    let array = try ArrayMap<UInt64>(map)
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<4 {
        group.addTask { for _ in 0..<50_000 { _ = try? array.wrappingAdd(1, at: 1) } }
      }
    }
    #expect(try array.atomicValue(at: 1) == 200_000)
    #expect(try array.value(at: 1) == 200_000)
    #expect(try array.value(at: 0) == 0)
  }

  @Test("a map without the flag and a frozen map say why they give no access or no write access")
  func errors() throws {
    let plain = try ArrayMap<UInt64>(try makeMap(.array, keySize: 4, valueSize: 8, maxEntries: 2, name: "mm_plain"))
    #expect(!plain.isMappable)
    #expect(throws: MapError.notMappable(map: "mm_plain", reason: "it was created without BPF_F_MMAPABLE")) {
      try plain.pointer(at: 0)
    }
    let frozenMap = try makeMap(.array, keySize: 4, valueSize: 8, maxEntries: 2, flags: .mmapable, name: "mm_frozen")
    let frozen = try ArrayMap<UInt64>(frozenMap)
    try frozen.set(5, at: 0)
    try BPF.freeze(map: frozenMap.fileDescriptor)
    #expect(try frozen.mappedValue(at: 0) == 5)
    #expect(throws: MapError.readOnlyMapping(map: "mm_frozen")) { try frozen.wrappingAdd(1, at: 0) }
    #expect(throws: MapError.readOnlyMapping(map: "mm_frozen")) { try frozen.setMapped(1, at: 0) }
    #expect(try frozen.atomicValue(at: 0) == 5)
  }

  @Test("a mappedElements() handle: the same memory both ways, index and write checks, the mapping kept")
  func handle() throws {
    let map = try makeMap(.array, keySize: 4, valueSize: 4, maxEntries: 100, flags: .mmapable, name: "mm_handle")
    let array = try ArrayMap<UInt32>(map)
    let elements = try array.mappedElements()
    #expect(elements.count == 100 && elements.isWritable && elements.mapName == "mm_handle")
    try array.set(41, at: 7)
    #expect(try elements.value(at: 7) == 41)
    try elements.set(42, at: 99)
    #expect(try array.value(at: 99) == 42)
    #expect(try array.wrappingAdd(1, at: 99) == 43)
    #expect(try elements.value(at: 99) == 43)
    #expect(throws: MapError.indexOutOfRange(map: "mm_handle", index: 100, count: 100)) { try elements.value(at: 100) }
    #expect(throws: MapError.indexOutOfRange(map: "mm_handle", index: 100, count: 100)) { try elements.set(1, at: 100) }

    // The handle outlives the map value and the view it came from.
    let kept = try { () throws -> MappedArrayElements<UInt64> in
      let array = try ArrayMap<UInt64>(try makeMap(.array, keySize: 4, valueSize: 8, maxEntries: 4, flags: .mmapable, name: "mm_kept"))
      try array.set(0x0102_0304_0506_0708, at: 3)
      return try array.mappedElements()
    }()
    #expect(try kept.value(at: 3) == 0x0102_0304_0506_0708)

    let frozenMap = try makeMap(.array, keySize: 4, valueSize: 8, maxEntries: 2, flags: .mmapable, name: "mm_frozen2")
    let frozen = try ArrayMap<UInt64>(frozenMap)
    try frozen.set(5, at: 1)
    try BPF.freeze(map: frozenMap.fileDescriptor)
    let readOnly = try frozen.mappedElements()
    #expect(!readOnly.isWritable)
    #expect(try readOnly.value(at: 1) == 5)
    #expect(throws: MapError.readOnlyMapping(map: "mm_frozen2")) { try readOnly.set(6, at: 1) }

    let plain = try ArrayMap<UInt64>(try makeMap(.array, keySize: 4, valueSize: 8, maxEntries: 2, name: "mm_plain2"))
    #expect(throws: MapError.notMappable(map: "mm_plain2", reason: "it was created without BPF_F_MMAPABLE")) {
      try plain.mappedElements()
    }
  }
}
