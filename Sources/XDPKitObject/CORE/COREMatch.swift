/// Matches a local access spec against one candidate root type of the target BTF, giving the
/// target's access spec (its member indexes and bit offset), or `nil` when the candidate does
/// not have the field, enumerator or a compatible type.
struct COREMatch {
  let local: BTF
  let target: BTF
  var compatibility: CORECompatibility { CORECompatibility(local: local, target: target) }

  func match(_ spec: COREAccessSpec, candidate: BTFTypeID) throws(BTFError) -> COREAccessSpec? {
    let kind = spec.kind
    if kind.isTypeBased {
      let ok = kind == .typeMatches
        ? try compatibility.typesMatch(spec.rootTypeID, candidate)
        : try compatibility.typesCompatible(spec.rootTypeID, candidate)
      guard ok else { return nil }
      var result = spec
      result.rootTypeID = candidate
      result.accessors = [COREAccessor(typeID: try target.skippingModifiers(candidate), index: 0, name: nil)]
      return result
    }
    if kind.isEnumValueBased { return try matchEnumerator(spec, candidate: candidate) }
    return try matchField(spec, candidate: candidate)
  }

  private func matchEnumerator(_ spec: COREAccessSpec, candidate: BTFTypeID) throws(BTFError)
    -> COREAccessSpec?
  {
    let id = try target.skippingModifiers(candidate)
    guard let localName = spec.accessors.first?.name else { return nil }
    let wanted = COREName.essential(localName)
    let names = CORECompatibility.enumeratorNames(target.types[Int(id)])
    guard let index = names.firstIndex(where: { COREName.essential($0) == wanted }) else { return nil }
    var result = spec
    result.rootTypeID = candidate
    result.accessors = [COREAccessor(typeID: id, index: index, name: names[index])]
    return result
  }

  private func matchField(_ spec: COREAccessSpec, candidate: BTFTypeID) throws(BTFError)
    -> COREAccessSpec?
  {
    var current = try target.skippingModifiers(candidate)
    let first = spec.accessors[0]
    var bits = first.index * (try target.resolvedSize(of: current)) * 8
    var accessors = [COREAccessor(typeID: current, index: first.index, name: nil)]
    var previousMember: COREAccessor? = nil
    for accessor in spec.accessors.dropFirst() {
      current = try target.skippingModifiers(current)
      if let name = accessor.name {
        guard let localMember = Self.member(of: local.types[Int(accessor.typeID)], at: accessor.index)
        else { return nil }
        guard let found = try findMember(named: name, in: current, depth: 0) else { return nil }
        guard try compatibility.fieldsCompatible(localMember.type, found.member.type) else { return nil }
        bits += found.bitOffset
        let step = COREAccessor(typeID: found.container, index: found.index, name: name)
        accessors.append(step)
        previousMember = step
        current = found.member.type
      } else {
        guard case .array(let info) = target.types[Int(current)].body else { return nil }
        let flexible = info.count == 0 && COREAccessSpec.isLastMember(previousMember, btf: target)
        guard flexible || accessor.index < Int(info.count) else { return nil }
        let element = try target.skippingModifiers(info.elementType)
        accessors.append(COREAccessor(typeID: element, index: accessor.index, name: nil))
        bits += accessor.index * (try target.resolvedSize(of: element)) * 8
        current = element
        previousMember = nil
      }
    }
    var result = spec
    result.rootTypeID = candidate
    result.accessors = accessors
    result.bitOffset = bits
    return result
  }

  /// The member at `index` of a struct or union.
  static func member(of type: BTFType, at index: Int) -> BTFType.Member? {
    switch type.body {
    case .struct(_, let members), .union(_, let members):
      return index < members.count ? members[index] : nil
    default:
      return nil
    }
  }

  /// The member called `name` of composite `id`, looking through anonymous members, with the
  /// (possibly anonymous) composite that holds it and its bit offset from `id`.
  private func findMember(named name: String, in id: BTFTypeID, depth: Int) throws(BTFError)
    -> (member: BTFType.Member, container: BTFTypeID, index: Int, bitOffset: Int)?
  {
    guard depth < CORECompatibility.depthLimit else { return nil }
    let members: [BTFType.Member]
    switch target.types[Int(id)].body {
    case .struct(_, let m), .union(_, let m): members = m
    default: return nil
    }
    for (index, member) in members.enumerated() {
      if let memberName = member.name, !memberName.isEmpty {
        if memberName == name {
          return (member, id, index, Int(member.bitOffset))
        }
        continue
      }
      let inner = try target.skippingModifiers(member.type)
      switch target.types.kind(at: Int(inner)) {
      case .struct, .union:
        if let found = try findMember(named: name, in: inner, depth: depth + 1) {
          return (found.member, found.container, found.index, Int(member.bitOffset) + found.bitOffset)
        }
      default: continue
      }
    }
    return nil
  }
}
