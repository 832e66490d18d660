/// The outcome of one CO-RE relocation: the value clang computed from the local types, the
/// value for the target, and how to patch the instruction.
public struct COREResolution: Sendable, Equatable {
  /// The relocation's access resolved in the local BTF.
  public var local: COREAccessSpec
  /// The access resolved in the target BTF (the first matching candidate), or `nil` when no
  /// candidate matches.
  public var target: COREAccessSpec?
  /// What the instruction holds before patching (from the local types).
  public var localValue: UInt64
  /// What the instruction gets; meaningless when ``poisoned``.
  public var targetValue: UInt64
  /// Whether the instruction must hold ``localValue`` before it is patched.
  public var validate: Bool
  /// The relocation cannot be resolved and its instruction is replaced by a call to the
  /// invalid helper ``COREPatcher/poisonHelperID``; the program loads only if that
  /// instruction is dead code.
  public var poisoned: Bool
  /// For a field access: the field's size in the local and in the target types.
  public var localFieldSize: Int?
  /// See ``localFieldSize``.
  public var targetFieldSize: Int?
  /// Whether a memory access may follow a change of the field's size (only unsigned integers
  /// and pointers on both sides).
  public var sizeChangeAllowed: Bool
  /// How many target types have the root's essential name and kind.
  public var candidateCount: Int = 0

  /// The kind and what it concerns: "field byte offset of task_struct.pid".
  public var summary: String { local.summary }
}

/// Resolves CO-RE relocations of one object (its BTF) against a target BTF, without any
/// system call: pure, and tested against hand-built BTF.
///
/// The rules are those of the kernel's CO-RE documentation: candidates are the target types
/// of the same kind whose names equal the local root's once `___flavor` suffixes are dropped;
/// a candidate matches when the access path exists in it with compatible types; every matching
/// candidate must give the same result; when none matches, existence checks are 0 and other
/// relocations poison their instruction.
public struct COREResolver: Sendable {
  /// The object's BTF.
  public let local: BTF
  /// The target types.
  public let target: CORETarget

  /// A resolver of relocations of `local` against `target`.
  public init(local: BTF, target: CORETarget) {
    self.local = local
    self.target = target
  }

  /// Resolves one relocation.
  public func resolve(_ relocation: BTFExt.CORERelocation) throws(COREError) -> COREResolution {
    let kind = relocation.kind
    guard kind.isFieldBased || kind.isTypeBased || kind.isEnumValueBased else {
      throw .unknownKind(kind.rawValue)
    }
    let spec = try COREAccessSpec(
      btf: local, rootTypeID: relocation.typeID, accessString: relocation.accessString, kind: kind)
    do {
      let localValue = try Self.value(spec, kind: kind, btf: local)
      if kind == .typeIDLocal {
        return COREResolution(
          local: spec, target: spec, localValue: localValue?.value ?? 0,
          targetValue: UInt64(relocation.typeID), validate: true, poisoned: false,
          localFieldSize: nil, targetFieldSize: nil, sizeChangeAllowed: false)
      }
      guard let rootName = local.types[Int(relocation.typeID)].name, !rootName.isEmpty else {
        throw COREError.anonymousRootType(relocation.typeID)
      }
      let candidates = target.candidates(named: rootName, kind: local.types[Int(relocation.typeID)].kind)
      let matcher = COREMatch(local: local, target: target.btf)
      var chosen: (spec: COREAccessSpec, value: COREValue?, id: BTFTypeID)? = nil
      var disagreeing: [(BTFTypeID, UInt64)] = []
      for candidate in candidates {
        guard let targetSpec = try matcher.match(spec, candidate: candidate) else { continue }
        let value = try Self.value(targetSpec, kind: kind, btf: target.btf)
        if let first = chosen {
          let sameBits = !kind.isFieldBased || first.spec.bitOffset == targetSpec.bitOffset
          if !sameBits || first.value?.value != value?.value
            || first.value?.fieldSize != value?.fieldSize {
            if disagreeing.isEmpty { disagreeing.append((first.id, first.value?.value ?? 0)) }
            disagreeing.append((candidate, value?.value ?? 0))
          }
        } else {
          chosen = (targetSpec, value, candidate)
        }
      }
      if !disagreeing.isEmpty {
        throw COREError.ambiguous(candidates: disagreeing.map(\.0), values: disagreeing.map(\.1))
      }
      let targetValue = try chosen?.value ?? Self.value(nil, kind: kind, btf: target.btf)
      let localSide = localValue ?? COREValue(value: 0)
      var allowed = false
      if let l = localSide.fieldType, let t = targetValue?.fieldType {
        allowed = Self.sizeChangeAllowed(local.types[Int(l)], target.btf.types[Int(t)])
      }
      return COREResolution(
        local: spec, target: chosen?.spec, localValue: localSide.value,
        targetValue: targetValue?.value ?? 0, validate: localSide.validate,
        poisoned: targetValue == nil, localFieldSize: localSide.fieldSize,
        targetFieldSize: targetValue?.fieldSize, sizeChangeAllowed: allowed,
        candidateCount: candidates.count)
    } catch let error as COREError {
      throw error
    } catch let error as BTFError {
      throw .btf(error)
    } catch {
      throw .unresolved("\(error)")
    }
  }

  /// The value of `spec` (or of a missing target, `nil`) for `kind`; `nil` means poison.
  static func value(_ spec: COREAccessSpec?, kind: BTFExt.CORERelocation.Kind, btf: BTF)
    throws(BTFError) -> COREValue?
  {
    if kind.isFieldBased { return try COREValueCalculator.field(spec, kind: kind, btf: btf) }
    if kind.isEnumValueBased { return COREValueCalculator.enumValue(spec, kind: kind, btf: btf) }
    return try COREValueCalculator.type(spec, kind: kind, btf: btf)
  }

  /// A load or store may change size only for pointers, or unsigned integers on both sides:
  /// anything else would change how the value is extended.
  static func sizeChangeAllowed(_ local: BTFType, _ target: BTFType) -> Bool {
    switch (local.body, target.body) {
    case (.pointer, .pointer): return true
    case (.int(let a), .int(let b)):
      return !a.encoding.contains(.signed) && !b.encoding.contains(.signed)
    default: return false
    }
  }
}
