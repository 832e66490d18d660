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
    maps.reserveCapacity(object.maps.count)
    dataMaps.reserveCapacity(object.dataSections.count)
    programs.reserveCapacity(object.programs.count)
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
    // One pass over the types' headers serves both the extern fix-up and the features: the
    // fix-up changes no kind a feature depends on, and makes no FUNC global.
    let summary = btf.headerSummary
    do {
      try BTFFixup.apply(to: &btf, object: object, externIDs: summary.externIDs)
    } catch {
      notes.append("BTF not loaded: could not prepare it: \(error)")
      return
    }
    let used = BTFKernelFeatures(summary)
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
}
