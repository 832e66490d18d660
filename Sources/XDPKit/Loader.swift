import Glibc
import XDPKitMaps
import XDPKitObject
import SystemPackage
import XDPKitSys

extension BPFObject {
  /// Creates this object's kernel objects: loads its BTF, creates every map (and one array
  /// map per global-data section), relocates and loads the programs, and fills program-array
  /// and map-in-map slots.
  ///
  /// The description is not changed and can be loaded again. Everything created is owned by
  /// the returned ``LoadedObject`` and released when it is closed or deinitialised; when
  /// loading fails, whatever was already created is released before the error is thrown.
  ///
  /// - Throws: ``LoadError`` naming the stage, the map or program, and the kernel's answer
  ///   (for a rejected program, the verifier log).
  public func load(options: LoadOptions = LoadOptions()) throws(LoadError) -> LoadedObject {
    var loader = Loader(object: self, options: options)
    return try loader.run()
  }
}

/// One load of one object. Holds the partial result; on error its kernel objects are released
/// when it goes out of scope.
struct Loader {
  let object: BPFObject
  let options: LoadOptions
  var notes: [String] = []
  var btf: BPFFileDescriptor? = nil
  var maps: [String: BPFMap] = [:]
  var dataMaps: [String: BPFMap] = [:]
  var dataMappings: [String: GlobalDataMapping] = [:]
  var programs: [String: LoadedProgram] = [:]
  /// The checked pin directory (``LoadOptions/pinDirectory``), opened with the first map
  /// pinned by name.
  var pinDirectory: BPFFSDirectory? = nil
  /// Pins this load created in ``pinDirectory`` (not the ones it reused), removed again if the
  /// load fails.
  var createdPins: [String] = []
  /// Data sections the loader made (`.kconfig`), for ``LoadedObject/global(_:as:)``.
  var loaderSections: [DataSection] = []
  /// How each extern's references are rewritten.
  var externValues: [String: ExternValue] = [:]
  /// The kernel modules' BTF objects that externs resolved into, with their `fd_array` slots
  /// (from 1; held until the programs are loaded).
  var moduleBTFs: [String: (slot: Int, descriptor: BPFFileDescriptor)] = [:]
  /// Programs left out because their kind cannot be loaded here, with the reason.
  var skippedPrograms: [String: String] = [:]

  init(object: BPFObject, options: LoadOptions) {
    self.object = object
    self.options = options.applyingLogLevel(to: object)
  }

  mutating func run() throws(LoadError) -> LoadedObject {
    do {
      return try build()
    } catch {
      // Leave bpffs as it was: a failed load must not leave maps pinned for the next one to
      // reuse. Descriptors are released when this loader goes away.
      for name in createdPins { _ = try? pinDirectory?.remove(name) }
      throw error
    }
  }

  mutating func build() throws(LoadError) -> LoadedObject {
    try validateOptions()
    try raiseMemlockIfNeeded()
    if options.useBTF { loadBTF() }
    for definition in object.maps { try createMap(definition) }
    for section in object.dataSections { try createDataMap(section) }
    externValues = try resolveExterns()
    try loadPrograms()
    try fillInitialValues()
    return LoadedObject(object: object, maps: maps, dataMaps: dataMaps, dataMappings: dataMappings, programs: programs,
                        btf: btf, notes: notes, loaderSections: loaderSections,
                        skippedPrograms: skippedPrograms)
  }

  // MARK: Options

  func validateOptions() throws(LoadError) {
    for name in options.maxEntries.keys.sorted() where !object.maps.contains(where: { $0.name == name }) {
      throw .unknownMap(ObjectLookupError(kind: .map, name: name, available: object.maps.map(\.name)))
    }
    for name in options.mapFlags.keys.sorted() where !object.maps.contains(where: { $0.name == name }) {
      throw .unknownMap(ObjectLookupError(kind: .map, name: name, available: object.maps.map(\.name)))
    }
    for name in (options.programs ?? []).sorted() where !object.programs.contains(where: { $0.name == name }) {
      throw .unknownProgram(ObjectLookupError(kind: .program, name: name, available: object.programs.map(\.name)))
    }
    for (name, value) in options.globals {
      guard let variable = object.dataSections.lazy.compactMap({ $0.variable(named: name) }).first else {
        throw .unknownVariable(ObjectLookupError(
          kind: .variable, name: name,
          available: object.dataSections.flatMap { $0.variables.map(\.name) }))
      }
      let (size, stride) = byteCounts(of: value)
      // A C struct's size includes tail padding, which Swift's `size` leaves out: accept either.
      guard UInt64(size) == variable.size || UInt64(stride) == variable.size else {
        throw .variableSizeMismatch(variable: name, expected: variable.size, actual: size)
      }
    }
  }

