import XDPKitObject

/// Structs and unions. A struct's members become stored properties at their C offsets, with
/// explicit padding where C has holes (and at the end), so that `MemoryLayout.size` and
/// `stride` equal the BTF size. What Swift cannot place as C does (bitfields, members at an
/// offset their type's alignment does not allow, union members) is kept as bytes behind a
/// computed property.
extension SwiftTypeEmitter {
  /// One member as the record declaration shows it.
  private struct Field {
    var name: String
    var type: SwiftType
    /// A stored property (`nil` for a computed one over storage bytes).
    var isStored: Bool
    var accessor: [String] = []
  }

  mutating func emitStruct(
    _ id: BTFTypeID, _ type: BTFType, size: Int, members: [BTFType.Member], path: String, suggestedName: String
  ) throws(GeneratorError) -> SwiftType {
    let name = declaredName(type, suggestedName: suggestedName)
    let cName = "struct \(type.name.flatMap { $0.isEmpty ? nil : $0 } ?? "(anonymous)")"
    var result = try layoutStruct(name: name, cName: cName, size: size, members: members, path: path, bytesOnly: false)
    if size % result.alignment != 0 {
      // A packed struct: aligned members would round Swift's stride past the C size.
      result = try layoutStruct(name: name, cName: cName, size: size, members: members, path: path, bytesOnly: true)
    }
    declarations.append(result.declaration)
    layoutChecks.append((name, size))
    return SwiftType(name: name, size: size, alignment: result.alignment, zero: "\(name)()")
  }

  private mutating func layoutStruct(
    name: String, cName: String, size: Int, members: [BTFType.Member], path: String, bytesOnly: Bool
  ) throws(GeneratorError) -> (declaration: String, alignment: Int) {
    var stored: [String] = []
    var fields: [Field] = []
    var hidden: [(name: String, zero: String)] = []
    var scope = NameScope(reserved: ["init"])
    var offset = 0
    var alignment = 1
    var storageIndex = 0
    var forwarding: [String] = []

    func pad(to target: Int) {
      guard target > offset else { return }
      let padding = "_padding\(storageIndex)"
      storageIndex += 1
      stored.append("  var \(padding): InlineArray<\(target - offset), UInt8>")
      hidden.append((padding, ".init(repeating: 0)"))
      offset = target
    }

    var index = 0
    while index < members.count {
      let member = members[index]
      let memberPath = "\(path).\(member.name ?? "(anonymous)")"
      let bitfield = try bitfieldShape(member, path: memberPath)
      if bitfield != nil {
        // A run of bitfields shares one storage of bytes.
        var run: [(BTFType.Member, bitOffset: Int, bits: Int)] = []
        while index < members.count, let shape = try bitfieldShape(members[index], path: memberPath) {
          run.append((members[index], shape.bitOffset, shape.bits))
          index += 1
        }
        let first = run.map(\.bitOffset).min()! / 8
        let end = (run.map { $0.bitOffset + $0.bits }.max()! + 7) / 8
        guard first >= offset else {
          throw .unrepresentable(path: memberPath, reason: "it overlaps the member before it")
        }
        pad(to: first)
        let storage = "_bitfields\(storageIndex)"
        storageIndex += 1
        stored.append("  var \(storage): InlineArray<\(end - first), UInt8>")
        hidden.append((storage, ".init(repeating: 0)"))
        offset = end
        for (bitMember, bitOffset, bits) in run where !(bitMember.name ?? "").isEmpty {
          let fieldPath = "\(path).\(bitMember.name!)"
          let memberType = try swiftType(bitMember.type, path: fieldPath, suggestedName: name + SwiftNames.type(bitMember.name!))
          guard memberType.integer != nil else {
            throw .unrepresentable(path: fieldPath, reason: "a bitfield of a non-integer type")
          }
          let fieldName = scope.claim(SwiftNames.property(bitMember.name!))
          fields.append(Field(
            name: fieldName, type: memberType, isStored: false,
            accessor: bitfieldAccessor(fieldName, memberType, storage: storage, bitOffset: bitOffset - first * 8, bits: bits, cName: bitMember.name!)))
        }
        continue
      }
      index += 1
      guard member.bitOffset % 8 == 0 else {
        throw .unrepresentable(path: memberPath, reason: "it starts at bit \(member.bitOffset), inside a byte")
      }
      let byteOffset = Int(member.bitOffset / 8)
      let memberName = member.name.flatMap { $0.isEmpty ? nil : $0 } ?? "anonymous\(index - 1)"
      let memberType = try swiftType(member.type, path: memberPath, suggestedName: name + SwiftNames.type(memberName))
      if memberType.size == 0 { continue }  // a flexible array member: no bytes in the value
      guard byteOffset >= offset else {
        throw .unrepresentable(path: memberPath, reason: "it overlaps the member before it")
      }
      pad(to: byteOffset)
      let fieldName = scope.claim(SwiftNames.property(memberName))
      if (bytesOnly && memberType.alignment > 1) || byteOffset % memberType.alignment != 0 {
        let storage = "_\(fieldName)Bytes"
        stored.append("  var \(storage): InlineArray<\(memberType.size), UInt8>")
        hidden.append((storage, ".init(repeating: 0)"))
        fields.append(Field(name: fieldName, type: memberType, isStored: false,
                            accessor: bytesAccessor(fieldName, memberType, storage: storage, at: 0, cName: memberName)))
      } else {
        stored.append("  /// `\(memberName)` at byte \(byteOffset).")
        stored.append("  \(access) var \(fieldName): \(memberType.name)")
        fields.append(Field(name: fieldName, type: memberType, isStored: true))
        alignment = max(alignment, memberType.alignment)
      }
      offset = byteOffset + memberType.size
      if member.name?.isEmpty ?? true {
        forwarding += try forwardingAccessors(through: fieldName, member: member, scope: &scope)
      }
    }
    guard offset <= size else {
      throw .unrepresentable(path: path, reason: "its members end at byte \(offset), past its size \(size)")
    }
    pad(to: size)

    var lines = ["/// C `\(cName)` (\(size) bytes).", "\(access) struct \(name): GeneratedRecord {"]
    lines += stored
    lines += initializer(fields: fields, hidden: hidden)
    for field in fields where !field.isStored { lines += field.accessor }
    lines += forwarding
    lines.append("}")
    return (lines.joined(separator: "\n"), alignment)
  }

