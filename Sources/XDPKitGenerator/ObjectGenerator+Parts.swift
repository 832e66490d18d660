import XDPKitObject

extension ObjectGenerator {
  /// The typed view for `map` and the initializer that makes it from a `BPFMap` (empty for
  /// the `BPFMap` itself). A map without BTF key/value types, or of a type no typed view
  /// covers, is a plain `BPFMap`.
  func mapView(_ map: BPFMapDefinition, types: inout SwiftTypeEmitter) throws(GeneratorError) -> (view: String, wrapper: String) {
    let untyped = ("BPFMap", "")
    if map.type == .ringBuffer { return ("RingBuffer", "RingBuffer") }
    guard let valueID = map.valueTypeID else { return untyped }
    let value = try types.swiftType(valueID, path: "map \(map.name) value", suggestedName: SwiftNames.type(map.name) + "Value")
    let key = try map.keyTypeID.map { (id) throws(GeneratorError) -> SwiftType in
      try types.swiftType(id, path: "map \(map.name) key", suggestedName: SwiftNames.type(map.name) + "Key")
    }
    switch map.type {
    case .hash, .lruHash:
      guard let key else { return untyped }
      return ("HashMap<\(key.name), \(value.name)>", "HashMap")
    case .perCPUHash, .lruPerCPUHash:
      guard let key else { return untyped }
      return ("PerCPUHashMap<\(key.name), \(value.name)>", "PerCPUHashMap")
    case .array:
      return ("ArrayMap<\(value.name)>", "ArrayMap")
    case .perCPUArray:
      return ("PerCPUArray<\(value.name)>", "PerCPUArray")
    case .lpmTrie:
      guard let keyID = map.keyTypeID, let address = try lpmAddress(keyID, map: map.name, types: &types) else {
        return untyped
      }
      return ("LPMTrie<\(address), \(value.name)>", "LPMTrie")
    default:
      return untyped
    }
  }

  /// The address type of an LPM trie key `struct { __u32 prefixlen; ADDRESS; }`: IPv4Address
  /// and IPv6Address for 4 and 16 bytes of `__u8`, else the member's own type; `nil` when the
  /// key has another shape.
  private func lpmAddress(_ keyID: BTFTypeID, map: String, types: inout SwiftTypeEmitter) throws(GeneratorError) -> String? {
    guard let btf = object.btf,
          let resolved = try? btf.skippingModifiers(keyID),
          case .struct(_, let members)? = try? btf.type(id: resolved).body,
          members.count == 2, members[0].bitOffset == 0, members[1].bitOffset == 32,
          (try? btf.resolvedSize(of: members[0].type)) == 4
    else { return nil }
    let addressID = members[1].type
    if let arrayID = try? btf.skippingModifiers(addressID),
       case .array(let info)? = try? btf.type(id: arrayID).body,
       (try? btf.resolvedSize(of: info.elementType)) == 1
    {
      if info.count == 4 { return "IPv4Address" }
      if info.count == 16 { return "IPv6Address" }
    }
    return try types.swiftType(addressID, path: "map \(map) key.\(members[1].name ?? "address")", suggestedName: SwiftNames.type(map) + "Address").name
  }

  /// A Swift expression for the initial value of `variable` and a comment that states it.
  static func initialValue(_ section: DataSection, _ variable: DataVariable, _ type: SwiftType) -> (expression: String, comment: String) {
    let start = Int(variable.offset)
    let end = start + type.size
    let bytes = section.initialBytes.count >= end ? Array(section.initialBytes[start..<end]) : [UInt8](repeating: 0, count: type.size)
    if bytes.allSatisfy({ $0 == 0 }) { return (type.zero, "initially zero") }
    var word: UInt64 = 0
    for (index, byte) in bytes.prefix(8).enumerated() { word |= UInt64(byte) << UInt64(8 * index) }
    switch type.name {
    case "Bool": return ("true", "initially true")
    case "UInt8", "UInt16", "UInt32", "UInt64": return (String(word), "initially \(word)")
    case "Int8", "Int16", "Int32", "Int64":
      let signed = Int64(bitPattern: word << UInt64(64 - 8 * type.size)) >> Int64(64 - 8 * type.size)
      return (String(signed), "initially \(signed)")
    case "Float": return ("Float(bitPattern: \(UInt32(truncatingIfNeeded: word)))", "initially as compiled")
    case "Double": return ("Double(bitPattern: \(word))", "initially as compiled")
    default:
      let list = bytes.map(String.init).joined(separator: ", ")
      return ("GeneratedLayout.value(of: [\(list)], as: \(type.name).self)", "initially as compiled")
    }
  }
}

/// The object's bytes in the generated file: base64 in a string literal, which the compiler
/// type-checks quickly (a large `[UInt8]` literal is slow), decoded once on first use.
enum ObjectEmbedding {
  static func lines(bytes: [UInt8], access: String) -> [String] {
    let encoded = base64(bytes)
    var lines = [
      "  /// The object file's \(bytes.count) bytes, embedded.",
      "  \(access) static let objectBytes: [UInt8] = GeneratedLayout.decodeBase64(",
      "    \"\"\"",
    ]
    var index = encoded.startIndex
    while index < encoded.endIndex {
      let next = encoded.index(index, offsetBy: 96, limitedBy: encoded.endIndex) ?? encoded.endIndex
      lines.append("    " + encoded[index..<next])
      index = next
    }
    lines += ["    \"\"\")"]
    return lines
  }

  static func base64(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    var out = ""
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var index = 0
    while index < bytes.count {
      let b0 = UInt32(bytes[index])
      let b1 = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
      let b2 = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
      let triple = b0 << 16 | b1 << 8 | b2
      out.append(alphabet[Int(triple >> 18 & 63)])
      out.append(alphabet[Int(triple >> 12 & 63)])
      out.append(index + 1 < bytes.count ? alphabet[Int(triple >> 6 & 63)] : "=")
      out.append(index + 2 < bytes.count ? alphabet[Int(triple & 63)] : "=")
      index += 3
    }
    return out
  }
}