  // MARK: Memlock

  /// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK; later ones to the memory cgroup.
  /// The sys layer probes with a tiny map and raises the limit only when that fails with EPERM.
  ///
  /// A process without CAP_BPF gets EPERM from the probe too, and then cannot raise the limit
  /// either (setrlimit EPERM). That is not a memlock problem: loading goes on, so that the
  /// first map or program creation fails with EPERM and says which object needed the
  /// privilege, instead of blaming RLIMIT_MEMLOCK.
  mutating func raiseMemlockIfNeeded() throws(LoadError) {
    do {
      if try BPF.raiseMemlockLimitIfNeeded() {
        notes.append("raised RLIMIT_MEMLOCK: this kernel accounts BPF memory against it")
      }
    } catch where error.operation == .rlimit {
      notes.append("could not raise RLIMIT_MEMLOCK (\(error)); continuing with the current limit")
    } catch {
      throw .memlock(error)
    }
  }

  // MARK: BTF

  /// Loads the object's BTF after filling in what clang leaves for the loader: DATASEC sizes
  /// and the offsets of their variables. On rejection, continues without BTF and notes why.
  mutating func loadBTF() {
    guard var btf = object.btf else { return }
    do {
      try BTFFixup.apply(to: &btf, object: object)
    } catch {
      notes.append("BTF not loaded: could not prepare it: \(error)")
      return
    }
    let used = BTFKernelFeatures(usedBy: btf)
    var assumedMissing = options.btfFeaturesAssumedMissing.intersection(used)
    if assumedMissing.isEmpty {
      do {
        self.btf = try BPF.loadBTFCapturingLog(btf.encoded())
        return
      } catch {
        // Refused: find out which of the newer encodings it uses this kernel lacks.
        assumedMissing = used.subtracting(BTFFeatureProbe.supported(used))
        guard !assumedMissing.isEmpty else {
          notes.append("BTF rejected by the kernel, loading without it: \(error)")
          return
        }
      }
    }
    let rewrites: [String]
    do { rewrites = try BTFSanitizer.sanitize(&btf, removing: assumedMissing) } catch {
      notes.append("BTF not loaded: this kernel lacks \(assumedMissing) and rewriting failed: \(error)")
      return
    }
    do {
      self.btf = try BPF.loadBTFCapturingLog(btf.encoded())
      notes.append("BTF rewritten for this kernel, which lacks \(assumedMissing): \(rewrites.joined(separator: "; "))")
    } catch {
      notes.append("BTF rejected by the kernel even after rewriting \(assumedMissing), loading without it: \(error)")
    }
  }

  // MARK: Maps

