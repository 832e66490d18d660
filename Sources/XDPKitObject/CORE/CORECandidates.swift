/// Names as CO-RE compares them: without a `___flavor` suffix.
public enum COREName {
  /// The essential part of a type, field or enumerator name: everything before the last
  /// `___` that is preceded and followed by a character other than `_`.
  /// `task_struct___old` → `task_struct`; `a____b` and `___x` are left whole.
  public static func essential(_ name: String) -> Substring {
    var name = name
    let length = name.withUTF8 { essentialLength($0) }
    return Substring(name.utf8.prefix(length))
  }

  /// The length in bytes of the essential part of the name `utf8`; see ``essential(_:)``.
  static func essentialLength(_ utf8: UnsafeBufferPointer<UInt8>) -> Int {
    let n = utf8.count
    guard n >= 5 else { return n }
    let underscore = UInt8(ascii: "_")
    // Scan backwards over a window of five bytes: x _ _ _ y, with x and y not `_`.
    var position = n - 5
    while true {
      if utf8[position] != underscore, utf8[position + 1] == underscore,
        utf8[position + 2] == underscore, utf8[position + 3] == underscore,
        utf8[position + 4] != underscore
      {
        return position + 1
      }
      if position == 0 { return n }
      position -= 1
    }
  }
}

/// The BTF relocations are resolved against (the running kernel's, or a file), with its types
/// indexed by essential name once, so that each relocation finds its candidates without a scan.
public struct CORETarget: Sendable {
  /// The target BTF.
  public let btf: BTF
  /// Type ids by essential name (named types of the kinds CO-RE looks up), ascending.
  private let byName: CORENameIndex

  /// Indexes `btf` by essential name, from type id `first` on (for split BTF, the first id
  /// after its base, so that a module's index holds only the module's types).
  public init(btf: BTF, indexingFrom first: Int = 0) {
    self.btf = btf
    byName = CORENameIndex(btf, from: first) { kind in
      switch kind {
      case .struct, .union, .enum, .enum64, .forward, .typedef, .int, .float: true
      default: false
      }
    }
  }

  /// The types that may stand for a local type of `kind` called `name`: same essential name
  /// and the same kind (ENUM and ENUM64 stand for each other).
  public func candidates(named name: String, kind: BTFKind) -> [BTFTypeID] {
    byName.ids(named: COREName.essential(name)).filter {
      Self.kindsCompatible(btf.types.kind(at: Int($0)), kind)
    }
  }

  /// Same kind, or both enums.
  static func kindsCompatible(_ a: BTFKind, _ b: BTFKind) -> Bool {
    a == b || ((a == .enum || a == .enum64) && (b == .enum || b == .enum64))
  }
}
