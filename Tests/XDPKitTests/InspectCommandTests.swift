import Foundation
import Testing
import XDPKit
import XDPKitTestSupport

/// `xdpkit inspect` as a user runs it: no privileges needed, JSON that decodes, and a malformed
/// file reported with the reader's error and a non-zero exit.
@Suite("xdpkit inspect")
struct InspectCommandTests {
  static func inspect(_ arguments: [String]) throws -> CommandResult {
    try Command.run(PrivilegeTests.toolPath(), ["inspect"] + arguments, timeout: .seconds(60))
  }

  @Test("text output lists programs, maps with their definition, and relocations")
  func text() throws {
    let result = try Self.inspect([TestFixtures.directory.appendingPathComponent("blocklist_btf.o").path])
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardOutput.contains("xdp  xdp_firewall  BPF_PROG_TYPE_XDP attach BPF_XDP  38 insns"))
    #expect(result.standardOutput.contains("BLOCKLIST  BPF_MAP_TYPE_HASH  key 4  value 4  max_entries 1024"))
    #expect(result.standardOutput.contains("+160  R_BPF_64_64  BLOCKLIST -> map BLOCKLIST"))
  }

  @Test("--json decodes to the same facts")
  func json() throws {
    let result = try Self.inspect(["--json", TestFixtures.directory.appendingPathComponent("globals.o").path])
    #expect(result.status == 0, "\(result.standardError)")
    let report = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    #expect(report["license"] as? String == "GPL")
    let data = try #require(report["data"] as? [[String: Any]])
    #expect(data.map { $0["section"] as? String } == [".data", ".rodata", ".data.custom", ".rodata.cfg", ".bss"])
  }

  @Test("a malformed file prints the reader's error and exits non-zero")
  func malformed() throws {
    var bytes = [UInt8](try Data(contentsOf: TestFixtures.directory.appendingPathComponent("xdp_pass.o")))
    bytes[5] = 2  // EI_DATA: big-endian
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("xdpkit-inspect-\(getpid()).o").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let result = try Self.inspect([path])
    #expect(result.status != 0)
    #expect(result.standardError.contains("big-endian BPF object"), "\(result.standardError)")
  }

  @Test("what is wrong with a path is named: no such file, a directory, a device", arguments: [
    ("/nonexistent/xdpkit.o", "error: cannot read /nonexistent/xdpkit.o: no such file\n"),
    ("/", "error: cannot read /: is a directory\n"),
    ("/dev/zero", "error: cannot read /dev/zero: not a regular file (character device)\n"),
  ])
  func unreadable(path: String, message: String) throws {
    for command in [["inspect", path], ["load", path]] {
      let result = try Command.run(PrivilegeTests.toolPath(), command, timeout: .seconds(60))
      #expect(result.status == 1)
      #expect(result.standardError == message, "\(command)")
      #expect(result.standardOutput == "")
    }
  }

  @Test("usage errors: one `error:` line and a `hint:` line, in CLI terms")
  func usage() throws {
    let path = TestFixtures.directory.appendingPathComponent("xdp_pass.o").path
    let zero = try Command.run(PrivilegeTests.toolPath(), ["load", path, "--set-max-entries", "M=0"])
    #expect(zero.status == 1)
    #expect(zero.standardError == """
      error: --set-max-entries M=0: a map needs at least 1 entry
      hint: `xdpkit load --help` shows the usage

      """)
    let malformed = try Command.run(PrivilegeTests.toolPath(), ["load", path, "--set-max-entries", "M"])
    #expect(malformed.standardError.hasPrefix("error: --set-max-entries M: expected MAP=N, a map name and a number of entries\n"))
    #expect(!zero.standardError.contains("LoadOptions"))
  }
}
