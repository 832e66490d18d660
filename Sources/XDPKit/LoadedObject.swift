import Synchronization
import XDPKitMaps
import XDPKitObject
import XDPKitSys

/// The kernel objects made from one `BPFObject`: its maps, global-data maps, programs and
/// BTF. Created by ``XDPKitObject/BPFObject/load(options:)``.
///
/// Every kernel object is owned by exactly one Swift value and closed once. Handles obtained
/// from a loaded object (maps, typed views, programs, links) keep what they use alive, so
/// ``close()`` releases the loaded object's own references; a map still referenced by a view
/// stays open until that view is gone.
public final class LoadedObject: Sendable {
  /// The description this was loaded from.
  public let object: BPFObject
  /// What the loader decided along the way (BTF rejected, maps reused from pins, …).
  public let notes: [String]

  struct State {
    var maps: [String: BPFMap]
    var dataMaps: [String: BPFMap]
    var dataMappings: [String: GlobalDataMapping]
    var programs: [String: LoadedProgram]
    var btf: BPFFileDescriptor?
  }
  private let state: Mutex<State?>
  /// Serialises read-modify-write of data-section values by ``setGlobal(_:to:)``.
  private let globalWrites = Mutex(())

  /// Programs of the object that were not loaded, with the reason (also in ``notes``), when
  /// ``LoadOptions/programs`` did not ask for them: their kind cannot be loaded here, or their
  /// section name starts with `?` (not loaded unless named).
  public let skippedPrograms: [String: String]
  /// Sections the loader made that the object file does not have (`.kconfig`).
  private let loaderSections: [DataSection]
  /// Every global variable by name, with its section: the object's sections first, then the
  /// loader's, the first of a name winning. Built on the first lookup by name, not by every
  /// load (most loads never ask).
  private let variables = Mutex<[String: (DataSection, DataVariable)]?>(nil)

  init(object: BPFObject, maps: [String: BPFMap], dataMaps: [String: BPFMap],
       dataMappings: [String: GlobalDataMapping] = [:], programs: [String: LoadedProgram], btf: BPFFileDescriptor?, notes: [String],
       loaderSections: [DataSection] = [], skippedPrograms: [String: String] = [:]) {
    self.object = object
    self.skippedPrograms = skippedPrograms
    self.notes = notes
    self.loaderSections = loaderSections
    self.state = Mutex(State(maps: maps, dataMaps: dataMaps, dataMappings: dataMappings, programs: programs, btf: btf))
  }

  /// Releases this object's references to its maps, programs and BTF. Idempotent. Programs
  /// attached through a bpf_link stay attached while the link lives.
  public func close() {
    state.withLock { $0 = nil }
  }

  /// Whether ``close()`` has been called.
  public var isClosed: Bool { state.withLock { $0 == nil } }

  private func withState<R>(_ body: (State) throws(LoadedObjectError) -> R) throws(LoadedObjectError) -> R {
    let snapshot = state.withLock { $0 }
    guard let snapshot else { throw .closed }
    return try body(snapshot)
  }

  // MARK: Programs

  /// The names of the loaded programs.
  public var programNames: [String] { (state.withLock { $0?.programs.keys.sorted() }) ?? [] }

  /// The loaded program named `name`.
  public func program(_ name: String) throws(LoadedObjectError) -> LoadedProgram {
    try withState { (s) throws(LoadedObjectError) in
      guard let p = s.programs[name] else {
        throw .notFound(ObjectLookupError(kind: .program, name: name, available: s.programs.keys.sorted()))
      }
      return p
    }
  }

  /// The loaded XDP program named `name`, ready to attach.
  public func xdpProgram(_ name: String) throws(LoadedObjectError) -> XDPProgram {
    let p = try program(name)
    guard p.type == .xdp else { throw .wrongProgramType(program: name, expected: .xdp, actual: p.type) }
    return XDPProgram(p)
  }

  // MARK: Maps

  /// The names of the object's maps.
  public var mapNames: [String] { (state.withLock { $0?.maps.keys.sorted() }) ?? [] }

  /// The map named `name`, untyped.
  public func map(_ name: String) throws(LoadedObjectError) -> BPFMap {
    try withState { (s) throws(LoadedObjectError) in
      guard let m = s.maps[name] else {
        throw .notFound(ObjectLookupError(kind: .map, name: name, available: s.maps.keys.sorted()))
      }
      return m
    }
  }

  /// The array map holding data section `name` (`.data`, `.rodata`, `.bss`, …).
  public func dataMap(_ section: String) throws(LoadedObjectError) -> BPFMap {
    try withState { (s) throws(LoadedObjectError) in
      guard let m = s.dataMaps[section] else {
        throw .notFound(ObjectLookupError(kind: .dataSection, name: section, available: s.dataMaps.keys.sorted()))
      }
      return m
    }
  }

