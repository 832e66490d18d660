import Foundation
import Testing
import XDPKitTestSupport

/// Examples/af-xdp-demo as a user runs it: no interface name, a private namespace pair, every
/// datagram echoed, nothing left behind.
@Suite("af-xdp-demo", .kernel, .serialized)
struct AFXDPDemoTests {
  /// The built executable, in the build directory of this test bundle.
  static var demo: String {
    get throws {
      let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
      let candidate = URL(fileURLWithPath: executable).deletingLastPathComponent()
        .appendingPathComponent("af-xdp-demo").path
      guard FileManager.default.isExecutableFile(atPath: candidate) else {
        throw TestSupportError.toolNotFound("af-xdp-demo", searched: [candidate])
      }
      return candidate
    }
  }

  @Test("500 datagrams: all echoed, exit 0, the namespaces gone afterwards")
  func echoesEverything() throws {
    let result = try Command.run(try Self.demo, ["--count", "500"], timeout: .seconds(60))
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardOutput.contains("500 of 500 echoed (500 sent, 500 sent back by the socket)"))
    #expect(result.standardOutput.contains("copy mode"))
    let namespaces = try FileManager.default.contentsOfDirectory(atPath: "/var/run/netns")
    #expect(!namespaces.contains { $0.hasPrefix("xa-demo-") })
  }

  @Test("an out-of-range count is refused before anything is made")
  func invalidCount() throws {
    let result = try Command.run(try Self.demo, ["--count", "0"], timeout: .seconds(30))
    #expect(result.status == 64)
    #expect(result.standardError.contains("--count must be 1...1000000"))
  }
}
