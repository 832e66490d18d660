/// One step of a CO-RE access path.
public struct COREAccessor: Sendable, Equatable {
  /// For the first step, the root type; for a member, the struct or union that contains it
  /// (modifiers and typedefs skipped; possibly an anonymous one); for an array index, the
  /// element type (modifiers and typedefs skipped); for an enumerator, the enum.
  public var typeID: BTFTypeID
  /// The member, element or enumerator index.
  public var index: Int
  /// The member or enumerator name; `nil` for an array index and for the first step.
  public var name: String?
}

/// An access string resolved against one BTF: where a relocation's field, type or enumerator
/// is, step by step.
///
/// For field relocations the first index steps over the root type as over an array element
/// (`p[n]`); each further index is a member index of a struct or union, or an element index of
/// an array. Anonymous members are walked through but are not named steps: only named members
/// and array indexes are in ``accessors``, which is what is matched against another BTF.
public struct COREAccessSpec: Sendable, Equatable {
  /// The relocation kind the spec was made for.
  public var kind: BTFExt.CORERelocation.Kind
  /// The root type as given by the relocation (not skipped).
  public var rootTypeID: BTFTypeID
  /// Named members, array indexes and enumerators, in order; the first is the root step.
  public var accessors: [COREAccessor]
  /// Offset of the field from the start of the root, in bits (field kinds only).
  public var bitOffset: Int
  /// A readable path: `task_struct.pid`, `sk_buff.cb[2]`, `xdp_action::XDP_PASS`.
  public var path: String

  /// Resolves `accessString` of a relocation of `kind` whose root type is `rootTypeID` in
  /// `btf`.
  public init(
    btf: BTF, rootTypeID: BTFTypeID, accessString: String, kind: BTFExt.CORERelocation.Kind
  ) throws(COREError) {
    self.kind = kind
    self.rootTypeID = rootTypeID
    let indexes = try Self.indexes(accessString)
    let root: BTFType
    let rootID: BTFTypeID
    do {
      root = try btf.type(id: rootTypeID)
      rootID = try btf.skippingModifiers(rootTypeID)
    } catch { throw .btf(error) }
    let rootName = root.name ?? "(anonymous)"
    bitOffset = 0

    if kind.isTypeBased {
      guard indexes == [0] else { throw .typeAccessNotZero(accessString) }
      accessors = [COREAccessor(typeID: rootID, index: 0, name: nil)]
      path = rootName
      return
    }
    if kind.isEnumValueBased {
      guard indexes.count == 1 else {
        throw .invalidAccess(step: 1, index: indexes.count, typeID: rootTypeID,
                             reason: "an enum value relocation has one index")
      }
      let index = indexes[0]
      let names: [String?]
      switch btf.types[Int(rootID)].body {
      case .enum(_, let values): names = values.map(\.name)
      case .enum64(_, let values): names = values.map(\.name)
      default:
        throw .invalidAccess(step: 0, index: index, typeID: rootID, reason: "not an enum")
      }
      guard index < names.count else {
        throw .invalidAccess(step: 0, index: index, typeID: rootID,
                             reason: "the enum has \(names.count) values")
      }
      let name = names[index] ?? ""
      accessors = [COREAccessor(typeID: rootID, index: index, name: name)]
      path = "\(rootName)::\(name)"
      return
    }
    guard kind.isFieldBased else { throw .unknownKind(kind.rawValue) }

    // Field: the first index steps over whole root objects.
    var accessors = [COREAccessor(typeID: rootID, index: indexes[0], name: nil)]
    var path = rootName + (indexes[0] == 0 ? "" : "[\(indexes[0])]")
    var bits = 0
    do {
      bits = indexes[0] * (try btf.resolvedSize(of: rootID)) * 8
      var current = rootTypeID
      for (step, index) in indexes.enumerated().dropFirst() {
        let id = try btf.skippingModifiers(current)
        switch btf.types[Int(id)].body {
        case .struct(_, let members), .union(_, let members):
          guard index < members.count else {
            throw COREError.invalidAccess(step: step, index: index, typeID: id,
                                          reason: "the type has \(members.count) members")
          }
          let member = members[index]
          bits += Int(member.bitOffset)
          if let name = member.name, !name.isEmpty {
            accessors.append(COREAccessor(typeID: id, index: index, name: name))
            path += ".\(name)"
          }
          current = member.type
        case .array(let info):
          let element = try btf.skippingModifiers(info.elementType)
          let flexible = info.count == 0 && Self.isLastMember(accessors.last, btf: btf)
          guard flexible || index < Int(info.count) else {
            throw COREError.invalidAccess(step: step, index: index, typeID: id,
                                          reason: "the array has \(info.count) elements")
          }
          accessors.append(COREAccessor(typeID: element, index: index, name: nil))
          path += "[\(index)]"
          bits += index * (try btf.resolvedSize(of: element)) * 8
          current = element
        default:
          throw COREError.invalidAccess(step: step, index: index, typeID: id,
                                        reason: "\(btf.types[Int(id)].kind) has no members or elements")
        }
      }
    } catch let error as COREError {
      throw error
    } catch let error as BTFError {
      throw .btf(error)
    } catch {
      throw .btf(.resolutionTooDeep(typeID: rootTypeID))
    }
    self.accessors = accessors
    self.bitOffset = bits
    self.path = path
  }

  /// Whether `accessor` (a named member step) is the last member of its struct: only then may
  /// an array of 0 elements be indexed (a flexible array member).
  static func isLastMember(_ accessor: COREAccessor?, btf: BTF) -> Bool {
    guard let accessor, accessor.name != nil else { return false }
    switch btf.types[Int(accessor.typeID)].body {
    case .struct(_, let members), .union(_, let members): return accessor.index == members.count - 1
    default: return false
    }
  }

  /// The decimal indexes of an access string.
  static func indexes(_ accessString: String) throws(COREError) -> [Int] {
    var result: [Int] = []
    for part in accessString.split(separator: ":", omittingEmptySubsequences: false) {
      guard let value = Int(part), value >= 0, value <= Int(Int32.max) else {
        throw .malformedAccessString(accessString)
      }
      result.append(value)
    }
    guard !result.isEmpty else { throw .malformedAccessString(accessString) }
    return result
  }

  /// "field byte offset of task_struct.pid".
  public var summary: String { "\(kind.summary) of \(path)" }
}
