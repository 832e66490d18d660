import XDPKitObject

/// Writes the Swift for one BPF object: a namespace type named after the object with its C
/// types, a `Config` for `.rodata`, `load(_:options:)`, and a `Loaded` class with one typed
/// property per map, program and global. The same object and options give the same text.
public struct ObjectGenerator {
  /// Who may use the generated declarations.
  public enum AccessLevel: String, Sendable, CaseIterable {
    case `public`, `internal`
  }

  public let object: BPFObject
  /// The object's file bytes, embedded in the output.
  public let bytes: [UInt8]
  /// The generated namespace's name (``typeName(forFile:)`` by default).
  public let typeName: String
  public let accessLevel: AccessLevel
  /// The object's file name, for comments.
  public let fileName: String
  /// Where the generated code gets the object's bytes: embedded in the output (`nil`, the
  /// default), or this Swift expression of type `[UInt8]?` (BPFCompilerPlugin passes
  /// `EmbeddedBPFObjects.bytes(named: "…")`, which the same target already holds).
  public var objectBytesExpression: String? = nil
  /// C types to declare even when no map or global reaches them (`xdpkit generate --type`),
  /// by name: `drop_event`, or `struct drop_event` to pick the kind. Each must be in the BTF.
  public var extraTypes: [String] = []

  /// A generator for the object in `bytes`, read from `fileName`.
  /// - Throws: ``ObjectError`` when the bytes are not a BPF object.
  public init(bytes: [UInt8], fileName: String, typeName: String? = nil, accessLevel: AccessLevel = .public) throws(ObjectError) {
    self.object = try BPFObject(bytes: bytes)
    self.bytes = bytes
    self.fileName = fileName
    self.typeName = typeName ?? Self.typeName(forFile: fileName)
    self.accessLevel = accessLevel
  }

  /// `xdp_firewall.o` or `xdp_firewall.c` → `XDPFirewall`: the words in UpperCamelCase, with
  /// the well-known abbreviations (XDP, TC, IP, …) in capitals.
  public static func typeName(forFile fileName: String) -> String {
    var base = Substring(fileName.split(separator: "/").last ?? "")
    if let dot = base.firstIndex(of: ".") { base = base[..<dot] }
    let abbreviations: Set<String> = ["xdp", "tc", "ip", "ipv4", "ipv6", "tcp", "udp", "icmp", "bpf", "lpm", "xsk", "cpu", "dns", "http"]
    let name = SwiftNames.words(String(base)).map { word in
      abbreviations.contains(word.lowercased()) ? word.uppercased() : SwiftNames.type(word)
    }.joined()
    return SwiftNames.escaped(name.isEmpty ? "BPFObjectTypes" : name)
  }