  mutating func createMap(_ declared: BPFMapDefinition) throws(LoadError) {
    var declared = declared
    if let value = options.maxEntries[declared.name] { declared.maxEntries = value }
    if let value = options.mapFlags[declared.name] { declared.flags = value }
    let (definition, changes) = MapFixups.apply(to: declared)
    for change in changes { notes.append("map \(definition.name): \(change)") }
    var maxEntries = definition.maxEntries
    let flags = definition.flags
    if maxEntries == 0 && !MapFixups.localStorageTypes.contains(definition.type) {
      if definition.type == .perfEventArray {
        // One slot per possible CPU, as perf event arrays are used.
        guard let cpus = try? SystemInfo.possibleCPUCount() else {
          throw .missingMaxEntries(map: definition.name)
        }
        maxEntries = UInt32(clamping: cpus)
      } else {
        throw .missingMaxEntries(map: definition.name)
      }
    }

    var pinning: BPFFSDirectory? = nil
    if definition.pinning == .byName, let path = options.pinDirectory {
      guard !definition.name.contains("/"), !definition.name.contains("."), !definition.name.isEmpty else {
        throw .invalidPinName(map: definition.name)
      }
      let directory = try openPinDirectory(path, for: definition.name)
      pinning = directory
      if let existing = try reusePinnedMap(definition, in: directory, maxEntries: maxEntries, flags: flags) {
        maps[definition.name] = existing
        notes.append("map \(definition.name): reusing the map pinned at \(directory.pathOf(definition.name))")
        return
      }
    }

    var attributes = MapCreateAttributes(
      type: definition.type, keySize: definition.keySize, valueSize: definition.valueSize,
      maxEntries: maxEntries, flags: MapCreateFlags(rawValue: flags), name: definition.name)
    if definition.numaNode != 0 { attributes.numaNode = definition.numaNode }
    attributes.mapExtra = definition.mapExtra

    // A map-in-map needs a template inner map for the duration of the create call.
    var innerTemplate: BPFFileDescriptor? = nil
    if let inner = definition.innerMap {
      let innerAttributes = MapCreateAttributes(
        type: inner.type, keySize: inner.keySize, valueSize: inner.valueSize,
        maxEntries: inner.maxEntries, flags: MapCreateFlags(rawValue: inner.flags),
        name: String((definition.name + "_inner").prefix(15)))
      do { innerTemplate = try BPF.createMap(innerAttributes) } catch {
        throw .mapCreation(map: definition.name + " (inner map template)", error)
      }
      attributes.innerMap = innerTemplate
    }

    let fd: BPFFileDescriptor
    if let btf, let key = definition.keyTypeID, let value = definition.valueTypeID,
       definition.keySize != 0 {
      var withBTF = attributes
      withBTF.btf = btf
      withBTF.btfKeyTypeID = key
      withBTF.btfValueTypeID = value
      do {
        fd = try BPF.createMap(withBTF)
      } catch {
        // Some map types (program arrays, map-in-maps on older kernels) refuse BTF key/value
        // types; such maps work the same without them.
        do { fd = try BPF.createMap(attributes) } catch { throw .mapCreation(map: definition.name, error) }
        notes.append("map \(definition.name): created without BTF types (\(error.errno))")
      }
    } else {
      do { fd = try BPF.createMap(attributes) } catch { throw .mapCreation(map: definition.name, error) }
    }
    withExtendedLifetime(innerTemplate) {}

    let map = BPFMap(fileDescriptor: fd, name: definition.name, type: definition.type,
                     keySize: Int(definition.keySize), valueSize: Int(definition.valueSize),
                     maxEntries: Int(maxEntries), flags: flags)
    if let pinning {
      do { try pinning.pin(fd, as: definition.name) } catch {
        throw .pinning(map: definition.name, path: pinning.pathOf(definition.name), error)
      }
      createdPins.append(definition.name)
    }
    maps[definition.name] = map
  }

  /// The pin directory, opened (and created, mode 0700) through ``BPFFSDirectory`` once.
  mutating func openPinDirectory(_ path: String, for map: String) throws(LoadError) -> BPFFSDirectory {
    if let pinDirectory { return pinDirectory }
    do {
      let directory = try BPFFSDirectory.open(path, create: true)
      pinDirectory = directory
      return directory
    } catch {
      throw .pinning(map: map, path: path, error)
    }
  }

  /// Opens the map pinned in `directory` under the map's name if there is one and it matches
  /// the definition; `nil` if nothing is pinned there. A pinned map that differs is an error
  /// naming the field; a pinned object that is not a map is an error naming its kind.
  func reusePinnedMap(_ definition: BPFMapDefinition, in directory: BPFFSDirectory, maxEntries: UInt32,
                      flags: UInt32) throws(LoadError) -> BPFMap? {
    let path = directory.pathOf(definition.name)
    let fd: BPFFileDescriptor
    do { fd = try directory.openPinned(definition.name, kind: .map) } catch {
      if case .noSuchObject = error { return nil }
      throw .pinning(map: definition.name, path: path, error)
    }
    let info: MapInfo
    do { info = try BPF.mapInfo(fd) } catch {
      throw .pinning(map: definition.name, path: path, .syscall(path: path, error))
    }
    let checks: [(String, UInt64, UInt64)] = [
      ("type", UInt64(definition.type.rawValue), UInt64(info.type.rawValue)),
      ("key_size", UInt64(definition.keySize), UInt64(info.keySize)),
      ("value_size", UInt64(definition.valueSize), UInt64(info.valueSize)),
      ("max_entries", UInt64(maxEntries), UInt64(info.maxEntries)),
      ("map_flags", UInt64(flags), UInt64(info.flags.rawValue)),
    ]
    for (field, expected, actual) in checks where expected != actual {
      throw .pinnedMapMismatch(map: definition.name, path: path, field: field, expected: expected, actual: actual)
    }
    return BPFMap(fileDescriptor: fd, name: definition.name, type: info.type, keySize: Int(info.keySize),
                  valueSize: Int(info.valueSize), maxEntries: Int(info.maxEntries), flags: info.flags.rawValue)
  }

