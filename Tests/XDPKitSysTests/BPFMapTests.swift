import Glibc
import SystemPackage
import Testing
import XDPKitObject
import XDPKitTestSupport

@testable import XDPKitSys

// Map commands against the real kernel: every map is created by the test and closed when its
// descriptor goes out of scope.

@Suite("bpf(2) map commands", .kernel)
struct BPFMapTests {
  @Test("hash map: update, lookup, next key, delete, with the kernel's errors")
  func hashMap() throws {
    let map = try BPF.createMap(
      MapCreateAttributes(type: .hash, keySize: 4, valueSize: 8, maxEntries: 2, name: "xdpkit_hash"))

    #expect(lookup(map, UInt32(1), as: UInt64.self).errno == .noSuchFileOrDirectory)
    #expect(update(map, UInt32(1), UInt64(100), flags: .exist).errno == .noSuchFileOrDirectory)

    try update(map, UInt32(1), UInt64(100), flags: .noExist).get()
    #expect(update(map, UInt32(1), UInt64(200), flags: .noExist).errno == .fileExists)
    try update(map, UInt32(1), UInt64(111), flags: .exist).get()
    #expect(try lookup(map, UInt32(1), as: UInt64.self).get() == 111)

    try update(map, UInt32(2), UInt64(222)).get()
    // Full: a third key does not fit, an existing one still updates.
    let full = update(map, UInt32(3), UInt64(333), flags: .noExist)
    #expect(full.errno == .argListTooLong)
    #expect(full.error?.command == .mapUpdateElement)
    try update(map, UInt32(2), UInt64(2222)).get()

    #expect(try allKeys(map, as: UInt32.self).sorted() == [1, 2])

    try delete(map, UInt32(1)).get()
    #expect(delete(map, UInt32(1)).errno == .noSuchFileOrDirectory)
    #expect(lookup(map, UInt32(1), as: UInt64.self).errno == .noSuchFileOrDirectory)
    #expect(try lookup(map, UInt32(2), as: UInt64.self).get() == 2222)

    #expect(try lookupAndDelete(map, UInt32(2), as: UInt64.self).get() == 2222)
    #expect(lookup(map, UInt32(2), as: UInt64.self).errno == .noSuchFileOrDirectory)
    #expect(try allKeys(map, as: UInt32.self).isEmpty)
  }

  @Test("array map: zero-filled, bounded, not deletable")
  func arrayMap() throws {
    let map = try BPF.createMap(
      MapCreateAttributes(type: .array, keySize: 4, valueSize: 8, maxEntries: 4, name: "xdpkit_array"))

    for index: UInt32 in 0..<4 {
      #expect(try lookup(map, index, as: UInt64.self).get() == 0)
    }
    try update(map, UInt32(3), UInt64(0xDEAD_BEEF_0000_0001)).get()
    #expect(try lookup(map, UInt32(3), as: UInt64.self).get() == 0xDEAD_BEEF_0000_0001)
    #expect(update(map, UInt32(4), UInt64(1)).errno == .argListTooLong)
    #expect(lookup(map, UInt32(4), as: UInt64.self).errno == .noSuchFileOrDirectory)
    #expect(update(map, UInt32(0), UInt64(1), flags: .noExist).errno == .fileExists)
    #expect(delete(map, UInt32(0)).errno == .invalidArgument)
    #expect(try allKeys(map, as: UInt32.self) == [0, 1, 2, 3])
  }

  @Test("per-CPU array: one value per possible CPU, each slot rounded up to 8 bytes")
  func perCPUArray() throws {
    let cpus = try SystemInfo.possibleCPUCount()
    let map = try BPF.createMap(
      MapCreateAttributes(type: .perCPUArray, keySize: 4, valueSize: 4, maxEntries: 2, name: "xdpkit_pcpu"))

    // Value size 4 rounds up to an 8-byte slot per CPU.
    var values = [UInt64](repeating: 0, count: cpus)
    for cpu in 0..<cpus { values[cpu] = UInt64(1000 + cpu) }
    let key: UInt32 = 1
    let stored = withUnsafeBytes(of: key) { keyBytes in
      values.withUnsafeBytes { valueBytes in
        BPF.updateElement(map: map.rawValue, key: keyBytes.baseAddress, value: valueBytes.baseAddress!)
      }
    }
    try stored.get()

    var readBack = [UInt64](repeating: .max, count: cpus)
    let read = withUnsafeBytes(of: key) { keyBytes in
      readBack.withUnsafeMutableBytes { valueBytes in
        BPF.lookupElement(map: map.rawValue, key: keyBytes.baseAddress, value: valueBytes.baseAddress!)
      }
    }
    try read.get()
    // The kernel copies 4 bytes per CPU and zeroes the slot's padding.
    #expect(readBack == (0..<cpus).map { UInt64(1000 + $0) })
  }