  /// The Swift source.
  /// - Throws: ``GeneratorError`` when the object has no BTF or a type has no exact Swift form.
  public func generate() throws(GeneratorError) -> String {
    guard let btf = object.btf else { throw .missingBTF }
    let access = accessLevel.rawValue
    var types = SwiftTypeEmitter(
      btf: btf, access: access, reserved: ["Config", "Loaded", "Object", typeName])
    var members = NameScope(reserved: Self.reservedMemberNames)

    // Maps.
    let maps = try mapEntries(btf: btf, types: &types, members: &members)
    // Programs.
    var programLines: [String] = []
    var programInits: [String] = []
    for program in object.programs.sorted(by: { $0.name < $1.name }) {
      let name = members.claim(SwiftNames.property(program.name))
      let isXDP = program.programType == .xdp
      programLines.append("    /// Program `\(program.name)` (section `\(program.sectionName)`).")
      programLines.append("    \(access) let \(name): \(isXDP ? "XDPProgram" : "LoadedProgram")")
      programInits.append("      self.\(name) = try object.\(isXDP ? "xdpProgram" : "program")(\(Self.literal(program.name)))")
    }
    // Globals: .rodata* is configuration, .data*/.bss* are variables.
    var configLines: [String] = []
    var configAssignments: [String] = []
    var globalLines: [String] = []
    var configNames = NameScope(reserved: ["init"])
    for section in object.dataSections.sorted(by: { $0.name < $1.name }) {
      let isConfig = section.name.hasPrefix(".rodata")
      guard isConfig || section.name.hasPrefix(".data") || section.name.hasPrefix(".bss") else { continue }
      for variable in section.variables where variable.isGlobal && !variable.name.isEmpty {
        guard let typeID = Self.variableType(variable.name, in: btf) else { continue }
        let path = "\(section.name) \(variable.name)"
        let type = try types.swiftType(typeID, path: path, suggestedName: SwiftNames.type(variable.name))
        guard type.size == Int(variable.size) else {
          throw .unrepresentable(path: path, reason: "its BTF type has \(type.size) bytes, the symbol \(variable.size)")
        }
        if isConfig {
          let name = configNames.claim(SwiftNames.property(variable.name))
          let initial = Self.initialValue(section, variable, type)
          configLines.append("    /// `\(variable.name)` (`\(section.name)`), \(initial.comment).")
          configLines.append("    \(access) var \(name): \(type.name) = \(initial.expression)")
          configAssignments.append("    options.globals[\(Self.literal(variable.name))] = config.\(name)")
        } else {
          let name = members.claim(SwiftNames.property(variable.name))
          globalLines.append("    /// Global `\(variable.name)` in `\(section.name)`: `try \(name).value`, `try \(name).set(…)`.")
          globalLines.append("    \(access) var \(name): GlobalVariable<\(type.name)> { GlobalVariable(object, name: \(Self.literal(variable.name))) }")
        }
      }
    }

    // Types named on request, such as the records a program writes into a perf buffer.
    for name in extraTypes { try declareExtraType(name, btf: btf, types: &types) }

    var out: [String] = [
      "// Generated by xdpkit generate from \(fileName). Do not edit.",
      "",
      "import XDPKit",
      "",
      "/// The BPF object `\(fileName)`, typed: its C types, its `.rodata` configuration, and its",
      "/// maps, programs and globals once loaded.",
      "\(access) enum \(typeName) {",
      "  /// Configuration: one property per `.rodata` variable, with the object's initial values.",
      "  /// The loader writes them before the kernel freezes `.rodata`.",
      "  \(access) struct Config: Sendable {",
    ]
    out += configLines
    out += [
      "", "    /// The object's initial values.", "    \(access) init() {}", "  }", "",
      "  /// Loads the object: `configure` sets the configuration, `options` everything else.",
      "  \(access) static func load(",
      "    _ configure: (inout Config) -> Void = { _ in }, options: LoadOptions = LoadOptions()",
      "  ) throws -> Loaded {",
      "    var config = Config()",
      "    configure(&config)",
      configAssignments.isEmpty ? "    _ = config" : "    var options = options",
    ]
    out += configAssignments
    out += [
      "    return try Loaded(try BPFObject(bytes: objectBytes).load(options: options))",
      "  }",
      "",
      "  /// The loaded object's maps, programs and globals.",
      "  \(access) final class Loaded: Sendable {",
      "    /// The untyped object, for what the generated properties do not cover.",
      "    \(access) let object: LoadedObject",
      "    /// Its maps, typed.",
      "    \(access) let maps: Maps",
    ]
    out += maps.flatMap { $0.loadedLines(access: access) } + programLines + globalLines
    out += [
      "", "    /// Typed views of `object`, which must be this object loaded.", "    \(access) init(_ object: LoadedObject) throws {",
      "      assert(\(typeName).layoutMismatches.isEmpty, \"Swift layouts differ from C: \\(\(typeName).layoutMismatches)\")",
      "      self.object = object",
      "      self.maps = try Maps(object)",
    ]
    out += programInits
    out += ["    }", "  }", ""]
    out += Self.mapsDeclaration(maps, access: access)
    for declaration in types.declarations {
      out += declaration.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }
      out.append("")
    }
    out += [
      "  /// Generated types whose Swift layout is not the C layout (empty when all agree); the",
      "  /// generator guarantees it is empty, and tests assert it.",
      "  \(access) static var layoutMismatches: [String] {",
    ]
    if types.layoutChecks.isEmpty {
      out.append("    []")
    } else {
      out.append("    var mismatches: [String] = []")
      for (name, size) in types.layoutChecks {
        out.append("    if MemoryLayout<\(name)>.size != \(size) || MemoryLayout<\(name)>.stride != \(size) { mismatches.append(\"\(name)\") }")
      }
      out.append("    return mismatches")
    }
    out += ["  }", ""]
    if let objectBytesExpression {
      out += [
        "  /// The object file's bytes (\(bytes.count) when generated).",
        "  \(access) static var objectBytes: [UInt8] { \(objectBytesExpression) ?? [] }",
      ]
    } else {
      out += ObjectEmbedding.lines(bytes: bytes, access: access)
    }
    out += ["}", ""]
    return out.joined(separator: "\n")
  }

  /// The BTF type of global variable `name` (its VAR's type).
  static func variableType(_ name: String, in btf: BTF) -> BTFTypeID? {
    for type in btf.types where type.name == name {
      if case .variable(let target, _) = type.body { return target }
    }
    return nil
  }

  /// A Swift string literal for a C identifier or section name.
  static func literal(_ text: String) -> String {
    var result = "\""
    for character in text {
      switch character {
      case "\\": result += "\\\\"
      case "\"": result += "\\\""
      default: result.append(character)
      }
    }
    return result + "\""
  }
}
