import XDPKitObject

/// The maps part of the generated code: a `Maps` struct with one typed view per map, made
/// from a loaded object or from maps the caller opens (bpffs pins) and checks against the
/// object's definitions; a `MapName` enum of the C names; and the record types of ring
/// buffers (`__records` in xdpkit_bpf.h).
extension ObjectGenerator {
  /// One map as the generated code shows it.
  struct MapEntry {
    var definition: BPFMapDefinition
    /// The Swift property and `MapName` case.
    var name: String
    /// The typed view (`HashMap<UInt32, UInt32>`) and its initializer from a `BPFMap`.
    var view: String
    var wrapper: String
    /// The Swift type of the records the program writes into it, when its definition names one.
    var record: String?

    var comment: String {
      let capacity = definition.type == .ringBuffer ? "\(definition.maxEntries) bytes" : "\(definition.maxEntries) entries"
      return "Map `\(definition.name)` (\(definition.type), \(capacity))"
    }

    var recordComment: [String] {
      guard let record else { return [] }
      if definition.type == .ringBuffer {
        return ["    /// Its records are ``\(record)``: `\(name).poll(as: \(record).self) { … }` decodes them."]
      }
      return ["    /// Its records are ``\(record)``: `\(record)(bytes:)` decodes one."]
    }

    func loadedLines(access: String) -> [String] {
      ["    /// \(comment)."] + recordComment + ["    \(access) var \(name): \(view) { maps.\(name) }"]
    }
  }

  /// Member names the generated `Loaded` and `Maps` keep for themselves.
  static let reservedMemberNames: Set<String> = [
    "object", "init", "deinit", "maps", "all", "definition", "allCases", "rawValue",
  ]

  /// The object's maps in C-name order, with their views and record types declared.
  func mapEntries(btf: BTF, types: inout SwiftTypeEmitter, members: inout NameScope) throws(GeneratorError) -> [MapEntry] {
    var entries: [MapEntry] = []
    for map in object.maps.sorted(by: { $0.name < $1.name }) {
      let (view, wrapper) = try mapView(map, types: &types)
      var record: String?
      if let recordID = recordTypeID(of: map.name, in: btf) {
        record = try types.swiftType(
          recordID, path: "map \(map.name) record", suggestedName: SwiftNames.type(map.name) + "Record").name
      }
      entries.append(MapEntry(
        definition: map, name: members.claim(SwiftNames.property(map.name)), view: view, wrapper: wrapper, record: record))
    }
    return entries
  }

  /// The record type a map definition names with `__records(TYPE, RECORD)`: the element type
  /// of the array its `type` member points to, when that is a struct or union (`__uint` gives
  /// an `int` there). Loaders read only the array's length.
  func recordTypeID(of mapName: String, in btf: BTF) -> BTFTypeID? {
    guard let definitionID = Self.variableType(mapName, in: btf),
          let resolved = try? btf.skippingModifiers(definitionID),
          case .struct(_, let members)? = try? btf.type(id: resolved).body,
          let typeMember = members.first(where: { $0.name == "type" }),
          case .pointer(let arrayID)? = try? btf.type(id: btf.skippingModifiers(typeMember.type)).body,
          case .array(let info)? = try? btf.type(id: btf.skippingModifiers(arrayID)).body,
          let element = try? btf.skippingModifiers(info.elementType),
          let elementType = try? btf.type(id: element)
    else { return nil }
    switch elementType.body {
    case .struct, .union: return element
    default: return nil
    }
  }

  /// Declares the C type `name` (`drop_event`, `struct drop_event`, `union u`, `enum e`).
  func declareExtraType(_ name: String, btf: BTF, types: inout SwiftTypeEmitter) throws(GeneratorError) {
    var bare = Substring(name)
    var kinds: [BTFKind] = [.struct, .union, .enum, .enum64, .typedef]
    for (prefix, kind) in [("struct ", [BTFKind.struct]), ("union ", [.union]), ("enum ", [.enum, .enum64])]
    where bare.hasPrefix(prefix) {
      bare = bare.dropFirst(prefix.count)
      kinds = kind
    }
    let typeName = String(bare.drop(while: { $0 == " " }))
    guard let id = kinds.lazy.compactMap({ btf.typeID(named: typeName, kind: $0) }).first else {
      throw .noSuchType(name)
    }
    _ = try types.swiftType(id, path: name, suggestedName: SwiftNames.type(typeName))
  }

  /// `Maps` and `MapName`.
  static func mapsDeclaration(_ maps: [MapEntry], access: String) -> [String] {
    var out = [
      "  /// The object's maps as typed views: of a loaded object, or of maps opened one by one",
      "  /// (from bpffs pins), each checked against the object's definition first.",
      "  \(access) struct Maps: Sendable {",
    ]
    for map in maps {
      out.append("    /// \(map.comment).")
      out += map.recordComment
      out.append("    \(access) let \(map.name): \(map.view)")
    }
    out += [
      "",
      "    /// Typed views of the maps of `object`, which must be this object loaded. Type, key and",
      "    /// value sizes are checked; the capacity is not (``LoadOptions/maxEntries`` may change it).",
      "    \(access) init(_ object: LoadedObject) throws {",
      "      try self.init(checkingCapacity: false) { try object.map($0) }",
      "    }",
      "",
      "    /// Typed views of the maps `open` returns for each C name (`\(maps.first?.definition.name ?? "NAME")`): each must",
      "    /// have the object's type, key size, value size and max entries, or the init throws",
      "    /// ``GeneratedMapError`` naming it. Errors `open` throws pass through.",
      "    \(access) init(opening open: (String) throws -> BPFMap) throws {",
      "      try self.init(checkingCapacity: true, open)",
      "    }",
      "",
      "    private init(checkingCapacity: Bool, _ open: (String) throws -> BPFMap) throws {",
    ]
    if !maps.isEmpty {
      out += [
        "      func map(_ name: MapName) throws -> BPFMap {",
        "        try name.definition.check(open(name.rawValue), capacity: checkingCapacity)",
        "      }",
      ]
    }
    for map in maps {
      out.append("      self.\(map.name) = try \(map.wrapper.isEmpty ? "map(.\(map.name))" : "\(map.wrapper)(map(.\(map.name)))")")
    }
    out += [
      "    }",
      "",
      "    /// Every map with its C name, in C-name order (to pin them, for instance).",
      "    \(access) var all: [(name: String, map: BPFMap)] {",
    ]
    if maps.isEmpty {
      out.append("      []")
    } else {
      out.append("      [")
      for map in maps {
        out.append("        (\(literal(map.definition.name)), \(map.name)\(map.wrapper.isEmpty ? "" : ".map")),")
      }
      out.append("      ]")
    }
    out += ["    }", "  }", ""]
    guard !maps.isEmpty else { return out }
    out += [
      "  /// The C names of the object's maps.",
      "  \(access) enum MapName: String, CaseIterable, Sendable {",
    ]
    for map in maps {
      out.append("    case \(map.name) = \(literal(map.definition.name))")
    }
    out += [
      "",
      "    /// The map's definition in the object, which maps opened by name are checked against.",
      "    \(access) var definition: GeneratedMapDefinition {",
      "      switch self {",
    ]
    for map in maps {
      let d = map.definition
      out.append("      case .\(map.name):")
      out.append("        GeneratedMapDefinition(name: rawValue, type: BPFMapType(rawValue: \(d.type.rawValue)), keySize: \(d.keySize), valueSize: \(d.valueSize), maxEntries: \(d.maxEntries))")
    }
    out += ["      }", "    }", "  }", ""]
    return out
  }
}
