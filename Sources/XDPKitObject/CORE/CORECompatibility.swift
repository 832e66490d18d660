/// The compatibility rules of CO-RE between a local type (the object's BTF) and a target type
/// (the kernel's), as the BTF CO-RE reference describes them: loose for fields and type
/// relocations, strict for TYPE_MATCHES.
struct CORECompatibility {
  let local: BTF
  let target: BTF

  /// How deep the checks recurse before giving up (a cycle, or a crafted input).
  static let depthLimit = 32

  /// Whether two names are the same once flavors are dropped; an anonymous side matches.
  static func namesMatch(_ a: String?, _ b: String?) -> Bool {
    guard let a, !a.isEmpty, let b, !b.isEmpty else { return true }
    return COREName.essential(a) == COREName.essential(b)
  }

  /// Field types: composites match composites; ints match ints (not the old
  /// bit-offset ints); pointers match pointers; enums and forward declarations match by
  /// essential name; arrays match by element type.
  func fieldsCompatible(_ localID: BTFTypeID, _ targetID: BTFTypeID) throws(BTFError) -> Bool {
    var l = try local.skippingModifiers(localID)
    var t = try target.skippingModifiers(targetID)
    for _ in 0..<Self.depthLimit {
      let lt = local.types[Int(l)], tt = target.types[Int(t)]
      let lComposite = lt.kind == .struct || lt.kind == .union
      let tComposite = tt.kind == .struct || tt.kind == .union
      if lComposite && tComposite { return true }
      guard CORETarget.kindsCompatible(lt.kind, tt.kind) else { return false }
      switch (lt.body, tt.body) {
      case (.pointer, .pointer), (.float, .float): return true
      case (.forward, .forward), (.enum, _), (.enum64, _): return Self.namesMatch(lt.name, tt.name)
      case (.int(let a), .int(let b)): return a.offset == 0 && b.offset == 0
      case (.array(let a), .array(let b)):
        l = try local.skippingModifiers(a.elementType)
        t = try target.skippingModifiers(b.elementType)
      default: return false
      }
    }
    return false
  }

  /// Types of a type relocation (exists, size, target id): same kind after typedefs and
  /// modifiers; composites, enums and forward declarations match without looking inside;
  /// pointers and arrays by what they point to or hold; prototypes parameter by parameter.
  func typesCompatible(_ localID: BTFTypeID, _ targetID: BTFTypeID, depth: Int = 0)
    throws(BTFError) -> Bool
  {
    guard depth < Self.depthLimit else { return false }
    let l = try local.skippingModifiers(localID)
    let t = try target.skippingModifiers(targetID)
    let lt = local.types[Int(l)], tt = target.types[Int(t)]
    guard CORETarget.kindsCompatible(lt.kind, tt.kind) else { return false }
    switch (lt.body, tt.body) {
    case (.void, _), (.struct, _), (.union, _), (.enum, _), (.enum64, _), (.forward, _),
      (.float, _):
      return true
    case (.int(let a), .int(let b)): return a.offset == 0 && b.offset == 0
    case (.pointer(let a), .pointer(let b)): return try typesCompatible(a, b, depth: depth + 1)
    case (.array(let a), .array(let b)):
      return try typesCompatible(a.elementType, b.elementType, depth: depth + 1)
    case (.functionPrototype(let lr, let lp), .functionPrototype(let tr, let tp)):
      guard lp.count == tp.count else { return false }
      for (a, b) in zip(lp, tp) where !(try typesCompatible(a.type, b.type, depth: depth + 1)) {
        return false
      }
      return try typesCompatible(lr, tr, depth: depth + 1)
    default: return false
    }
  }

  /// TYPE_MATCHES: the stricter rule. Names of composites and enums must match; every local
  /// member must exist in the target under the same name with a matching type (behind a
  /// pointer, composites match by name only); every local enumerator must exist; integers need
  /// the same size and signedness; arrays the same length; prototypes the same parameters.
  func typesMatch(_ localID: BTFTypeID, _ targetID: BTFTypeID, behindPointer: Bool = false,
                  depth: Int = 0) throws(BTFError) -> Bool
  {
    guard depth < Self.depthLimit else { return false }
    let l = try local.skippingModifiers(localID)
    let t = try target.skippingModifiers(targetID)
    let lt = local.types[Int(l)], tt = target.types[Int(t)]
    switch lt.kind {
    case .struct, .union, .enum, .enum64, .forward:
      guard Self.namesMatch(lt.name, tt.name) else { return false }
    default: break
    }
    // A forward declaration matches a composite of its kind, and the other way round.
    if lt.kind == .forward || tt.kind == .forward {
      let lk = lt.forwardKind ?? lt.kind, tk = tt.forwardKind ?? tt.kind
      return lk == tk
    }
    guard CORETarget.kindsCompatible(lt.kind, tt.kind) else { return false }
    switch (lt.body, tt.body) {
    case (.void, .void): return true
    case (.int(let a), .int(let b)):
      return a.size == b.size && a.encoding.contains(.signed) == b.encoding.contains(.signed)
    case (.float(let a), .float(let b)): return a == b
    case (.pointer(let a), .pointer(let b)):
      return try typesMatch(a, b, behindPointer: true, depth: depth + 1)
    case (.array(let a), .array(let b)):
      guard a.count == b.count else { return false }
      return try typesMatch(a.elementType, b.elementType, behindPointer: behindPointer, depth: depth + 1)
    case (.enum, _), (.enum64, _):
      let targetNames = Set(Self.enumeratorNames(tt).map { COREName.essential($0) })
      return Self.enumeratorNames(lt).allSatisfy { targetNames.contains(COREName.essential($0)) }
    case (.struct(_, let lm), .struct(_, let tm)), (.union(_, let lm), .union(_, let tm)):
      if behindPointer { return true }
      for member in lm {
        guard let other = tm.first(where: { $0.name == member.name }) else { return false }
        guard try typesMatch(member.type, other.type, depth: depth + 1) else { return false }
      }
      return true
    case (.functionPrototype(let lr, let lp), .functionPrototype(let tr, let tp)):
      guard lp.count == tp.count else { return false }
      for (a, b) in zip(lp, tp) where !(try typesMatch(a.type, b.type, depth: depth + 1)) {
        return false
      }
      return try typesMatch(lr, tr, depth: depth + 1)
    default: return false
    }
  }

  static func enumeratorNames(_ type: BTFType) -> [String] {
    switch type.body {
    case .enum(_, let values): values.compactMap(\.name)
    case .enum64(_, let values): values.compactMap(\.name)
    default: []
    }
  }
}
