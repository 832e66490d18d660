extension BTF {
  /// How many links ``resolvedSize(of:)``, ``skippingModifiers(_:)`` and
  /// ``skippingQualifiers(_:)`` follow before they give up with
  /// ``BTFError/resolutionTooDeep(typeID:)``. Real chains are a handful of links long; a longer
  /// one is a cycle or a crafted input.
  public static let maximumResolutionDepth = 32

  /// The size in bytes of a value of type `id`.
  ///
  /// Typedefs, `const`, `volatile`, `restrict`, type tags and variables are followed to the type
  /// they name; an array is its element count times its element size; a pointer is 8 bytes (BPF
  /// is a 64-bit target); INT, FLOAT, STRUCT, UNION, ENUM, ENUM64 and DATASEC have their
  /// recorded size.
  /// - Throws: ``BTFError/typeHasNoSize(typeID:kind:)`` for void, FUNC, FUNC_PROTO, FWD and
  ///   DECL_TAG; ``BTFError/resolutionTooDeep(typeID:)`` for cycles;
  ///   ``BTFError/sizeOverflow(typeID:)``; ``BTFError/noSuchType(id:count:)``.
  public func resolvedSize(of id: BTFTypeID) throws(BTFError) -> Int {
    try types.resolvedSize(of: id)
  }

  /// The kind of type `id`, without decoding it.
  /// - Throws: ``BTFError/noSuchType(id:count:)`` when `id` is not below `types.count`.
  public func kind(of id: BTFTypeID) throws(BTFError) -> BTFKind {
    try types.checkedKind(of: id)
  }

  /// The id of the type under `id` once typedefs, `const`, `volatile`, `restrict` and type tags
  /// are skipped. Returns `id` itself when it is none of those.
  /// - Throws: ``BTFError/resolutionTooDeep(typeID:)`` for cycles,
  ///   ``BTFError/noSuchType(id:count:)``.
  public func skippingModifiers(_ id: BTFTypeID) throws(BTFError) -> BTFTypeID {
    try types.skip(from: id, typedefs: true)
  }

  /// The id of the type under `id` once `const`, `volatile`, `restrict` and type tags are
  /// skipped. Stops at a typedef. Returns `id` itself when it is none of those.
  /// - Throws: ``BTFError/resolutionTooDeep(typeID:)`` for cycles,
  ///   ``BTFError/noSuchType(id:count:)``.
  public func skippingQualifiers(_ id: BTFTypeID) throws(BTFError) -> BTFTypeID {
    try types.skip(from: id, typedefs: false)
  }

  /// The lowest-numbered type called `name`, optionally of kind `kind`, with its id.
  public func firstType(named name: String, kind: BTFKind? = nil) -> (
    id: BTFTypeID, type: BTFType
  )? {
    guard let index = types.firstID(named: Array(name.utf8), kind: kind) else { return nil }
    return (BTFTypeID(index), types[index])
  }

  /// The id of the lowest-numbered type called `name`, optionally of kind `kind`.
  public func typeID(named name: String, kind: BTFKind? = nil) -> BTFTypeID? {
    firstType(named: name, kind: kind)?.id
  }
}