  mutating func emitUnion(
    _ id: BTFTypeID, _ type: BTFType, size: Int, members: [BTFType.Member], path: String, suggestedName: String
  ) throws(GeneratorError) -> SwiftType {
    let name = declaredName(type, suggestedName: suggestedName)
    var scope = NameScope(reserved: ["init", "bytes"])
    var fields: [Field] = []
    for (index, member) in members.enumerated() {
      let memberName = member.name.flatMap { $0.isEmpty ? nil : $0 } ?? "anonymous\(index)"
      let memberPath = "\(path).\(memberName)"
      let memberType = try swiftType(member.type, path: memberPath, suggestedName: name + SwiftNames.type(memberName))
      let fieldName = scope.claim(SwiftNames.property(memberName))
      if let shape = try bitfieldShape(member, path: memberPath) {
        guard memberType.integer != nil else {
          throw .unrepresentable(path: memberPath, reason: "a bitfield of a non-integer type")
        }
        fields.append(Field(name: fieldName, type: memberType, isStored: false,
                            accessor: bitfieldAccessor(fieldName, memberType, storage: "bytes", bitOffset: shape.bitOffset, bits: shape.bits, cName: memberName)))
      } else {
        guard member.bitOffset == 0 else {
          throw .unrepresentable(path: memberPath, reason: "a union member at bit \(member.bitOffset)")
        }
        guard memberType.size <= size else {
          throw .unrepresentable(path: memberPath, reason: "it is larger than the union")
        }
        if memberType.size == 0 { continue }
        fields.append(Field(name: fieldName, type: memberType, isStored: false,
                            accessor: bytesAccessor(fieldName, memberType, storage: "bytes", at: 0, cName: memberName)))
      }
    }
    let cName = "union \(type.name.flatMap { $0.isEmpty ? nil : $0 } ?? "(anonymous)")"
    var lines = [
      "/// C `\(cName)` (\(size) bytes): each member reads and writes the same bytes.",
      "\(access) struct \(name): GeneratedRecord {",
      "  /// The union's bytes.",
      "  \(access) var bytes: InlineArray<\(size), UInt8>",
    ]
    lines += initializer(fields: [], hidden: [("bytes", ".init(repeating: 0)")])
    for field in fields { lines += field.accessor }
    lines.append("}")
    declarations.append(lines.joined(separator: "\n"))
    layoutChecks.append((name, size))
    return SwiftType(name: name, size: size, alignment: 1, zero: "\(name)()")
  }

