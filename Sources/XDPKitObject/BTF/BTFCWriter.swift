extension BTF {
  /// The types of this BTF written as C declarations, in an order that compiles: what a type
  /// needs complete (a member's struct, an array's element, an enum) is defined before it, and
  /// what it only points to is declared first (`struct name;`).
  ///
  /// Written are typedefs, named structs, unions and enums (ENUM64 too), anonymous enums no
  /// other type uses, forward declarations, and a prototype for each function (FUNC).
  /// Anonymous structs, unions and enums are written inline where they are used. Variables
  /// and data sections are left out. Bitfields keep their widths; a struct whose members are
  /// not where natural alignment puts them gets `__attribute__((packed))`, a member placed
  /// further on gets `__attribute__((aligned(N)))` (or unnamed `char :8` padding), and an enum
  /// of another size than C gives it gets a `mode` attribute. Two different types with one
  /// name are told apart with `___2`, `___3` suffixes. Type tags are dropped.
  ///
  /// With `functions` false, FUNC types are left out (for kernel BTF, whose tens of thousands of
  /// functions include C library names such as `memcpy` a compiler knows with another type).
  ///
  /// `firstID` leaves out the types below it (the base part of split BTF); types it needs
  /// from there are used by name.
  public func cDeclarations(from firstID: BTFTypeID = 1, functions: Bool = true) -> String {
    let writer = BTFCWriter(btf: self, firstID: Int(firstID), functions: functions)
    writer.writeAll()
    return writer.chunks.joined(separator: "\n")
  }
}

/// Writes ``BTF/cDeclarations(from:)``. A class so that the layout and naming caches are
/// shared by the recursive walks.
final class BTFCWriter {
  let btf: BTF
  let firstID: Int
  /// Whether FUNC types are written as prototypes.
  let functions: Bool
  /// Top-level declarations, in output order; each ends with a newline.
  var chunks: [String] = []
  /// The C name of each named type, enumerator names keyed by (type, index).
  var names: [Int: String] = [:]
  var enumeratorNames: [Int: [String]] = [:]
  /// Types whose definition (or typedef) is written, or being written.
  var defined: Set<Int> = []
  var inProgress: Set<Int> = []
  /// Structs and unions declared with `struct name;` (or defined).
  var declared: Set<Int> = []
  /// The named structs being defined, innermost last: a pointer to one of them from its own
  /// members needs no forward declaration.
  var definitionStack: [Int] = []
  /// Anonymous enums written inline once (their enumerators may appear only once).
  var inlinedEnums: Set<Int> = []
  /// Anonymous enums some written type uses (the others are written at top level).
  var usedAnonymousEnums: Set<Int> = []
  var layouts: [Int: BTFStructLayout] = [:]

  /// Typedef names the compiler defines itself: written by name, never defined.
  static let builtinTypedefs: Set<String> = ["__builtin_va_list"]

  init(btf: BTF, firstID: Int, functions: Bool) {
    self.btf = btf
    self.functions = functions
    self.firstID = max(1, firstID)
    assignNames()
  }

  func type(_ id: Int) -> BTFType { btf.types[id] }

  // MARK: Names

  /// Gives every named type a C name that is unique in its namespace: struct, union and enum
  /// tags share one; typedefs, functions and enumerators share the other.
  func assignNames() {
    var tags: [String: Int] = [:]
    var ordinary: [String: Int] = [:]
    var structsByName: [String: Int] = [:]
    func unique(_ name: String, in space: inout [String: Int]) -> String {
      let count = (space[name] ?? 0) + 1
      space[name] = count
      return count == 1 ? name : "\(name)___\(count)"
    }
    for id in 1..<btf.types.count {
      let type = type(id)
      switch type.body {
      case .struct, .union:
        guard let name = type.name else { continue }
        names[id] = unique(name, in: &tags)
        if structsByName[name] == nil { structsByName[name] = id }
      case .enum, .enum64:
        if let name = type.name { names[id] = unique(name, in: &tags) }
        enumeratorNames[id] = enumerators(of: type).map { unique($0.name, in: &ordinary) }
      case .typedef, .function:
        if let name = type.name { names[id] = unique(name, in: &ordinary) }
      default: continue
      }
    }
    // A forward declaration takes the name of the struct or union it declares, when there is one.
    for id in 1..<btf.types.count {
      let type = type(id)
      guard case .forward = type.body, let name = type.name else { continue }
      if let target = structsByName[name], btf.types.kind(at: target) == (type.forwardKind ?? .struct) {
        names[id] = names[target]
      } else {
        names[id] = unique(name, in: &tags)
      }
    }
  }