  // MARK: Global data

  /// One single-element array map per data section; its value is the section's bytes with the
  /// user's globals applied. `.rodata*` maps are read-only for programs and frozen after the
  /// fill, so the verifier can treat their contents as constants.
  mutating func createDataMap(_ section: DataSection) throws(LoadError) {
    guard section.size > 0, let valueSize = UInt32(exactly: section.size) else { return }
    var flags = MapCreateFlags()
    if section.kind == .rodata { flags.insert(.readOnlyForPrograms) }
    // Mmapable where the kernel can (5.5+), as libbpf makes them: globals are then memory.
    if KernelFeatures.mmapableArrays.isSupported { flags.insert(.mmapable) }
    var attributes = MapCreateAttributes(type: .array, keySize: 4, valueSize: valueSize, maxEntries: 1,
                                         flags: flags, name: mapName(forSection: section.name))
    if let btf, let datasec = section.btfTypeID {
      attributes.btf = btf
      attributes.btfValueTypeID = datasec
    }
    let fd: BPFFileDescriptor
    do { fd = try BPF.createMap(attributes) } catch {
      if attributes.btf == nil { throw .mapCreation(map: section.name, error) }
      attributes.btf = nil
      attributes.btfValueTypeID = 0
      do { fd = try BPF.createMap(attributes) } catch { throw .mapCreation(map: section.name, error) }
    }
    // Built only now that the kernel has accepted the size (a crafted .bss cannot make the
    // loader allocate more than the kernel allows for one map value).
    var bytes = section.initialBytes
    if bytes.count < Int(valueSize) { bytes += [UInt8](repeating: 0, count: Int(valueSize) - bytes.count) }
    for variable in section.variables {
      guard let value = options.globals[variable.name] else { continue }
      write(value, into: &bytes, at: Int(variable.offset))
    }
    var key: UInt32 = 0
    let result = bytes.withUnsafeBytes { value in
      BPF.updateElement(map: fd.rawValue, key: &key, value: value.baseAddress!, flags: .any)
    }
    if case .failure(let e) = result { throw .mapCreation(map: section.name, e) }
    if section.kind == .rodata {
      do { try BPF.freeze(map: fd) } catch { throw .mapCreation(map: section.name, error) }
    }
    dataMaps[section.name] = BPFMap(fileDescriptor: fd, name: section.name, type: .array, keySize: 4,
                                    valueSize: Int(valueSize), maxEntries: 1, flags: flags.rawValue)
    if flags.contains(.mmapable) {
      if let mapping = GlobalDataMapping.map(fd, valueSize: Int(valueSize), readOnly: section.kind == .rodata) {
        dataMappings[section.name] = mapping
      } else {
        notes.append("\(section.name): mmap of the mmapable map failed (\(Errno.current)); globals go through bpf(2)")
      }
    }
  }