  /// For an anonymous struct or union member, which C code reaches as if its members were the
  /// outer struct's: a computed property per named inner member, through `anonymous`. An inner
  /// name the outer struct already uses is reached through `anonymous` only.
  private mutating func forwardingAccessors(
    through anonymous: String, member: BTFType.Member, scope: inout NameScope
  ) throws(GeneratorError) -> [String] {
    let inner: BTFType
    do { inner = try btf.type(id: try btf.skippingModifiers(member.type)) } catch { throw .invalidBTF(error) }
    let innerMembers: [BTFType.Member]
    switch inner.body {
    case .struct(_, let members), .union(_, let members): innerMembers = members
    default: return []
    }
    var lines: [String] = []
    for innerMember in innerMembers {
      guard let innerName = innerMember.name, !innerName.isEmpty else { continue }
      let swiftName = SwiftNames.property(innerName)
      guard !scope.taken.contains(swiftName) else { continue }
      _ = scope.claim(swiftName)
      let type = try swiftType(innerMember.type, path: innerName, suggestedName: SwiftNames.type(innerName))
      lines += [
        "",
        "  /// `\(innerName)` of the anonymous member, as C code reaches it.",
        "  \(access) var \(swiftName): \(type.name) {",
        "    get { \(anonymous).\(swiftName) }",
        "    set { \(anonymous).\(swiftName) = newValue }",
        "  }",
      ]
    }
    return lines
  }

  /// The bit offset and width of a bitfield member, `nil` for an ordinary member. BTF marks
  /// bitfields with the struct's kind flag (a size per member) or, in old encodings, with an
  /// INT whose width is less than its size.
  private func bitfieldShape(_ member: BTFType.Member, path: String) throws(GeneratorError) -> (bitOffset: Int, bits: Int)? {
    if member.bitfieldSize > 0 { return (Int(member.bitOffset), Int(member.bitfieldSize)) }
    let resolved: BTFTypeID
    let type: BTFType
    do {
      resolved = try btf.skippingModifiers(member.type)
      type = try btf.type(id: resolved)
    } catch { throw .invalidBTF(error) }
    if case .int(let info) = type.body, Int(info.bits) != Int(info.size) * 8 || info.offset != 0 {
      return (Int(member.bitOffset) + Int(info.offset), Int(info.bits))
    }
    return nil
  }

  /// `init(a: A = zero, …)` that zeroes every storage and sets every visible member.
  private func initializer(fields: [Field], hidden: [(name: String, zero: String)]) -> [String] {
    let parameters = fields.map { "\($0.name): \($0.type.name) = \($0.type.zero)" }.joined(separator: ", ")
    var lines = ["", "  /// A value with the given members and every other byte zero.", "  \(access) init(\(parameters)) {"]
    for field in fields where field.isStored { lines.append("    self.\(field.name) = \(field.name)") }
    for (name, zero) in hidden { lines.append("    self.\(name) = \(zero)") }
    for field in fields where !field.isStored { lines.append("    self.\(field.name) = \(field.name)") }
    lines.append("  }")
    return lines
  }

  private func bytesAccessor(_ name: String, _ type: SwiftType, storage: String, at offset: Int, cName: String) -> [String] {
    [
      "",
      "  /// `\(cName)`, kept as bytes (\(type.size) at byte \(offset) of `\(storage)`).",
      "  \(access) var \(name): \(type.name) {",
      "    get { withUnsafeBytes(of: \(storage)) { $0.loadUnaligned(fromByteOffset: \(offset), as: \(type.name).self) } }",
      "    set { withUnsafeMutableBytes(of: &\(storage)) { $0.storeBytes(of: newValue, toByteOffset: \(offset), as: \(type.name).self) } }",
      "  }",
    ]
  }

  private func bitfieldAccessor(_ name: String, _ type: SwiftType, storage: String, bitOffset: Int, bits: Int, cName: String) -> [String] {
    let integer = type.integer!
    let load = "withUnsafeBytes(of: \(storage)) { GeneratedLayout.loadBits($0, bitOffset: \(bitOffset), count: \(bits)) }"
    let getter: String
    let raw: String
    if integer.isBool {
      getter = "\(load) != 0"
      raw = "newValue ? 1 : 0"
    } else {
      let value = integer.signed
        ? "\(integer.name)(truncatingIfNeeded: GeneratedLayout.signExtend(\(load), count: \(bits)))"
        : "\(integer.name)(truncatingIfNeeded: \(load))"
      let isEnum = type.name != integer.name
      getter = isEnum ? "\(type.name)(rawValue: \(value))" : value
      raw = isEnum ? "UInt64(truncatingIfNeeded: newValue.rawValue)" : "UInt64(truncatingIfNeeded: newValue)"
    }
    return [
      "",
      "  /// `\(cName)`: the \(bits)-bit field at bit \(bitOffset) of `\(storage)`.",
      "  \(access) var \(name): \(type.name) {",
      "    get { \(getter) }",
      "    set { withUnsafeMutableBytes(of: &\(storage)) { GeneratedLayout.storeBits($0, bitOffset: \(bitOffset), count: \(bits), value: \(raw)) } }",
      "  }",
    ]
  }
}
