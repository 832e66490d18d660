import XDPKitObject

/// A Swift type that stands for a C type, with the layout Swift gives it.
struct SwiftType {
  /// The spelling (`UInt32`, `InlineArray<16, UInt8>`, `ActionStats`).
  var name: String
  var size: Int
  var alignment: Int
  /// An expression for the all-zero value.
  var zero: String
  /// For an integer, enum or Bool: the integer type it is stored as (bitfields use it).
  var integer: (name: String, signed: Bool, isBool: Bool)? = nil
}

/// Writes one Swift declaration per C struct, union and enum that maps and globals reach,
/// with layouts that match the BTF byte for byte, or refuses the type naming the member.
struct SwiftTypeEmitter {
  let btf: BTF
  let access: String
  /// Swift types by BTF id (after modifiers), once emitted.
  private var emitted: [BTFTypeID: SwiftType] = [:]
  /// Declarations in the order they were first needed, and the size each must have.
  var declarations: [String] = []
  var layoutChecks: [(name: String, size: Int)] = []
  private var typeNames: NameScope

  init(btf: BTF, access: String, reserved: Set<String>) {
    self.btf = btf
    self.access = access
    self.typeNames = NameScope(reserved: reserved)
  }

  /// The Swift type for BTF type `id`; `path` names the place for errors, `suggestedName` names
  /// an anonymous struct, union or enum.
  mutating func swiftType(_ id: BTFTypeID, path: String, suggestedName: String) throws(GeneratorError) -> SwiftType {
    let resolved: BTFTypeID
    do { resolved = try btf.skippingModifiers(id) } catch { throw .invalidBTF(error) }
    if let known = emitted[resolved] { return known }
    let type: BTFType
    do { type = try btf.type(id: resolved) } catch { throw .invalidBTF(error) }
    let result: SwiftType
    switch type.body {
    case .int(let info):
      result = try Self.integer(info, path: path)
    case .float(let size):
      switch size {
      case 4: result = SwiftType(name: "Float", size: 4, alignment: 4, zero: "0")
      case 8: result = SwiftType(name: "Double", size: 8, alignment: 8, zero: "0")
      default: throw .unrepresentable(path: path, reason: "a \(size)-byte floating-point type")
      }
    case .pointer:
      // A kernel or BPF address: kept as its 8 bytes.
      result = SwiftType(name: "UInt64", size: 8, alignment: 8, zero: "0", integer: ("UInt64", false, false))
    case .array(let info):
      let element = try swiftType(info.elementType, path: path + "[]", suggestedName: suggestedName + "Element")
      guard element.size > 0 else { throw .unrepresentable(path: path, reason: "an array of zero-sized elements") }
      result = SwiftType(
        name: "InlineArray<\(info.count), \(element.name)>", size: Int(info.count) * element.size,
        alignment: element.alignment, zero: ".init(repeating: \(element.zero))")
    case .enum(let size, let values):
      let cases = values.map { ($0.name ?? "", type.kindFlag ? Int64($0.value) : Int64($0.unsignedValue)) }
      result = try emitEnum(resolved, type, size: Int(size), cases: cases.map { ($0.0, String($0.1)) }, path: path, suggestedName: suggestedName)
    case .enum64(let size, let values):
      let cases = values.map { ($0.name ?? "", type.kindFlag ? String(Int64(bitPattern: $0.value)) : String($0.value)) }
      result = try emitEnum(resolved, type, size: Int(size), cases: cases, path: path, suggestedName: suggestedName)
    case .struct(let size, let members):
      result = try emitStruct(resolved, type, size: Int(size), members: members, path: path, suggestedName: suggestedName)
    case .union(let size, let members):
      result = try emitUnion(resolved, type, size: Int(size), members: members, path: path, suggestedName: suggestedName)
    default:
      throw .unrepresentable(path: path, reason: "BTF kind \(type.kind) has no values")
    }
    emitted[resolved] = result
    return result
  }

  static func integer(_ info: BTFType.IntegerInfo, path: String) throws(GeneratorError) -> SwiftType {
    if info.encoding.contains(.bool) && info.size == 1 {
      return SwiftType(name: "Bool", size: 1, alignment: 1, zero: "false", integer: ("UInt8", false, true))
    }
    let signed = info.encoding.contains(.signed)
    let bits: Int
    switch info.size {
    case 1, 2, 4, 8, 16: bits = Int(info.size) * 8
    default: throw .unrepresentable(path: path, reason: "a \(info.size)-byte integer")
    }
    let name = (signed ? "Int" : "UInt") + String(bits)
    return SwiftType(name: name, size: bits / 8, alignment: bits / 8, zero: "0", integer: (name, signed, false))
  }

  mutating func declaredName(_ type: BTFType, suggestedName: String) -> String {
    typeNames.claim(SwiftNames.type(type.name.flatMap { $0.isEmpty ? nil : $0 } ?? suggestedName))
  }

  private mutating func emitEnum(
    _ id: BTFTypeID, _ type: BTFType, size: Int, cases: [(String, String)], path: String, suggestedName: String
  ) throws(GeneratorError) -> SwiftType {
    guard [1, 2, 4, 8].contains(size) else { throw .unrepresentable(path: path, reason: "a \(size)-byte enum") }
    let raw = (type.kindFlag ? "Int" : "UInt") + String(size * 8)
    let name = declaredName(type, suggestedName: suggestedName)
    var scope = NameScope(reserved: ["rawValue", "init"])
    // Drop the prefix every enumerator shares with the others (REASON_EXACT4 → exact4).
    let names = cases.map(\.0)
    let prefix = Self.commonWordPrefix(names)
    var lines = [
      "/// C `enum \(type.name ?? "(anonymous)")` (\(size) bytes): any \(raw) the program stores is kept.",
      "\(access) struct \(name): RawRepresentable, Hashable, Sendable, BitwiseCopyable {",
      "  \(access) var rawValue: \(raw)",
      "  \(access) init(rawValue: \(raw)) { self.rawValue = rawValue }",
    ]
    for (cName, value) in cases {
      let swiftName = scope.claim(SwiftNames.property(String(cName.dropFirst(prefix))))
      lines.append("  /// `\(cName)` = \(value)")
      lines.append("  \(access) static let \(swiftName) = \(name)(rawValue: \(value))")
    }
    lines.append("}")
    declarations.append(lines.joined(separator: "\n"))
    layoutChecks.append((name, size))
    return SwiftType(name: name, size: size, alignment: size, zero: "\(name)(rawValue: 0)", integer: (raw, type.kindFlag, false))
  }

  /// The length of the `_`-separated prefix all `names` share, when each keeps a non-empty,
  /// non-numeric-leading rest.
  static func commonWordPrefix(_ names: [String]) -> Int {
    guard names.count > 1, let first = names.first else { return 0 }
    var prefix = first
    for name in names.dropFirst() {
      while !name.hasPrefix(prefix) { prefix.removeLast() }
    }
    guard let underscore = prefix.lastIndex(of: "_") else { return 0 }
    let length = prefix.distance(from: prefix.startIndex, to: underscore) + 1
    for name in names {
      let rest = name.dropFirst(length)
      if rest.isEmpty || rest.first?.isNumber == true { return 0 }
    }
    return length
  }
}
