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
    #if arch(x86_64)
      let multiarch = "/usr/include/x86_64-linux-gnu"
    #else
      let multiarch = "/usr/include/aarch64-linux-gnu"
    #endif
    let text = """
      #include "xdpkit_log.h"
      SEC("xdp") int p(struct xdp_md *ctx) { \(body) return XDP_PASS; }
      char LICENSE[] SEC("license") = "GPL";
      """
    return try BPFClang.compile(text, flags: [
      "-O2", "-g", "-target", "bpf", "-I", multiarch, "-I", include, "-Wall", "-Werror",
    ]).result
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
