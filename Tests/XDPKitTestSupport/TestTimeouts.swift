import Foundation

/// Bounds on how long a test waits for a command or a child process.
///
/// They are written for the host. In the 6.1 VM (`Tests/VM/run.sh` sets `XDPKIT_IN_VM=1`) every
/// instruction is emulated, about 25 times slower, and a Swift tool's start plus a verifier run
/// can pass a host bound when the host is busy; there the bounds are four times longer. Bounds
/// exist to end a hung test, not to measure speed.
public enum TestTimeouts {
  /// How much longer bounds are in this environment.
  public static let factor: Int = ProcessInfo.processInfo.environment["XDPKIT_IN_VM"] == "1" ? 4 : 1

  /// `timeout` for this environment.
  public static func scaled(_ timeout: Duration) -> Duration { timeout * factor }
}