  /// A typed view of hash (or LRU hash) map `name`; sizes are checked against the definition.
  public func hashMap<Key: BitwiseCopyable, Value: BitwiseCopyable>(
    _ name: String, key: Key.Type = Key.self, value: Value.Type = Value.self
  ) throws -> HashMap<Key, Value> {
    try HashMap(map(name))
  }

  /// A typed view of array map `name`.
  public func arrayMap<Value: BitwiseCopyable>(_ name: String, value: Value.Type = Value.self) throws -> ArrayMap<Value> {
    try ArrayMap(map(name))
  }

  /// A typed view of per-CPU array map `name`.
  public func perCPUArray<Value: BitwiseCopyable>(_ name: String, value: Value.Type = Value.self) throws -> PerCPUArray<Value> {
    try PerCPUArray(map(name))
  }

  /// A typed view of per-CPU hash map `name`.
  public func perCPUHashMap<Key: BitwiseCopyable, Value: BitwiseCopyable>(
    _ name: String, key: Key.Type = Key.self, value: Value.Type = Value.self
  ) throws -> PerCPUHashMap<Key, Value> {
    try PerCPUHashMap(map(name))
  }

  /// A typed view of LPM trie map `name`.
  public func lpmTrie<Key: BitwiseCopyable, Value: BitwiseCopyable>(
    _ name: String, key: Key.Type = Key.self, value: Value.Type = Value.self
  ) throws -> LPMTrie<Key, Value> {
    try LPMTrie(map(name))
  }

  /// A reader of ring-buffer map `name` (BPF_MAP_TYPE_RINGBUF): mmapped, woken through epoll,
  /// and an `AsyncSequence` of records via `records()` / `records(as:)`. Make one per map.
  public func ringBuffer(_ name: String) throws -> RingBuffer {
    try RingBuffer(map(name))
  }

  // MARK: Global variables

