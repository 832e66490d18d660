import Foundation
import Testing
import XDPKitTestSupport

/// What `xdpkit_log.h` refuses at build time, compiled with the BPF clang as the build plugin
/// does (no kernel needed).
@Suite("xdpkit_log.h at build time")
struct LogHeaderCompileTests {
  static let include = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Programs/include").path

  /// Compiles `body` (the inside of an XDP program) and returns clang's result.
  static func compile(_ body: String) throws -> CommandResult {
    var candidates = ["/opt/swift/usr/bin/clang", "/usr/bin/clang"]
    if let explicit = ProcessInfo.processInfo.environment["BPF_CLANG"] { candidates.insert(explicit, at: 0) }
    let clang = try Command.locate("clang with the BPF target", candidates: candidates)
    let directory = FileManager.default.temporaryDirectory
    let token = UUID().uuidString
    let source = directory.appendingPathComponent("xdpkit-log-\(token).c")
    let object = directory.appendingPathComponent("xdpkit-log-\(token).o")
    defer {
      try? FileManager.default.removeItem(at: source)
      try? FileManager.default.removeItem(at: object)
    }
    let text = """
      #include "xdpkit_log.h"
      SEC("xdp") int p(struct xdp_md *ctx) { \(body) return XDP_PASS; }
      char LICENSE[] SEC("license") = "GPL";
      """
    try text.write(to: source, atomically: true, encoding: .utf8)
    #if arch(x86_64)
      let multiarch = "/usr/include/x86_64-linux-gnu"
    #else
      let multiarch = "/usr/include/aarch64-linux-gnu"
    #endif
    return try Command.run(clang, [
      "-O2", "-g", "-target", "bpf", "-I", multiarch, "-I", include, "-Wall", "-Werror",
      "-c", source.path, "-o", object.path,
    ], timeout: .seconds(60))
  }

  @Test("eight arguments compile; nine fail with the header's message")
  func argumentCount() throws {
    #expect(try Self.compile(#"xdpkit_info(ctx, "%u %u %u %u %u %u %u %u", 1, 2, 3, 4, 5, 6, 7, 8);"#).succeeded)
    let nine = try Self.compile(#"xdpkit_info(ctx, "%u %u %u %u %u %u %u %u %u", 1, 2, 3, 4, 5, 6, 7, 8, 9);"#)
    #expect(!nine.succeeded)
    #expect(nine.standardError.contains("xdpkit log: at most 8 arguments"), "\(nine.standardError)")
  }

  @Test("arguments larger than a record fail with the header's message")
  func recordSize() throws {
    #expect(try Self.compile(#"char a[200] = "x", b[40] = "y"; xdpkit_info(ctx, "%s %s", a, b);"#).succeeded)
    let big = try Self.compile(#"char a[200] = "x", b[41] = "y"; xdpkit_info(ctx, "%s %s", a, b);"#)
    #expect(!big.succeeded)
    #expect(big.standardError.contains("xdpkit log: the arguments exceed the record size"), "\(big.standardError)")
  }
}