  /// An enum's values as (name, signed or unsigned text).
  func enumerators(of type: BTFType) -> [(name: String, value: String)] {
    switch type.body {
    case .enum(_, let values):
      return values.enumerated().map { index, value in
        (value.name ?? "__anon_value_\(index)", type.kindFlag ? "\(value.value)" : "\(value.unsignedValue)")
      }
    case .enum64(_, let values):
      return values.enumerated().map { index, value in
        (value.name ?? "__anon_value_\(index)",
         type.kindFlag ? (value.signedValue == Int64.min ? "(-9223372036854775807LL - 1)" : "\(value.signedValue)LL")
           : "\(value.value)ULL")
      }
    default: return []
    }
  }

  // MARK: Order

  func writeAll() {
    for id in firstID..<btf.types.count { noteUses(of: id) }
    var prototypes: [Int] = []
    for id in firstID..<btf.types.count {
      let type = type(id)
      switch type.body {
      case .struct, .union: if type.name != nil { define(id) }
      case .enum, .enum64:
        if type.name != nil { define(id) } else if !usedAnonymousEnums.contains(id) {
          inlinedEnums.insert(id)
          chunks.append(enumBody(id, indent: 0) + ";\n")
        }
      case .typedef: if !Self.builtinTypedefs.contains(type.name ?? "") { define(id) }
      case .forward: declare(id)
      case .function: if functions { prototypes.append(id) }
      default: continue
      }
    }
    for id in prototypes {
      guard case .function(let prototype, _) = type(id).body else { continue }
      prepare(Int(prototype), throughPointer: true)
      chunks.append(declaration(Int(prototype), names[id] ?? "__anon_function_\(id)", indent: 0) + ";\n")
    }
  }

  /// Records which anonymous enums a written type uses, so that they are written inline.
  func noteUses(of id: Int) {
    switch type(id).body {
    case .variable, .dataSection, .declarationTag: return
    default: break
    }
    for used in type(id).referencedTypeIDs where Int(used) < btf.types.count {
      let target = type(Int(used))
      if target.name == nil, target.kind == .enum || target.kind == .enum64 { usedAnonymousEnums.insert(Int(used)) }
    }
  }

  /// Writes the definition of named struct, union, enum or typedef `id`, after what it needs.
  func define(_ id: Int) {
    if id < firstID || defined.contains(id) || inProgress.contains(id) { return }
    inProgress.insert(id)
    definitionStack.append(id)
    defer {
      definitionStack.removeLast()
      inProgress.remove(id)
    }
    let type = type(id)
    switch type.body {
    case .struct(_, let members), .union(_, let members):
      for member in members { prepare(Int(member.type), throughPointer: false) }
      defined.insert(id)
      declared.insert(id)
      chunks.append(compositeBody(id, indent: 0) + ";\n")
    case .enum, .enum64:
      defined.insert(id)
      chunks.append(enumBody(id, indent: 0) + ";\n")
    case .typedef(let target):
      if Self.builtinTypedefs.contains(type.name ?? "") { return }
      // `typedef struct name alias;` needs the struct declared, not defined.
      prepare(Int(target), throughPointer: isNamedComposite(Int(target)))
      defined.insert(id)
      chunks.append("typedef " + declaration(Int(target), names[id] ?? "__anon_typedef_\(id)", indent: 0) + ";\n")
    default:
      break
    }
  }

  /// Writes `struct name;` for struct, union or forward declaration `id`, unless it is
  /// declared already or being defined around the current point.
  func declare(_ id: Int) {
    if id < firstID || declared.contains(id) || definitionStack.last == id { return }
    declared.insert(id)
    chunks.append("\(tagKeyword(id)) \(names[id] ?? "__anon_\(id)");\n")
  }

