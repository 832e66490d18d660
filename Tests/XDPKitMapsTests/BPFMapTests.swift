import Glibc
import Testing
import XDPKitMaps
import XDPKitObject
import XDPKitSys
import XDPKitTestSupport

@Suite("BPFMap", .kernel)
struct BPFMapTests {
  @Test("the definition read from the kernel matches the one created")
  func definitionFromKernel() throws {
    let created = try makeMap(.hash, keySize: 8, valueSize: 16, maxEntries: 33, name: "defn")
    let reread = try BPFMap(fileDescriptor: created.fileDescriptor.duplicate())
    #expect(reread.name == "defn")
    #expect(reread.type == .hash)
    #expect(reread.keySize == 8)
    #expect(reread.valueSize == 16)
    #expect(reread.maxEntries == 33)
    #expect(reread.flags == 0)
    #expect(try reread.id == created.id)
    let info = try created.info()
    #expect(info.keySize == 8 && info.valueSize == 16 && info.maxEntries == 33)
  }

  @Test("pin, then open(pinnedAt:) sees the same contents and id; the pin is removed")
  func pinAndOpen() throws {
    let directory = try TemporaryPinDirectory()
    defer { directory.remove() }
    let path = directory.pinPath("pinned_hash")

    let map = try makeMap(.hash, keySize: 4, valueSize: 4, maxEntries: 8, name: "pinned")
    let hash = try HashMap<UInt32, UInt32>(map)
    try hash.insert(0xC000_0201, forKey: 1)
    try hash.insert(0xC633_6401, forKey: 2)
    try map.pin(at: path)
    defer { unlink(path) }
    #expect(access(path, F_OK) == 0)

    let opened = try BPFMap.open(pinnedAt: path)
    #expect(try opened.id == map.id)
    #expect(opened.name == "pinned")
    #expect(opened.keySize == 4 && opened.valueSize == 4 && opened.maxEntries == 8)
    let view = try HashMap<UInt32, UInt32>(opened)
    #expect(try view.value(forKey: 1) == 0xC000_0201)
    #expect(try view.value(forKey: 2) == 0xC633_6401)
    // A write through one descriptor is seen through the other.
    try view.insert(3, forKey: 3)
    #expect(try hash.value(forKey: 3) == 3)

    // Pinning twice at the same path fails, naming the path.
    let error = #expect(throws: MapError.self) { try map.pin(at: path) }
    if case .pinning(.exists(let taken)) = error {
      #expect(taken == path)
    } else {
      Issue.record("unexpected \(String(describing: error))")
    }

    #expect(unlink(path) == 0)
    #expect(throws: MapError.noPinnedObject(path: path)) { try BPFMap.open(pinnedAt: path) }
  }

  @Test("open(id:) finds the same map; an unused id is .noMapWithID")
  func openByID() throws {
    let map = try makeMap(.array, keySize: 4, valueSize: 4, maxEntries: 2, name: "by_id")
    let id = try map.id
    let opened = try BPFMap.open(id: id)
    #expect(try opened.id == id)
    #expect(opened.type == .array)
    try ArrayMap<UInt32>(map).set(77, at: 1)
    #expect(try ArrayMap<UInt32>(opened).value(at: 1) == 77)
    #expect(throws: MapError.noMapWithID(UInt32.max)) { try BPFMap.open(id: UInt32.max) }
  }

  @Test("a pinned program is not a map")
  func pinnedProgramIsNotAMap() throws {
    let directory = try TemporaryPinDirectory()
    defer { directory.remove() }
    let path = directory.pinPath("program")
    let program = try loadPassProgram()
    try BPF.pin(program, at: path)
    defer { unlink(path) }
    #expect(throws: MapError.notAMap(path: path)) { try BPFMap.open(pinnedAt: path) }
  }

  @Test("a frozen map refuses updates from user space")
  func freeze() throws {
    let map = try makeMap(.array, keySize: 4, valueSize: 4, maxEntries: 2, name: "frozen")
    let array = try ArrayMap<UInt32>(map)
    try array.set(5, at: 0)
    try map.freeze()
    let error = #expect(throws: MapError.self) { try array.set(6, at: 0) }
    if case .syscall(_, let syscall) = error {
      #expect(syscall.errno == .notPermitted)
    } else {
      Issue.record("unexpected \(String(describing: error))")
    }
    #expect(try array.value(at: 0) == 5)
  }

  @Test("program array: set a program, read its id, remove it")
  func programArray() throws {
    let map = try makeMap(.programArray, keySize: 4, valueSize: 4, maxEntries: 4, name: "jumps")
    let jumps = try ProgramArray(map)
    let program = try loadPassProgram()
    let programID = try BPF.programInfo(program).id
    #expect(try jumps.programID(at: 2) == nil)
    try jumps.set(program, at: 2)
    #expect(try jumps.programID(at: 2) == programID)
    #expect(try jumps.occupiedIndices() == [2])
    #expect(try jumps.remove(at: 2))
    #expect(try jumps.remove(at: 2) == false)
    #expect(try jumps.programID(at: 2) == nil)
    #expect(throws: MapError.indexOutOfRange(map: "jumps", index: 4, count: 4)) {
      try jumps.set(program, at: 4)
    }
  }

  @Test("array and hash of maps: store inner maps, read their ids, open them")
  func mapOfMaps() throws {
    let template = try makeMap(.array, keySize: 4, valueSize: 8, maxEntries: 4, name: "template")
    let outerArray = try makeMap(
      .arrayOfMaps, keySize: 4, valueSize: 4, maxEntries: 4, name: "outer_a", innerMap: template)
    let outerHash = try makeMap(
      .hashOfMaps, keySize: 8, valueSize: 4, maxEntries: 4, name: "outer_h", innerMap: template)
    let inner = try makeMap(.array, keySize: 4, valueSize: 8, maxEntries: 4, name: "inner")
    try ArrayMap<UInt64>(inner).set(1234, at: 3)

    let byIndex = try MapOfMaps<UInt32>(outerArray)
    try byIndex.set(inner, forKey: 1)
    #expect(try byIndex.innerMapID(forKey: 1) == inner.id)
    #expect(try byIndex.innerMapID(forKey: 0) == nil)
    let reopened = try #require(try byIndex.innerMap(forKey: 1))
    #expect(try ArrayMap<UInt64>(reopened).value(at: 3) == 1234)
    #expect(try byIndex.removeValue(forKey: 1))

    let byName = try MapOfMaps<UInt64>(outerHash)
    try byName.set(inner, forKey: 0xABCD, policy: .onlyNew)
    #expect(throws: MapError.keyExists(map: "outer_h")) {
      try byName.set(inner, forKey: 0xABCD, policy: .onlyNew)
    }
    #expect(try byName.innerMapID(forKey: 0xABCD) == inner.id)
    #expect(try byName.keys() == [0xABCD])
    #expect(try byName.innerMap(forKey: 1) == nil)
  }
}