  @Test("LRU hash: never holds more than max_entries, keeps the newest key")
  func lruHash() throws {
    let capacity: UInt32 = 128
    let map = try BPF.createMap(
      MapCreateAttributes(type: .lruHash, keySize: 4, valueSize: 4, maxEntries: capacity, name: "xdpkit_lru"))
    try update(map, UInt32(7), UInt32(70)).get()
    #expect(try lookup(map, UInt32(7), as: UInt32.self).get() == 70)
    for key: UInt32 in 1000..<2000 {
      try update(map, key, key &* 3).get()
    }
    let keys = try allKeys(map, as: UInt32.self)
    #expect(keys.count <= Int(capacity))
    #expect(!keys.isEmpty)
    #expect(try lookup(map, UInt32(1999), as: UInt32.self).get() == 1999 &* 3)
    for key in keys where key != 7 {
      #expect(try lookup(map, key, as: UInt32.self).get() == key &* 3)
    }
  }

  @Test("LPM trie: longest prefix wins; requires BPF_F_NO_PREALLOC")
  func lpmTrie() throws {
    let map = try BPF.createMap(
      MapCreateAttributes(
        type: .lpmTrie, keySize: 8, valueSize: 4, maxEntries: 16, flags: .noPreallocation,
        name: "xdpkit_lpm"))

    try update(map, LPMKey(prefixLength: 24, 192, 0, 2, 0), UInt32(24)).get()
    try update(map, LPMKey(prefixLength: 25, 192, 0, 2, 128), UInt32(25)).get()
    #expect(try lookup(map, LPMKey(prefixLength: 32, 192, 0, 2, 200), as: UInt32.self).get() == 25)
    #expect(try lookup(map, LPMKey(prefixLength: 32, 192, 0, 2, 5), as: UInt32.self).get() == 24)
    #expect(
      lookup(map, LPMKey(prefixLength: 32, 198, 51, 100, 1), as: UInt32.self).errno
        == .noSuchFileOrDirectory)

    try delete(map, LPMKey(prefixLength: 25, 192, 0, 2, 128)).get()
    #expect(try lookup(map, LPMKey(prefixLength: 32, 192, 0, 2, 200), as: UInt32.self).get() == 24)
    #expect(try allKeys(map, as: LPMKey.self) == [LPMKey(prefixLength: 24, 192, 0, 2, 0)])

    // Without BPF_F_NO_PREALLOC the kernel refuses an LPM trie.
    let refused = #expect(throws: SyscallError.self) {
      _ = try BPF.createMap(MapCreateAttributes(type: .lpmTrie, keySize: 8, valueSize: 4, maxEntries: 16))
    }
    #expect(refused?.errno == .invalidArgument)
    #expect(refused?.command == .mapCreate)
  }

  @Test("queue map: push and pop without a key")
  func queueMap() throws {
    let map = try BPF.createMap(
      MapCreateAttributes(type: .queue, keySize: 0, valueSize: 8, maxEntries: 4, name: "xdpkit_queue"))
    for value: UInt64 in [10, 20, 30] {
      let pushed = withUnsafeBytes(of: value) {
        BPF.updateElement(map: map.rawValue, key: nil, value: $0.baseAddress!)
      }
      try pushed.get()
    }
    var popped: [UInt64] = []
    while true {
      var value: UInt64 = 0
      let result = withUnsafeMutableBytes(of: &value) {
        BPF.lookupAndDeleteElement(map: map.rawValue, key: nil, value: $0.baseAddress!)
      }
      if result.errno == .noSuchFileOrDirectory { break }
      try result.get()
      popped.append(value)
    }
    #expect(popped == [10, 20, 30])
  }

  @Test("freeze: later updates from user space fail with EPERM, lookups still work")
  func freeze() throws {
    let map = try BPF.createMap(
      MapCreateAttributes(type: .array, keySize: 4, valueSize: 4, maxEntries: 1, name: "xdpkit_frozen"))
    try update(map, UInt32(0), UInt32(42)).get()
    try BPF.freeze(map: map)
    let refused = update(map, UInt32(0), UInt32(43))
    #expect(refused.errno == .notPermitted)
    #expect(refused.error?.command == .mapUpdateElement)
    #expect(try lookup(map, UInt32(0), as: UInt32.self).get() == 42)
  }

  @Test("map info and names: what was asked for is what the kernel reports")
  func mapInfo() throws {
    var attributes = MapCreateAttributes(
      type: .hash, keySize: 4, valueSize: 16, maxEntries: 64, flags: .noPreallocation,
      name: "a_name_longer_than_fifteen")
    attributes.numaNode = 0
    let map = try BPF.createMap(attributes)
    let info = try BPF.mapInfo(map)
    #expect(info.type == .hash)
    #expect(info.id > 0)
    #expect(info.keySize == 4)
    #expect(info.valueSize == 16)
    #expect(info.maxEntries == 64)
    #expect(info.flags == [.noPreallocation, .numaNode])
    #expect(info.name == "a_name_longer_t")
    #expect(info.btfID == 0)
    #expect(info.mapExtra == 0)
  }

  @Test("memlock: kernels since 5.11 account BPF memory to cgroups, so nothing is raised")
  func memlock() throws {
    let raised = try BPF.raiseMemlockLimitIfNeeded()
    if let version = SystemInfo.kernelVersion(), version >= KernelVersion(major: 5, minor: 11) {
      #expect(!raised)
    }
  }

  @Test("a name the kernel does not accept fails with EINVAL")
  func invalidName() {
    let refused = #expect(throws: SyscallError.self) {
      _ = try BPF.createMap(
        MapCreateAttributes(type: .array, keySize: 4, valueSize: 4, maxEntries: 1, name: "bad name!"))
    }
    #expect(refused?.errno == .invalidArgument)
  }
}

