import XDPKitObject

extension Loader {
  /// Applies the CO-RE relocations of a linked program.
  ///
  /// This version does not apply CO-RE relocations yet: a program that has any is refused
  /// with the first one named, so that it never runs with clang's local offsets.
  func applyCORE(to linked: inout LinkedProgram, program: String) throws(LoadError) {
    guard let first = linked.coreRelocations.first else { return }
    throw .coreRelocation(failure(
      first, program: program,
      reason: .unresolved("CO-RE relocations are not applied by this version of XDPKit")))
  }

  /// The failure report for `placed` in `program`: the path resolved in the object's BTF when
  /// it resolves, else the raw type id.
  func failure(
    _ placed: PlacedCORERelocation, program: String, reason: COREError, verifierLog: String? = nil
  ) -> CORERelocationFailure {
    let record = placed.record
    var path = "type [\(record.typeID)]"
    if let btf = object.btf,
      let spec = try? COREAccessSpec(
        btf: btf, rootTypeID: record.typeID, accessString: record.accessString, kind: record.kind)
    {
      path = spec.path
    }
    return CORERelocationFailure(
      program: program, instruction: placed.instruction, number: placed.number, kind: record.kind,
      path: path, accessString: record.accessString, reason: reason, verifierLog: verifierLog)
  }
}
