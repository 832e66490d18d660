import XDPKitMaps
import XDPKitObject
import XDPKitSys

// Relocating and loading the programs, then filling program-array and map-in-map slots.

extension Loader {
  // MARK: Programs

  mutating func loadPrograms() throws(LoadError) {
    let linker = ProgramLinker(object: object)
    let externNames = externValues.keys.sorted()
    let mapFDs = DescriptorsByName(maps), dataFDs = DescriptorsByName(dataMaps)
    let resolver = RelocationResolver(
      mapFD: { name in mapFDs[name] },
      dataFD: { name in dataFDs[name] },
      extern: { [externValues] name in externValues[name] },
      externIndex: { name in externNames.firstIndex(of: name) ?? 0 },
      moduleBTF: { [moduleBTFs] module in
        moduleBTFs[module].map { ($0.slot, $0.descriptor.rawValue) }
      })
    let metadata = metadataMap
    for program in object.programs {
      if let wanted = options.programs {
        if !wanted.contains(program.name) { continue }
      } else if !program.kind.loadsByDefault {
        let reason = "its section \(program.sectionName) loads it only when LoadOptions.programs names it"
        skippedPrograms[program.name] = reason
        notes.append("program \(program.name) not loaded: \(reason)")
        continue
      }
      do {
        try loadProgram(program, linker: linker, resolver: resolver, externNames: externNames, metadata: metadata)
      } catch where options.programs == nil && error.isProgramSpecificUnsupported {
        // Not asked for by name: a program of a kind this loader or kernel cannot load fails
        // alone (an XDP tool's tp_btf helper on a locked-down kernel, say), with the reason.
        skippedPrograms[program.name] = error.description
        notes.append("program \(program.name) skipped: \(error)")
      }
    }
  }

  /// Links and loads `program`; binds `metadata` (``metadataMap``) to it when there is one.
  mutating func loadProgram(
    _ program: BPFProgram, linker: ProgramLinker, resolver: RelocationResolver, externNames: [String],
    metadata: BPFMap?
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
      type: type, instructions: linked.instructions, license: object.license ?? "",
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
      attributes.functionInfo = Self.kernelRecords(linked.functionInfo, recordSize: 8)
      if !linked.lineInfo.isEmpty { attributes.lineInfo = Self.kernelRecords(linked.lineInfo, recordSize: 16) }
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
    if let metadata {
      // As libbpf does: without the binding, a program that does not read its `.rodata`
      // shows no `bpf_metadata_*` values in bpftool. The program works either way.
      do { try BPF.bindMap(metadata.fileDescriptor, to: fd) } catch {
        notes.append("program \(program.name): .rodata not bound, so bpftool does not show its bpf_metadata_ values: \(error)")
      }
    }
    programs[program.name] = LoadedProgram(
      fileDescriptor: fd, name: program.name, type: type, sectionName: program.sectionName,
      expectedAttachType: expectedAttachType,
      instructionCount: linked.instructions.count)
  }

  /// The `.rodata` map when it holds `bpf_metadata_*` variables, which tools read from the
  /// maps a program holds (BPF_PROG_BIND_MAP binds it to every program); otherwise `nil`.
  var metadataMap: BPFMap? {
    // The variables first: most objects have none, and then no map is looked up by name.
    guard object.dataSections.contains(where: {
      $0.name == ".rodata" && $0.variables.contains { $0.name.hasPrefix("bpf_metadata_") }
    }) else { return nil }
    return dataMaps[".rodata"]
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

  /// Records already in the kernel's layout, as little-endian words, in the form
  /// BPF_PROG_LOAD takes them: one copy of their bytes.
  static func kernelRecords(_ words: [UInt32], recordSize: UInt32) -> BTFExtRecords {
    BTFExtRecords(recordSize: recordSize, bytes: words.withUnsafeBytes { Array($0) })
  }

  // MARK: Initial values

  /// Fills program-array slots with program fds and map-in-map slots with map fds.
  func fillInitialValues() throws(LoadError) {
    for definition in object.maps where !definition.initialValues.isEmpty {
      guard let map = maps[definition.name] else { continue }
      for (slot, value) in definition.initialValues.sorted(by: { $0.key < $1.key }) {
        var fd: UInt32
        let described: String
        switch value {
        case .program(let name):
          described = "program \(name)"
          guard let p = programs[name] else {
            throw .initialValueNotLoaded(
              map: definition.name, slot: slot, value: described,
              reason: skippedPrograms[name].map { "skipped: \($0)" } ?? "LoadOptions.programs does not select it")
          }
          fd = UInt32(bitPattern: p.fileDescriptor.rawValue)
        case .map(let name):
          described = "map \(name)"
          // Every map of the object is created before the slots are filled, and the reader
          // resolves the name among them.
          guard let m = maps[name] else {
            throw .initialValueNotLoaded(map: definition.name, slot: slot, value: described, reason: "not created")
          }
          fd = UInt32(bitPattern: m.fileDescriptor.rawValue)
        }
        guard let slotKey = UInt32(exactly: slot), Int(slotKey) < map.maxEntries else {
          throw .initialValueOutOfRange(map: definition.name, slot: slot, maxEntries: map.maxEntries)
        }
        var key = slotKey
        let result = BPF.updateElement(map: map.fileDescriptor.rawValue, key: &key, value: &fd, flags: .any)
        if case .failure(let e) = result { throw .initialValue(map: definition.name, slot: slot, value: described, e) }
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

/// Map descriptors by name, for the linker's relocations. An object has a few tens of maps;
/// a list searched by name length first, then by name, answers faster than hashing each
/// relocation's name. A large list is a dictionary.
struct DescriptorsByName {
  private let list: [(name: String, length: Int, descriptor: Int32)]
  private let table: [String: Int32]

  /// The most maps searched as a list.
  static let listLimit = 64

  init(_ maps: [String: BPFMap]) {
    self.init(maps.lazy.map { ($0.key, $0.value.fileDescriptor.rawValue) }, count: maps.count)
  }

  /// From `count` (name, descriptor) pairs with distinct names.
  init(_ pairs: some Sequence<(String, Int32)>, count: Int) {
    if count <= Self.listLimit {
      list = pairs.map { ($0.0, $0.0.utf8.count, $0.1) }
      table = [:]
    } else {
      list = []
      table = Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }
  }

  /// The descriptor of the map named `name`, if there is one.
  subscript(name: String) -> Int32? {
    guard table.isEmpty else { return table[name] }
    let length = name.utf8.count
    for entry in list where entry.length == length && entry.name == name { return entry.descriptor }
    return nil
  }
}
