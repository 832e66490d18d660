import XDPKitObject

/// A CO-RE relocation of a program that could not be applied, or that the verifier reached
/// after it was poisoned: which program, which instruction, which relocation, and why.
///
/// Its description reads like
/// `CO-RE relocation #3 (field byte offset of task_struct.pid, access 0:1) in program "p" at instruction 12: …`.
public struct CORERelocationFailure: Sendable, CustomStringConvertible {
  /// The program whose instructions carry the relocation.
  public var program: String
  /// The instruction index in the program as loaded (its functions laid out after it).
  public var instruction: Int
  /// The relocation's position among its ELF section's CO-RE records, counted from 0.
  public var number: Int
  /// The relocation kind.
  public var kind: BTFExt.CORERelocation.Kind
  /// The type and access it concerns: `task_struct.pid`, `xdp_action::XDP_PASS`, or the raw
  /// type id and access string when the access string does not resolve locally.
  public var path: String
  /// The access string as clang wrote it.
  public var accessString: String
  /// Why it failed.
  public var reason: COREError
  /// The verifier log, when the kernel refused the program at a poisoned instruction.
  public var verifierLog: String?

  /// Creates a failure report.
  public init(
    program: String, instruction: Int, number: Int, kind: BTFExt.CORERelocation.Kind,
    path: String, accessString: String, reason: COREError, verifierLog: String? = nil
  ) {
    self.program = program
    self.instruction = instruction
    self.number = number
    self.kind = kind
    self.path = path
    self.accessString = accessString
    self.reason = reason
    self.verifierLog = verifierLog
  }

  public var description: String {
    "CO-RE relocation #\(number) (\(kind.summary) of \(path), access \(accessString)) in program "
      + "\"\(program)\" at instruction \(instruction): \(reason)"
  }
}