  func isNamedComposite(_ id: Int) -> Bool {
    let type = type(id)
    return type.name != nil && (type.kind == .struct || type.kind == .union || type.kind == .forward)
  }

  /// Makes sure that what a use of type `id` refers to is written: defined when it is used by
  /// value, declared when only through a pointer (or in a prototype).
  func prepare(_ id: Int, throughPointer: Bool) {
    guard id > 0, id < btf.types.count else { return }
    let type = type(id)
    switch type.body {
    case .pointer(let target): prepare(Int(target), throughPointer: true)
    case .const(let target), .volatile(let target), .restrict(let target), .typeTag(let target):
      prepare(Int(target), throughPointer: throughPointer)
    case .array(let info): prepare(Int(info.elementType), throughPointer: false)
    case .functionPrototype(let returnType, let parameters):
      prepare(Int(returnType), throughPointer: true)
      for parameter in parameters { prepare(Int(parameter.type), throughPointer: true) }
    case .function(let prototype, _): prepare(Int(prototype), throughPointer: true)
    case .struct(_, let members), .union(_, let members):
      if type.name == nil {
        for member in members { prepare(Int(member.type), throughPointer: false) }
      } else if throughPointer {
        if !defined.contains(id) { declare(id) }
      } else {
        define(id)
      }
    case .forward: declare(id)
    case .enum, .enum64: if type.name != nil { define(id) }
    case .typedef(let target):
      define(id)
      // Used by value, the struct behind the typedef must be complete.
      if !throughPointer { prepare(Int(target), throughPointer: false) }
    default: return
    }
  }

  // MARK: Text

  func tagKeyword(_ id: Int) -> String {
    let type = type(id)
    switch type.body {
    case .union: return "union"
    case .forward: return type.forwardKind == .union ? "union" : "struct"
    case .enum, .enum64: return "enum"
    default: return "struct"
    }
  }

  static func tabs(_ count: Int) -> String { String(repeating: "\t", count: count) }

  /// `struct name {` … `}` (no semicolon), members one level deeper than `indent`.
  func compositeBody(_ id: Int, indent: Int) -> String {
    let type = type(id)
    let members: [BTFType.Member]
    switch type.body {
    case .struct(_, let m), .union(_, let m): members = m
    default: return "struct {}"
    }
    let layout = self.layout(id)
    var text = tagKeyword(id) + (names[id].map { " " + $0 } ?? "") + " {\n"
    let inner = Self.tabs(indent + 1)
    for (index, member) in members.enumerated() {
      if let pad = layout.paddingBefore[index] { text += inner + pad + ";\n" }
      var line = declaration(Int(member.type), member.name ?? "", indent: indent + 1)
      if let width = layout.bitfieldWidths[index] { line += ": \(width)" }
      if let alignment = layout.alignedMembers[index] { line += " __attribute__((aligned(\(alignment))))" }
      text += inner + line + ";\n"
    }
    if let pad = layout.trailingPadding { text += inner + pad + ";\n" }
    text += Self.tabs(indent) + "}"
    if layout.isPacked { text += " __attribute__((packed))" }
    return text
  }

  /// `enum name {` … `}` (no semicolon).
  func enumBody(_ id: Int, indent: Int) -> String {
    let type = type(id)
    let values = enumerators(of: type)
    let cNames = enumeratorNames[id] ?? values.map(\.name)
    var head = "enum"
    if let mode = enumMode(type) { head += " __attribute__((mode(\(mode))))" }
    if let name = names[id] { head += " " + name }
    var text = head + " {\n"
    for (index, value) in values.enumerated() {
      text += Self.tabs(indent + 1) + "\(cNames[index]) = \(value.value)" + (index + 1 < values.count ? ",\n" : "\n")
    }
    return text + Self.tabs(indent) + "}"
  }