  /// Kernel object names hold 15 bytes of `[A-Za-z0-9_.]`.
  func mapName(forSection name: String) -> String {
    String(name.unicodeScalars.map { c -> Character in
      c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == ".")
        ? Character(c) : "_"
    }.prefix(15))
  }

  // MARK: Programs

  mutating func loadPrograms() throws(LoadError) {
    let linker = ProgramLinker(object: object)
    let externNames = externValues.keys.sorted()
    let resolver = RelocationResolver(
      mapFD: { [maps] name in maps[name]?.fileDescriptor.rawValue },
      dataFD: { [dataMaps] name in dataMaps[name]?.fileDescriptor.rawValue },
      extern: { [externValues] name in externValues[name] },
      externIndex: { name in externNames.firstIndex(of: name) ?? 0 },
      moduleBTF: { [moduleBTFs] module in
        moduleBTFs[module].map { ($0.slot, $0.descriptor.rawValue) }
      })
    for program in object.programs {
      if let wanted = options.programs, !wanted.contains(program.name) { continue }
      do {
        try loadProgram(program, linker: linker, resolver: resolver, externNames: externNames)
      } catch where options.programs == nil && error.isProgramSpecificUnsupported {
        // Not asked for by name: a program of a kind this loader or kernel cannot load fails
        // alone (an XDP tool's tp_btf helper on a locked-down kernel, say), with the reason.
        skippedPrograms[program.name] = error.description
        notes.append("program \(program.name) skipped: \(error)")
      }
    }
  }

  mutating func loadProgram(
    _ program: BPFProgram, linker: ProgramLinker, resolver: RelocationResolver, externNames: [String]
  ) throws(LoadError) {
    let override = options.programOverrides[program.name]
    guard let type = override?.type ?? program.programType else {
      throw .unsupportedProgram(program: program.name, section: program.sectionName,
                                reason: "the section name does not say which program type it is")
    }
    if type == .structOps {
      throw .unsupportedProgram(program: program.name, section: program.sectionName,
                                reason: "struct_ops programs are not supported yet")
    }
    let needsTarget = Self.trampolineTypes.contains(type)
    let target = needsTarget ? try resolveAttachTarget(for: program, type: type) : nil
    var linked = try linker.link(program, resolver: resolver)
    let poisoned = try applyCORE(to: &linked, program: program.name)
    var flags: ProgramLoadFlags = program.kind.allowsFragments ? [.xdpHasFragments] : []
    if program.kind.isSleepable { flags.insert(.sleepable) }
    if let override { flags = override.flags }
    // A program loaded as another type keeps no expected attach type of its section's.
    let expectedAttachType = override?.type == nil ? program.kind.expectedAttachType : nil
    var attributes = ProgramLoadAttributes(
      type: type, instructions: linked.instructions.map(\.word), license: object.license ?? "",
      name: String(program.name.prefix(15)), expectedAttachType: expectedAttachType,
      flags: flags)
    attributes.kernelVersion = object.kernelVersion ?? 0
    attributes.descriptorArray = moduleDescriptorArray
    if let target {
      attributes.attachBTFID = target.btfID
      attributes.attachTarget = target.targetObject
    }
    if let btf, !linked.functionInfo.isEmpty {
      attributes.btf = btf
      attributes.functionInfo = Self.functionInfoRecords(linked.functionInfo)
      if !linked.lineInfo.isEmpty { attributes.lineInfo = Self.lineInfoRecords(linked.lineInfo) }
    }
    let fd: BPFFileDescriptor
    do {
      fd = try BPF.loadProgramCapturingLog(attributes, logLevel: BPFLogLevel(rawValue: options.verifierLogLevel))
    } catch {
      if needsTarget, error.syscall.errno == .notPermitted,
         let mode = SystemInfo.lockdownMode(), mode.refusesTrampolines {
        throw .lockedDown(program: program.name, type: type, mode: mode)
      }
      if let index = Self.poisonedCallIndex(in: error.verifierLog), index < externNames.count {
        throw .missingWeakKernelFunctionCalled(program: program.name, kfunc: externNames[index])
      }
      throw poisonedRelocationError(error, poisoned: poisoned, program: program.name)
        ?? .program(name: program.name, error)
    }
    programs[program.name] = LoadedProgram(
      fileDescriptor: fd, name: program.name, type: type, sectionName: program.sectionName,
      expectedAttachType: expectedAttachType,
      instructionCount: linked.instructions.count)
  }

  /// `fd_array` for kfunc calls into modules: slot 0 unused (offset 0 means vmlinux), then each
  /// module BTF at its slot. Empty when no extern is in a module.
  var moduleDescriptorArray: [Int32] {
    guard !moduleBTFs.isEmpty else { return [] }
    var array = [Int32](repeating: 0, count: moduleBTFs.count + 1)
    for (_, entry) in moduleBTFs { array[entry.slot] = entry.descriptor.rawValue }
    return array
  }

  /// The extern index of a poisoned kfunc call the verifier reached, from its log
  /// ("invalid func unknown#2002000003" or "unknown func #2002000003").
  static func poisonedCallIndex(in log: String) -> Int? {
    let base = String(poisonedKfuncCallBase / 1000)
    for line in log.split(separator: "\n") {
      guard let hash = line.firstIndex(of: "#") else { continue }
      let digits = line[line.index(after: hash)...].prefix { $0.isNumber }
      guard digits.hasPrefix(base), let value = Int(digits) else { continue }
      let index = value - Int(poisonedKfuncCallBase)
      if (0..<1000).contains(index) { return index }
    }
    return nil
  }

  /// Program types that run through BPF trampolines and need a BTF attach target.
  static let trampolineTypes: Set<BPFProgramType> = [.tracing, .lsm, .ext]

  static func functionInfoRecords(_ records: [(index: UInt32, typeID: UInt32)]) -> BTFExtRecords {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(records.count * 8)
    for r in records {
      appendLE(r.index, to: &bytes)
      appendLE(r.typeID, to: &bytes)
    }
    return BTFExtRecords(recordSize: 8, bytes: bytes)
  }

  static func lineInfoRecords(_ records: [(index: UInt32, record: BTFExt.LineInfo)]) -> BTFExtRecords {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(records.count * 16)
    for r in records {
      appendLE(r.index, to: &bytes)
      appendLE(r.record.fileNameOffset, to: &bytes)
      appendLE(r.record.lineOffset, to: &bytes)
      appendLE(r.record.lineCol, to: &bytes)
    }
    return BTFExtRecords(recordSize: 16, bytes: bytes)
  }

  // MARK: Initial values

  /// Fills program-array slots with program fds and map-in-map slots with map fds.
  func fillInitialValues() throws(LoadError) {
    for definition in object.maps where !definition.initialValues.isEmpty {
      guard let map = maps[definition.name] else { continue }
      for (slot, value) in definition.initialValues.sorted(by: { $0.key < $1.key }) {
        var fd: UInt32
        switch value {
        case .program(let name):
          guard let p = programs[name] else { continue }  // not selected for loading
          fd = UInt32(bitPattern: p.fileDescriptor.rawValue)
        case .map(let name):
          guard let m = maps[name] else { continue }
          fd = UInt32(bitPattern: m.fileDescriptor.rawValue)
        }
        guard let slotKey = UInt32(exactly: slot), Int(slotKey) < map.maxEntries else {
          throw .initialValueOutOfRange(map: definition.name, slot: slot, maxEntries: map.maxEntries)
        }
        var key = slotKey
        let result = BPF.updateElement(map: map.fileDescriptor.rawValue, key: &key, value: &fd, flags: .any)
        if case .failure(let e) = result { throw .initialValue(map: definition.name, slot: slot, e) }
      }
    }
  }
}

func appendLE(_ value: UInt32, to bytes: inout [UInt8]) {
  bytes.append(UInt8(value & 0xff))
  bytes.append(UInt8((value >> 8) & 0xff))
  bytes.append(UInt8((value >> 16) & 0xff))
  bytes.append(UInt8(value >> 24))
}

/// The size and stride in bytes of an existential bitwise-copyable value's type.
func byteCounts(of value: any BitwiseCopyable & Sendable) -> (size: Int, stride: Int) {
  func counts<T: BitwiseCopyable>(_: T) -> (Int, Int) { (MemoryLayout<T>.size, MemoryLayout<T>.stride) }
  return counts(value)
}

/// Copies the bytes of `value` into `bytes` at `offset` (which the caller checked).
func write(_ value: any BitwiseCopyable & Sendable, into bytes: inout [UInt8], at offset: Int) {
  func copy<T: BitwiseCopyable>(_ v: T) {
    withUnsafeBytes(of: v) { raw in
      for (i, b) in raw.enumerated() where offset + i < bytes.count { bytes[offset + i] = b }
    }
  }
  copy(value)
}