  /// Reads global variable `name` from its data-section map. `T`'s size must equal the
  /// variable's.
  ///
  /// Where the kernel has mmapable arrays (5.5+) the section is mmapped and this is a memory
  /// read; otherwise it is BPF_MAP_LOOKUP_ELEM of the whole section.
  public func global<T: BitwiseCopyable>(_ name: String, as type: T.Type = T.self) throws -> T {
    let (section, variable) = try locate(name, size: MemoryLayout<T>.size, stride: MemoryLayout<T>.stride)
    if let mapping = try mapping(section.name) {
      return withUnsafeTemporaryAllocation(of: T.self, capacity: 1) { value in
        UnsafeMutableRawBufferPointer(value).copyMemory(from: UnsafeRawBufferPointer(
          start: mapping.base + Int(variable.offset), count: min(MemoryLayout<T>.size, Int(variable.size))))
        return value[0]
      }
    }
    let map = try dataMap(section.name)
    let bytes = try readSection(map)
    return bytes.withUnsafeBytes { raw in
      // Copy exactly the variable's bytes; a Swift type whose size omits C tail padding reads
      // only its own `size` bytes.
      withUnsafeTemporaryAllocation(of: T.self, capacity: 1) { value in
        let destination = UnsafeMutableRawBufferPointer(value)
        let count = min(MemoryLayout<T>.size, Int(variable.size))
        destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[Int(variable.offset)..<(Int(variable.offset) + count)]))
        return value[0]
      }
    }
  }

  /// Writes global variable `name` in its data-section map, where the program sees it at once.
  /// Fails for `.rodata` variables, whose map is frozen at load (set them with
  /// ``LoadOptions/globals`` instead).
  ///
  /// Where the section is mmapped (kernels with mmapable arrays, 5.5+) this stores the
  /// variable's bytes and nothing else: variables the program changes meanwhile are untouched.
  /// Otherwise the kernel updates the section as one value, so this reads the section, changes
  /// the variable and writes the section back: calls from several tasks are serialised, but a
  /// change the *program* makes to another variable of the same section between the read and
  /// the write is lost.
  public func setGlobal<T: BitwiseCopyable>(_ name: String, to value: T) throws {
    let (section, variable) = try locate(name, size: MemoryLayout<T>.size, stride: MemoryLayout<T>.stride)
    if let mapping = try mapping(section.name), mapping.isWritable {
      withUnsafeBytes(of: value) { raw in
        (mapping.base + Int(variable.offset)).copyMemory(from: raw.baseAddress!, byteCount: min(raw.count, Int(variable.size)))
      }
      return
    }
    let map = try dataMap(section.name)
    try globalWrites.withLock { _ throws(LoadedObjectError) in
      var bytes = try readSection(map)
      withUnsafeBytes(of: value) { raw in
        for (i, b) in raw.prefix(Int(variable.size)).enumerated() { bytes[Int(variable.offset) + i] = b }
      }
      var key: UInt32 = 0
      let result = bytes.withUnsafeBytes { BPF.updateElement(map: map.fileDescriptor.rawValue, key: &key, value: $0.baseAddress!) }
      if case .failure(let e) = result { throw LoadedObjectError.syscall(e) }
    }
  }

  /// Calls `body` with a pointer to global variable `name` in its mmapped section, valid for
  /// the call (the mapping stays while `body` runs, even if the object is closed meanwhile).
  /// Reads and writes through it are plain memory accesses the program sees at once; use
  /// atomics (`Atomic` over the pointer) for counters both sides change. `nil` when the
  /// section is not mmapped (a kernel before 5.5) — use ``global(_:as:)`` then. The pointer of
  /// a `.rodata` or `.kconfig` variable must only be read: those mappings are read-only.
  public func withGlobalPointer<T: BitwiseCopyable, R>(
    _ name: String, as type: T.Type = T.self, _ body: (UnsafeMutablePointer<T>) throws -> R
  ) throws -> R? {
    let (section, variable) = try locate(name, size: MemoryLayout<T>.size, stride: MemoryLayout<T>.stride)
    guard let mapping = try mapping(section.name) else { return nil }
    return try withExtendedLifetime(mapping) {
      try body((mapping.base + Int(variable.offset)).assumingMemoryBound(to: T.self))
    }
  }

  /// A handle to global variable `name` for repeated reads and writes at memory speed (the
  /// name is looked up once, here); `nil` when its section is not mmapped (a kernel before
  /// 5.5: use ``global(_:as:)`` and ``setGlobal(_:to:)`` there). `T`'s size must equal the
  /// variable's, as for ``global(_:as:)``.
  public func mappedGlobal<T: BitwiseCopyable>(
    _ name: String, as type: T.Type = T.self
  ) throws(LoadedObjectError) -> MappedGlobal<T>? {
    let (section, variable) = try locate(name, size: MemoryLayout<T>.size, stride: MemoryLayout<T>.stride)
    guard let mapping = try mapping(section.name) else { return nil }
    return MappedGlobal(name: name, section: section.name, mapping: mapping, offset: Int(variable.offset))
  }

  /// Whether data section `section` (`.data`, `.bss`, …) is mmapped.
  public func isMapped(section: String) throws(LoadedObjectError) -> Bool { try mapping(section) != nil }

  private func mapping(_ section: String) throws(LoadedObjectError) -> GlobalDataMapping? {
    // Only the mapping is taken out under the lock, not a copy of the whole state.
    let found: GlobalDataMapping?? = state.withLock { state in state.map { $0.dataMappings[section] } }
    guard let found else { throw .closed }
    return found
  }

  private func locate(_ name: String, size: Int, stride: Int) throws(LoadedObjectError) -> (DataSection, DataVariable) {
    let found = variables.withLock { index in
      if index == nil {
        var built: [String: (DataSection, DataVariable)] = [:]
        for section in object.dataSections + loaderSections {
          for variable in section.variables where built[variable.name] == nil { built[variable.name] = (section, variable) }
        }
        index = built
      }
      return index?[name]
    }
    guard let (section, v) = found else {
      throw .notFound(ObjectLookupError(kind: .variable, name: name,
                                        available: object.dataSections.flatMap { $0.variables.map(\.name) }))
    }
    // A C struct's size includes tail padding, which Swift's `size` leaves out.
    guard v.size == UInt64(size) || v.size == UInt64(stride) else {
      throw .variableSizeMismatch(variable: name, expected: v.size, actual: size)
    }
    return (section, v)
  }


  private func readSection(_ map: BPFMap) throws(LoadedObjectError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: Int(map.valueSize))
    var key: UInt32 = 0
    let result = bytes.withUnsafeMutableBytes {
      BPF.lookupElement(map: map.fileDescriptor.rawValue, key: &key, value: $0.baseAddress!)
    }
    if case .failure(let e) = result { throw .syscall(e) }
    return bytes
  }
}

/// Why a lookup on a ``LoadedObject`` failed.
public enum LoadedObjectError: Error, Sendable, CustomStringConvertible {
  /// The object has been closed.
  case closed
  /// No program, map, variable or data section has that name; the error lists those that do.
  case notFound(ObjectLookupError)
  /// The program exists but is of another type.
  case wrongProgramType(program: String, expected: BPFProgramType, actual: BPFProgramType)
  /// The Swift type's size differs from the variable's.
  case variableSizeMismatch(variable: String, expected: UInt64, actual: Int)
  /// A bpf(2) call failed.
  case syscall(SyscallError)

  public var description: String {
    switch self {
    case .closed: return "the loaded object has been closed"
    case .notFound(let e): return "\(e)"
    case .wrongProgramType(let p, let expected, let actual):
      return "program \(p) is \(actual), not \(expected)"
    case .variableSizeMismatch(let v, let expected, let actual):
      return "global \(v) is \(expected) bytes, the Swift type is \(actual) bytes"
    case .syscall(let e): return "\(e)"
    }
  }
}
