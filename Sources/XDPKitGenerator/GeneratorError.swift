import XDPKitObject

/// Why Swift could not be generated for an object.
public enum GeneratorError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The object has no `.BTF` section: types, map key/value types and globals are known only
  /// through BTF. Compile with `-g`.
  case missingBTF
  /// A C type that has no exact Swift representation; `path` names the member
  /// (`struct drop_event.addr`, `.rodata scale`).
  case unrepresentable(path: String, reason: String)
  /// The object's BTF could not be read.
  case invalidBTF(BTFError)
  /// A type asked for by name (`xdpkit generate --type NAME`) is not in the object's BTF.
  case noSuchType(String)

  public var description: String {
    switch self {
    case .missingBTF:
      return "the object has no BTF: typed Swift is generated from BTF (compile with clang -g)"
    case .unrepresentable(let path, let reason):
      return "\(path): no exact Swift representation: \(reason)"
    case .invalidBTF(let error):
      return "the object's BTF cannot be read: \(error)"
    case .noSuchType(let name):
      return "no struct, union, enum or typedef \(name) in the object's BTF"
    }
  }
}