// MARK: - Helpers shared by the kernel tests of this target

/// An LPM trie key for IPv4: `struct bpf_lpm_trie_key` followed by four address bytes.
struct LPMKey: Equatable, BitwiseCopyable, CustomStringConvertible {
  var prefixLength: UInt32
  var address: (UInt8, UInt8, UInt8, UInt8)

  init(prefixLength: UInt32, _ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
    self.prefixLength = prefixLength
    self.address = (a, b, c, d)
  }

  static func == (lhs: LPMKey, rhs: LPMKey) -> Bool {
    lhs.prefixLength == rhs.prefixLength && lhs.address == rhs.address
  }

  var description: String {
    "\(address.0).\(address.1).\(address.2).\(address.3)/\(prefixLength)"
  }
}

extension Result where Failure == SyscallError {
  /// The errno of a failure, `nil` on success.
  var errno: Errno? {
    if case .failure(let error) = self { return error.errno }
    return nil
  }

  /// The failure, `nil` on success.
  var error: SyscallError? {
    if case .failure(let error) = self { return error }
    return nil
  }
}

func update<Key: BitwiseCopyable, Value: BitwiseCopyable>(
  _ map: BPFFileDescriptor, _ key: Key, _ value: Value, flags: MapUpdateFlags = .any
) -> Result<Void, SyscallError> {
  withUnsafeBytes(of: key) { keyBytes in
    withUnsafeBytes(of: value) { valueBytes in
      BPF.updateElement(
        map: map.rawValue, key: keyBytes.baseAddress, value: valueBytes.baseAddress!, flags: flags)
    }
  }
}

func lookup<Key: BitwiseCopyable, Value: BitwiseCopyable>(
  _ map: BPFFileDescriptor, _ key: Key, as: Value.Type
) -> Result<Value, SyscallError> {
  let storage = UnsafeMutableRawBufferPointer.allocate(
    byteCount: MemoryLayout<Value>.stride, alignment: MemoryLayout<Value>.alignment)
  defer { storage.deallocate() }
  let result = withUnsafeBytes(of: key) { keyBytes in
    BPF.lookupElement(map: map.rawValue, key: keyBytes.baseAddress, value: storage.baseAddress!)
  }
  return result.map { storage.load(as: Value.self) }
}

func lookupAndDelete<Key: BitwiseCopyable, Value: BitwiseCopyable>(
  _ map: BPFFileDescriptor, _ key: Key, as: Value.Type
) -> Result<Value, SyscallError> {
  let storage = UnsafeMutableRawBufferPointer.allocate(
    byteCount: MemoryLayout<Value>.stride, alignment: MemoryLayout<Value>.alignment)
  defer { storage.deallocate() }
  let result = withUnsafeBytes(of: key) { keyBytes in
    BPF.lookupAndDeleteElement(map: map.rawValue, key: keyBytes.baseAddress, value: storage.baseAddress!)
  }
  return result.map { storage.load(as: Value.self) }
}

func delete<Key: BitwiseCopyable>(_ map: BPFFileDescriptor, _ key: Key) -> Result<Void, SyscallError> {
  withUnsafeBytes(of: key) { BPF.deleteElement(map: map.rawValue, key: $0.baseAddress!) }
}

/// Every key of `map`, in the kernel's iteration order (BPF_MAP_GET_NEXT_KEY until ENOENT).
func allKeys<Key: BitwiseCopyable>(_ map: BPFFileDescriptor, as: Key.Type) throws(SyscallError) -> [Key] {
  var keys: [Key] = []
  let next = UnsafeMutableRawBufferPointer.allocate(
    byteCount: MemoryLayout<Key>.stride, alignment: MemoryLayout<Key>.alignment)
  defer { next.deallocate() }
  while true {
    let result: Result<Void, SyscallError>
    if let last = keys.last {
      result = withUnsafeBytes(of: last) {
        BPF.nextKey(map: map.rawValue, after: $0.baseAddress, into: next.baseAddress!)
      }
    } else {
      result = BPF.nextKey(map: map.rawValue, after: nil, into: next.baseAddress!)
    }
    switch result {
    case .success: keys.append(next.load(as: Key.self))
    case .failure(let error) where error.errno == .noSuchFileOrDirectory: return keys
    case .failure(let error): throw error
    }
  }
}
