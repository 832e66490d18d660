import Foundation
import Glibc
import Testing
import XDPKit
import XDPKitTestSupport

/// `xdpkit load` as a user and a supervisor see it: what a rejected program reports, and
/// output that reaches a pipe line by line.
@Suite("xdpkit load", .kernel, .serialized)
struct LoadCommandTests {
  static func fixture(_ name: String) -> String {
    TestFixtures.directory.appendingPathComponent(name + ".o").path
  }

  @Test("a verifier rejection's first line names the program and the verifier's reason")
  func verifierRejection() throws {
    let result = try Command.run(PrivilegeTests.toolPath(), ["load", Self.fixture("verifier_reject")], timeout: .seconds(60))
    #expect(result.status == 1)
    let lines = result.standardError.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.first == """
      error: the verifier rejected program xdp_unchecked: invalid access to packet, off=0 size=1, R1(id=0,off=0,r=0); \
      R1 offset is outside of the packet (BPF_PROG_LOAD failed: Permission denied (errno 13))
      """)
    #expect(lines.dropFirst().first == "verifier log:")
    #expect(result.standardError.contains("processed 2 insns"))
  }

  @Test("a map without max_entries is answered in CLI options, not LoadOptions")
  func missingMaxEntries() throws {
    let path = Self.fixture("map_in_map")
    let result = try Command.run(PrivilegeTests.toolPath(), ["load", path], timeout: .seconds(60))
    #expect(result.status == 1)
    #expect(result.standardError == """
      error: \(path): map DYNAMIC leaves max_entries at 0
      hint: give it a size with --set-max-entries DYNAMIC=N

      """)
    let unknown = try Command.run(PrivilegeTests.toolPath(), ["load", path, "--set-max-entries", "NOPE=3"])
    #expect(unknown.standardError.hasPrefix("error: --set-max-entries: no map named 'NOPE'; the object has: INNER, OUTER"))
  }

  @Test("--program P --attach IF where P fails to load: P's error, not an --attach complaint")
  func attachRejected() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let result = try network.run(
      in: .b, try PrivilegeTests.toolPath(), "load", Self.fixture("verifier_reject"), "--program", "xdp_unchecked",
      "--attach", network.interfaceB, timeout: .seconds(60))
    #expect(result.status == 1)
    #expect(result.standardError.hasPrefix("error: the verifier rejected program xdp_unchecked: "))
    #expect(result.standardError.hasSuffix(
      "error: --attach \(network.interfaceB): program xdp_unchecked failed to load, nothing attached\n"))
    #expect(!result.standardError.contains("exactly one"))
    #expect(try !network.withNamespace(.b) { try XDP.attachment(on: .name(network.interfaceB)) }.isAttached)
  }

  @Test("--program P --attach IF where P's CO-RE relocation is unresolvable: the relocation, then no attach")
  func attachUnresolvedCORE() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let result = try network.run(
      in: .b, try PrivilegeTests.toolPath(), "load", Self.fixture("core_kinds"), "--program", "core_missing_live",
      "--attach", network.interfaceB, timeout: .seconds(60))
    #expect(result.status == 1)
    #expect(result.standardError.hasPrefix(
      "error: CO-RE relocation #17 (field byte offset of xdpkit_missing___local.field, access 0:0) in program "
        + "\"core_missing_live\" at instruction 0: no matching type in kernel BTF\nverifier log:\n"))
    #expect(result.standardError.contains("unknown#195896080"))
    #expect(result.standardError.hasSuffix(
      "error: --attach \(network.interfaceB): program core_missing_live failed to load, nothing attached\n"))
    #expect(!result.standardError.contains("exactly one"))
    #expect(try !network.withNamespace(.b) { try XDP.attachment(on: .name(network.interfaceB)) }.isAttached)
  }

  @Test("load --attach with stdout on a pipe: every line arrives before it blocks, and a SIGKILL loses none")
  func lineBufferedPipe() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let pipe = Pipe()
    let process = Process()
    // `ip netns exec` execs the command in place: the pid is xdpkit's.
    process.executableURL = URL(fileURLWithPath: try Command.ipPath())
    process.arguments = [
      "netns", "exec", network.namespaceB, try PrivilegeTests.toolPath(), "load", Self.fixture("xdp_pass"),
      "--attach", network.interfaceB, "--mode", "generic",
    ]
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    defer {
      // Only our own child, by its pid.
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
      process.waitUntilExit()
    }
    try? pipe.fileHandleForWriting.close()

    let fd = pipe.fileHandleForReading.fileDescriptor
    var received = ""
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .seconds(30))
    while !received.contains("holding the attachment") && clock.now < deadline {
      var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      guard poll(&poller, 1, 100) > 0 else { continue }
      var buffer = [UInt8](repeating: 0, count: 4096)
      let count = read(fd, &buffer, buffer.count)
      if count <= 0 { break }
      received += String(decoding: buffer[0..<count], as: UTF8.self)
    }
    #expect(process.isRunning, "xdpkit should hold the attachment: \(received)")
    #expect(received.contains("xdp_pass: loaded  BPF_PROG_TYPE_XDP  2 insns  id "), "\(received)")
    #expect(received.contains("xdp_pass: attached to \(network.interfaceB) (generic, bpf_link)\n"), "\(received)")
    #expect(received.hasSuffix("holding the attachment; Ctrl-C or SIGTERM detaches\n"), "\(received)")
    #expect(try network.xdpState(.b).isAttached)

    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)
    // The bpf_link died with the process.
    var attached = true
    for _ in 0..<250 where attached {
      attached = try network.xdpState(.b).isAttached
      if attached { usleep(20_000) }
    }
    #expect(!attached)
  }
}

extension TestNetwork {
  /// The XDP state of `side`'s veth end.
  fileprivate func xdpState(_ side: Side) throws -> XDPAttachmentState {
    let interface = interfaceName(side)
    return try withNamespace(side) { try XDP.attachment(on: .name(interface)) }
  }
}
