/// A parsed BPF object file: an immutable description of everything a clang-compiled
/// `-target bpf` object contains — programs, subprograms, relocations, maps, global data,
/// license, kernel version, BTF and BTF.ext.
///
/// Parsing makes no system call and needs no privileges; the same value can be inspected,
/// shared between tasks, and loaded any number of times.
///
/// ```swift
/// let object = try BPFObject(bytes: bytes)
/// for program in object.programs { print(program.sectionName, program.name) }
/// ```
public struct BPFObject: Sendable {
  /// The ELF layer: sections and symbols.
  public let elf: ELFFile
  /// Every program, in section order then offset order.
  public let programs: [BPFProgram]
  /// Every function in every executable section, programs and `.text` subprograms alike.
  public let functions: [BPFFunction]
  /// Every map definition, legacy and BTF style, in section order then offset order.
  public let maps: [BPFMapDefinition]
  /// The global-data sections.
  public let dataSections: [DataSection]
  /// Relocations per section, for every `.rel…` section the loader applies: those of
  /// executable sections and of `.maps`. Relocations of other sections (`.rel.debug_*`,
  /// `.rel.BTF`, `.rel.BTF.ext`) are not read.
  public let relocations: [SectionRelocations]
  /// The `license` section's string (e.g. `GPL`), if present.
  public let license: String?
  /// The `version` section's value, if present.
  public let kernelVersion: UInt32?
  /// The `.BTF` section, parsed.
  public let btf: BTF?
  /// The `.BTF.ext` section, parsed.
  public let btfExt: BTFExt?

  /// Parses `bytes`, the complete contents of a BPF ELF object.
  ///
  /// - Throws: ``ObjectError`` naming what is malformed and where.
  public init(bytes: [UInt8]) throws(ObjectError) {
    let elf = try ELFFile(bytes: bytes)
    self.elf = elf

    // License and version.
    if let section = elf.section(named: "license") {
      let data = elf.contents(of: section)
      guard let nul = data.firstIndex(of: 0) else { throw .invalidLicense(size: section.size) }
      license = String(decoding: data[data.startIndex..<nul], as: UTF8.self)
    } else {
      license = nil
    }
    if let section = elf.section(named: "version") {
      guard section.size == 4, let v = elf.contents(of: section).readLE(UInt32.self, at: 0) else {
        throw .invalidVersionSection(size: section.size)
      }
      kernelVersion = v
    } else {
      kernelVersion = nil
    }

    // BTF.
    var btf: BTF? = nil
    if let section = elf.section(named: ".BTF"), !section.isNoBits {
      do { btf = try BTF(bytes: elf.contents(of: section)) } catch { throw .btf(error) }
    }
    self.btf = btf
    if let btf, let section = elf.section(named: ".BTF.ext"), !section.isNoBits {
      do { btfExt = try BTFExt(bytes: elf.contents(of: section), btf: btf) } catch { throw .btf(error) }
    } else {
      btfExt = nil
    }

    // Each name is read from its string table once, and shared by everything that holds it.
    var names = SymbolNames(elf)
    let functions = try Self.findFunctions(elf, names: &names)
    self.functions = functions
    let dataSections = try Self.findDataSections(elf, btf: btf, names: &names)
    self.dataSections = dataSections
    var maps = try Self.findLegacyMaps(elf, names: &names)
    let btfMaps = try Self.findBTFMaps(elf, btf: btf, names: &names)
    maps.append(contentsOf: btfMaps)

    let relocations = try Self.classifyRelocations(elf, maps: maps, dataSections: dataSections,
                                                   names: &names)
    self.relocations = relocations

    // Resolve map-in-map and prog-array initial values from `.rel.maps`.
    if !btfMaps.isEmpty, let mapsSection = elf.section(named: ".maps"),
       let rels = relocations.first(where: { $0.targetSectionIndex == mapsSection.index }) {
      maps = try Self.applyInitialValues(maps: maps, relocations: rels.entries, elf: elf,
                                         functions: functions, btf: btf)
    }
    // Relocations, options and the loaded object find maps by name. A few maps are compared
    // pairwise (no hashing); many go through a set.
    if maps.count <= 16 {
      for i in maps.indices {
        for j in (i + 1)..<maps.count where maps[j].name == maps[i].name { throw .duplicateMapName(map: maps[i].name) }
      }
    } else {
      var names: Set<String> = []
      for map in maps where !names.insert(map.name).inserted { throw .duplicateMapName(map: map.name) }
    }
    self.maps = maps

    var programs: [BPFProgram] = []
    var split = RelocationSplit()
    // `.text` and, from clang -ffunction-sections, `.text.NAME` hold subprograms, not programs.
    for function in functions where !Self.isSubprogramSection(function.sectionName) && function.fragmentOf == nil {
      programs.append(BPFProgram(function: function, kind: ProgramSectionKind(sectionName: function.sectionName),
                                 relocations: split.relocations(of: function, in: relocations)))
    }
    self.programs = programs
  }

  /// Whether functions in section `name` are subprograms (called, never loaded on their own):
  /// `.text`, and `.text.NAME` as clang -ffunction-sections names each function's section.
  public static func isSubprogramSection(_ name: String) -> Bool {
    name == ".text" || name.hasPrefix(".text.")
  }

  // MARK: Lookups

  /// The program named `name`.
  ///
  /// - Throws: ``ObjectLookupError`` listing the programs the object does contain.
  public func program(named name: String) throws(ObjectLookupError) -> BPFProgram {
    guard let p = programs.first(where: { $0.name == name }) else {
      throw ObjectLookupError(kind: .program, name: name, available: programs.map(\.name))
    }
    return p
  }

  /// The map definition named `name`.
  ///
  /// - Throws: ``ObjectLookupError`` listing the maps the object does contain.
  public func map(named name: String) throws(ObjectLookupError) -> BPFMapDefinition {
    guard let m = maps.first(where: { $0.name == name }) else {
      throw ObjectLookupError(kind: .map, name: name, available: maps.map(\.name))
    }
    return m
  }

  /// The data section named `name` (e.g. `.rodata`), if any.
  public func dataSection(named name: String) -> DataSection? {
    dataSections.first { $0.name == name }
  }

  /// The fragments of `function` (its `.cold` parts), in section order.
  public func fragments(of function: BPFFunction) -> [BPFFunction] {
    functions.filter { $0.fragmentOf == function.name && $0.sectionIndex == function.sectionIndex }
  }

  /// The function starting at `offset` of section `sectionIndex`, if any.
  public func function(section sectionIndex: Int, offset: UInt64) -> BPFFunction? {
    functions.first { $0.sectionIndex == sectionIndex && $0.offset == offset }
  }
}

/// A name that the object does not contain, with the names it does.
public struct ObjectLookupError: Error, Equatable, Sendable, CustomStringConvertible {
  /// What was looked up.
  public enum Kind: String, Sendable { case program, map, variable, dataSection = "data section" }
  /// What was looked up.
  public var kind: Kind
  /// The name asked for.
  public var name: String
  /// The names that exist.
  public var available: [String]

  /// Creates an error for `name` of `kind`, listing the names that exist.
  public init(kind: Kind, name: String, available: [String]) {
    self.kind = kind
    self.name = name
    self.available = available
  }

  public var description: String {
    "no \(kind.rawValue) named '\(name)'; the object has: " +
      (available.isEmpty ? "none" : available.joined(separator: ", "))
  }
}
