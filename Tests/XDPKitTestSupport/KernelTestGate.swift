import Foundation
import Testing

/// Decides whether tests that need the real kernel (bpf(2), rtnetlink, network namespaces)
/// run on this machine.
///
/// - Running as root (euid 0): they run.
/// - Not root but `XDPKIT_REQUIRE_PRIVILEGED=1` (CI sets it): they run anyway, so a missing
///   privilege shows up as a failure instead of a quiet skip.
/// - Otherwise they are skipped with ``skipReason``.
public enum KernelTestGate {
  /// The environment variable that turns a skip into a run (and so into a failure).
  public static let requirePrivilegedVariable = "XDPKIT_REQUIRE_PRIVILEGED"

  /// Why kernel tests are skipped.
  public static let skipReason =
    "needs root (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN); set XDPKIT_REQUIRE_PRIVILEGED=1 to make this a failure"

  /// Whether the process runs with effective uid 0.
  public static var isRoot: Bool { geteuid() == 0 }

  /// Whether `XDPKIT_REQUIRE_PRIVILEGED=1` is set.
  public static var isRequired: Bool {
    ProcessInfo.processInfo.environment[requirePrivilegedVariable] == "1"
  }

  /// Whether kernel tests should run.
  public static var shouldRun: Bool {
    shouldRun(effectiveUserID: geteuid(), environment: ProcessInfo.processInfo.environment)
  }

  /// The rule, for a given effective uid and environment: root runs; otherwise
  /// `XDPKIT_REQUIRE_PRIVILEGED=1` runs (and fails); otherwise skip.
  public static func shouldRun(effectiveUserID: UInt32, environment: [String: String]) -> Bool {
    effectiveUserID == 0 || environment[requirePrivilegedVariable] == "1"
  }
}

extension Trait where Self == ConditionTrait {
  /// Runs the test only where ``KernelTestGate`` allows kernel tests: `@Test(.kernel)`.
  public static var kernel: Self {
    .enabled(if: KernelTestGate.shouldRun, Comment(rawValue: KernelTestGate.skipReason))
  }
}