  /// The `mode` an enum needs when C would give it another size: C makes an enum 4 bytes
  /// unless a value needs 8.
  func enumMode(_ type: BTFType) -> String? {
    let size: UInt32
    var needsEight = false
    switch type.body {
    case .enum(let s, _): size = s
    case .enum64(let s, let values):
      size = s
      needsEight = values.contains { type.kindFlag ? ($0.signedValue < Int64(Int32.min) || $0.signedValue > Int64(UInt32.max)) : $0.value > UInt64(UInt32.max) }
    default: return nil
    }
    let natural: UInt32 = needsEight ? 8 : 4
    guard size != natural else { return nil }
    switch size {
    case 1: return "QI"
    case 2: return "HI"
    case 4: return "SI"
    case 8: return "DI"
    default: return nil
    }
  }

  /// The C declaration of `declarator` (a name, or empty for an abstract declarator) with type
  /// `id`: `const char *label`, `int (*callback)(void *)`, `int grid[2][3]`.
  func declaration(_ id: Int, _ declarator: String, indent: Int) -> String {
    var text = declarator
    var current = id
    var qualifiers: [String] = []
    var afterPointer = false
    for _ in 0..<256 {
      guard current > 0, current < btf.types.count else { break }
      let type = type(current)
      switch type.body {
      case .pointer(let target):
        text = "*" + (qualifiers.isEmpty ? "" : qualifiers.joined(separator: " ") + " ") + text
        qualifiers = []
        afterPointer = true
        current = Int(target)
        continue
      case .const(let target): if !qualifiers.contains("const") { qualifiers.append("const") }; current = Int(target); continue
      case .volatile(let target): if !qualifiers.contains("volatile") { qualifiers.append("volatile") }; current = Int(target); continue
      case .restrict(let target): if !qualifiers.contains("restrict") { qualifiers.append("restrict") }; current = Int(target); continue
      case .typeTag(let target): current = Int(target); continue
      case .array(let info):
        if afterPointer { text = "(" + text + ")" }
        text += "[\(info.count)]"
        afterPointer = false
        current = Int(info.elementType)
        continue
      case .functionPrototype(let returnType, let parameters):
        if afterPointer { text = "(" + text + ")" }
        text += "(" + parameterList(parameters, indent: indent) + ")"
        afterPointer = false
        qualifiers = []
        current = Int(returnType)
        continue
      case .function(let prototype, _):
        current = Int(prototype)
        continue
      default:
        break
      }
      break
    }
    let base = (qualifiers.isEmpty ? "" : qualifiers.joined(separator: " ") + " ") + baseName(current, indent: indent)
    return text.isEmpty ? base : base + " " + text
  }

  func parameterList(_ parameters: [BTFType.Parameter], indent: Int) -> String {
    if parameters.isEmpty { return "void" }
    return parameters.enumerated().map { index, parameter in
      if index == parameters.count - 1 && parameter.type == 0 && parameter.name == nil { return "..." }
      return declaration(Int(parameter.type), parameter.name ?? "", indent: indent)
    }.joined(separator: ", ")
  }

  /// The type specifier of `id` once pointers, arrays and qualifiers are peeled off.
  func baseName(_ id: Int, indent: Int) -> String {
    guard id > 0, id < btf.types.count else { return "void" }
    let type = type(id)
    switch type.body {
    case .int(let info):
      return type.name ?? (info.encoding.contains(.signed) ? "" : "unsigned ") + integerName(size: info.size)
    case .float(let size): return type.name ?? (size == 4 ? "float" : "double")
    case .struct, .union:
      return type.name == nil ? compositeBody(id, indent: indent) : "\(tagKeyword(id)) \(names[id] ?? "")"
    case .forward: return "\(tagKeyword(id)) \(names[id] ?? "")"
    case .enum(let size, _), .enum64(let size, _):
      if let name = names[id] { return "enum \(name)" }
      if inlinedEnums.insert(id).inserted { return enumBody(id, indent: indent) }
      return (type.kindFlag ? "" : "unsigned ") + integerName(size: size)
    case .typedef: return names[id] ?? "__anon_typedef_\(id)"
    default: return "void"
    }
  }

  func integerName(size: UInt32) -> String {
    switch size {
    case 1: "char"
    case 2: "short"
    case 8: "long long"
    case 16: "__int128"
    default: "int"
    }
  }
}
