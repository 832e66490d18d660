/// Names as CO-RE compares them: without a `___flavor` suffix.
public enum COREName {
  /// The essential part of a type, field or enumerator name: everything before the last
  /// `___` that is preceded and followed by a character other than `_`.
  /// `task_struct___old` → `task_struct`; `a____b` and `___x` are left whole.
  public static func essential(_ name: String) -> Substring {
    let utf8 = name.utf8
    let n = utf8.count
    guard n >= 5 else { return Substring(name) }
    let underscore = UInt8(ascii: "_")
    // Scan backwards over a window of five bytes: x _ _ _ y, with x and y not `_`.
    var i = utf8.index(utf8.endIndex, offsetBy: -5)
    var position = n - 5
    while true {
      let b0 = utf8[i]
      if b0 != underscore {
        let i1 = utf8.index(after: i), i2 = utf8.index(after: i1), i3 = utf8.index(after: i2)
        if utf8[i1] == underscore, utf8[i2] == underscore, utf8[i3] == underscore,
          utf8[utf8.index(after: i3)] != underscore
        {
          return Substring(utf8.prefix(position + 1))
        }
      }
      if position == 0 { return Substring(name) }
      i = utf8.index(before: i)
      position -= 1
    }
  }
}

/// The BTF relocations are resolved against (the running kernel's, or a file), with its types
/// indexed by essential name once, so that each relocation finds its candidates without a scan.
public struct CORETarget: Sendable {
  /// The target BTF.
  public let btf: BTF
  /// Type ids by essential name (named types only), ascending.
  private let byName: [Substring: [BTFTypeID]]

  /// Indexes `btf` by essential name, from type id `first` on (for split BTF, the first id
  /// after its base, so that a module's index holds only the module's types).
  public init(btf: BTF, indexingFrom first: Int = 0) {
    self.btf = btf
    var index: [Substring: [BTFTypeID]] = [:]
    index.reserveCapacity(max(0, btf.types.count - first) / 2)
    for id in max(0, first)..<btf.types.count {
      let type = btf.types[id]
      guard let name = type.name, !name.isEmpty else { continue }
      switch type.kind {
      case .struct, .union, .enum, .enum64, .forward, .typedef, .int, .float:
        index[COREName.essential(name), default: []].append(BTFTypeID(id))
      default: continue
      }
    }
    byName = index
  }

  /// The types that may stand for a local type of `kind` called `name`: same essential name
  /// and the same kind (ENUM and ENUM64 stand for each other).
  public func candidates(named name: String, kind: BTFKind) -> [BTFTypeID] {
    guard let ids = byName[COREName.essential(name)] else { return [] }
    return ids.filter { Self.kindsCompatible(btf.types[Int($0)].kind, kind) }
  }

  /// Same kind, or both enums.
  static func kindsCompatible(_ a: BTFKind, _ b: BTFKind) -> Bool {
    a == b || ((a == .enum || a == .enum64) && (b == .enum || b == .enum64))
  }
}
