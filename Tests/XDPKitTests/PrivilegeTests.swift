import Foundation
import Testing
import XDPKit
import XDPKitTestSupport

/// What an unprivileged user sees: `xdpkit` run as nobody (uid 65534) with every capability
/// dropped must fail with a clear error naming the missing capability, not a confusing one.
///
/// The test process itself is root (the suite is `.kernel`); the child drops privileges with
/// util-linux `setpriv` (or, where that is missing, libcap's `capsh`).
@Suite("Without privileges", .kernel)
struct PrivilegeTests {
  static let nobody = "65534"

  /// The `xdpkit` executable built next to this test bundle (same build directory).
  static func toolPath() throws -> String {
    var candidates: [String] = []
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("xdpkit").path)
    }
    if let first = CommandLine.arguments.first {
      candidates.append(URL(fileURLWithPath: first).deletingLastPathComponent().appendingPathComponent("xdpkit").path)
    }
    candidates.append(Bundle.main.bundleURL.appendingPathComponent("xdpkit").path)
    return try Command.locate("xdpkit (build it with `swift build`)", candidates: candidates)
  }

  /// The command prefix that runs a program as nobody with no capabilities at all.
  static func unprivilegedPrefix() throws -> [String] {
    if let setpriv = try? Command.locate("setpriv", candidates: ["/usr/bin/setpriv", "/bin/setpriv"]) {
      return [setpriv, "--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups", "--inh-caps=-all",
              "--bounding-set=-all", "--"]
    }
    let capsh = try Command.locate("capsh", candidates: ["/usr/sbin/capsh", "/sbin/capsh", "/usr/bin/capsh"])
    // Changing uid from 0 without keep-caps clears the permitted and effective sets.
    return [capsh, "--gid=\(nobody)", "--groups=\(nobody)", "--uid=\(nobody)", "--", "-c", "exec \"$0\" \"$@\""]
  }

  /// Runs `arguments` as nobody without capabilities.
  static func runUnprivileged(_ arguments: [String]) throws -> CommandResult {
    let prefix = try unprivilegedPrefix()
    return try Command.run(prefix[0], Array(prefix.dropFirst()) + arguments, timeout: .seconds(60))
  }

  /// A world-readable copy of fixture `name` in a fresh world-readable directory, removed after
  /// `body`.
  static func withReadableFixture<R>(_ name: String, _ body: (String) throws -> R) throws -> R {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("xdpkit-privilege-\(getpid())-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false,
                                            attributes: [.posixPermissions: 0o755])
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent(name + ".o").path
    try FileManager.default.copyItem(atPath: TestFixtures.directory.appendingPathComponent(name + ".o").path,
                                     toPath: path)
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
    return try body(path)
  }

  @Test("the harness: the child really runs as nobody with no capabilities")
  func harness() throws {
    let result = try Self.runUnprivileged(["/bin/cat", "/proc/self/status"])
    #expect(result.succeeded, "\(result)")
    let lines = result.standardOutput.split(separator: "\n")
    func field(_ name: String) -> [Substring] {
      lines.first { $0.hasPrefix(name + ":") }?.dropFirst(name.count + 1)
        .split(whereSeparator: { $0 == " " || $0 == "\t" }) ?? []
    }
    #expect(field("Uid") == ["65534", "65534", "65534", "65534"])
    #expect(field("Gid") == ["65534", "65534", "65534", "65534"])
    #expect(field("CapEff") == ["0000000000000000"])
    #expect(field("CapPrm") == ["0000000000000000"])
  }

  @Test("xdpkit inspect works without privileges")
  func inspectUnprivileged() throws {
    let tool = try Self.toolPath()
    try Self.withReadableFixture("xdp_pass") { path in
      let result = try Self.runUnprivileged([tool, "inspect", path])
      #expect(result.succeeded, "\(result)")
      #expect(result.standardOutput.contains("xdp_pass"))
    }
  }

  @Test("xdpkit load without privileges exits non-zero and names the missing capability",
        arguments: ["xdp_pass", "blocklist_btf"])
  func loadUnprivileged(fixture: String) throws {
    let tool = try Self.toolPath()
    try Self.withReadableFixture(fixture) { path in
      let result = try Self.runUnprivileged([tool, "load", path])
      let output = result.standardOutput + result.standardError
      print("unprivileged `xdpkit load \(fixture).o`: status \(result.status): \(output)")
      #expect(!result.succeeded)
      #expect(result.status < 128, "killed by a signal: \(result)")
      #expect(output.contains("CAP_BPF"), "\(output)")
      #expect(output.contains("CAP_SYS_ADMIN"), "\(output)")
      #expect(output.contains("Operation not permitted") || output.contains("EPERM"), "\(output)")
      // The error is about the privilege, not a red herring about the locked-memory limit.
      #expect(!output.contains("RLIMIT_MEMLOCK"), "\(output)")
      #expect(!output.contains(": loaded"), "\(output)")
    }
  }
}
