/// A map as a BPF object defines it, for generated code to check a map it did not create (one
/// opened from a bpffs pin) before it makes a typed view of it.
public struct GeneratedMapDefinition: Sendable, Equatable {
  /// The map's C name (`BLOCKLIST`).
  public let name: String
  public let type: BPFMapType
  /// `key_size` and `value_size` in bytes (0 for a ring buffer).
  public let keySize: Int
  public let valueSize: Int
  /// `max_entries` (bytes for a ring buffer).
  public let maxEntries: Int

  /// A definition with the given values.
  public init(name: String, type: BPFMapType, keySize: Int, valueSize: Int, maxEntries: Int) {
    self.name = name
    self.type = type
    self.keySize = keySize
    self.valueSize = valueSize
    self.maxEntries = maxEntries
  }

  /// `map`, when it has this definition's type, key size, value size and (if `capacity`)
  /// `max_entries`. A map loaded from the object with ``LoadOptions/maxEntries`` set may have
  /// another capacity: generated code checks it only for maps it opens itself.
  ///
  /// Throws ``GeneratedMapError/mismatch(map:property:expected:actual:)`` naming this map and
  /// the first property that differs.
  public func check(_ map: BPFMap, capacity: Bool = true) throws(GeneratedMapError) -> BPFMap {
    func differ(_ property: GeneratedMapError.Property, _ expected: Int, _ actual: Int) -> GeneratedMapError {
      .mismatch(map: name, property: property, expected: expected, actual: actual)
    }
    if map.type != type { throw differ(.type, Int(type.rawValue), Int(map.type.rawValue)) }
    if map.keySize != keySize { throw differ(.keySize, keySize, map.keySize) }
    if map.valueSize != valueSize { throw differ(.valueSize, valueSize, map.valueSize) }
    if capacity && map.maxEntries != maxEntries { throw differ(.maxEntries, maxEntries, map.maxEntries) }
    return map
  }
}

/// A map that generated code was given does not have the definition of the object it was
/// generated from.
public enum GeneratedMapError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The property of a map's definition that differs.
  public enum Property: String, Sendable {
    case type, keySize = "key size", valueSize = "value size", maxEntries = "max entries"
  }

  /// Map `map` (its C name) has `actual` where the object defines `expected` (for `.type`,
  /// the `BPF_MAP_TYPE_*` numbers).
  case mismatch(map: String, property: Property, expected: Int, actual: Int)

  /// What differs, naming the map: `map BLOCKLIST: max entries is 1024, the object defines 131072`.
  public var description: String {
    switch self {
    case .mismatch(let map, .type, let expected, let actual):
      return "map \(map): type is \(BPFMapType(rawValue: UInt32(truncatingIfNeeded: actual))), the object defines"
        + " \(BPFMapType(rawValue: UInt32(truncatingIfNeeded: expected)))"
    case .mismatch(let map, let property, let expected, let actual):
      return "map \(map): \(property.rawValue) is \(actual), the object defines \(expected)"
    }
  }
}
