import Foundation
import Glibc
import Testing
import XDPBlockCore
import XDPKit
import XDPKitTestSupport

/// Commands that read or change the pinned maps do it while they hold the interface's lock,
/// and say what they repaired before acting: an `add` that reports an entry blocked is never
/// undone by a concurrent `attach --replace`, and no command repairs silently.
@Suite("xdp-block commands act under the lock and report repairs", .kernel, .serialized)
struct StateLockTests {
  typealias Fixture = StateRecoveryTests.Fixture

  /// The names of the state directories of the fixture's interface.
  private func generations(_ f: Fixture) throws -> [String] {
    try f.entries().filter { $0.hasPrefix("state-") }
  }

  /// The first two lines `command` prints for the fixture's interface; it must succeed.
  private func firstLines(_ f: Fixture, _ command: String) throws -> [String] {
    let result = try f.run([command] + f.interfaceArguments)
    #expect(result.status == 0, "\(command): \(result)")
    return Array(result.standardOutput.split(separator: "\n").map(String.init).prefix(2))
  }

  @Test("an add during attach --replace is in the new maps or refused as busy, never reported and lost")
  func addDuringReplace() throws {
    let f = try Fixture()
    #expect(try f.run(["attach", f.iface, "--netns", f.ns, "--direct", "--block", "192.0.2.1"]).status == 0)

    // An add that has checked the state and pauses before its write, holding the lock; a
    // replace started then waits for it, and copies the entry it wrote.
    let add = try BackgroundTool.withEnvironment(
      ["add", "192.0.2.3"] + f.interfaceArguments,
      ["XDP_BLOCK_BPFFS_ROOT": f.root.path, "XDP_BLOCK_TEST_PAUSE_AT": "state-locked", "XDP_BLOCK_TEST_PAUSE_SECONDS": "1"])
    #expect(add.waitForOutput(containing: "paused at state-locked", in: \.errors), "\(add.errors)")
    let replace = try f.run(["attach", f.iface, "--netns", f.ns, "--replace"])
    #expect(add.wait() == 0, "\(add.errors)")
    #expect(add.output == "blocked 192.0.2.3 (exact)\n")
    #expect(replace.status == 0, "\(replace)")
    #expect(replace.standardOutput.contains("kept 2 entries of the previous program"), "\(replace.standardOutput)")

    // A replace that holds the lock longer than an add waits: the add fails, saying why.
    let slow = try BackgroundTool.withEnvironment(
      ["attach", f.iface, "--netns", f.ns, "--replace"],
      ["XDP_BLOCK_BPFFS_ROOT": f.root.path, "XDP_BLOCK_TEST_PAUSE_AT": "replace-pinned",
       "XDP_BLOCK_TEST_PAUSE_SECONDS": StateRecoveryTests.pauseSeconds])
    #expect(slow.waitForOutput(containing: "paused at replace-pinned", in: \.errors), "\(slow.errors)")
    let refused = try f.run(["add", "192.0.2.4"] + f.interfaceArguments)
    #expect(refused.status == 1)
    #expect(refused.standardOutput == "")
    #expect(refused.standardError.contains("another xdp-block is changing \(f.iface) (netns \(f.ns))"), "\(refused.standardError)")
    #expect(slow.wait(timeout: .seconds((Int64(StateRecoveryTests.pauseSeconds) ?? 60) + 60)) == 0, "\(slow.errors)")

    let list = try f.run(["list"] + f.interfaceArguments)
    #expect(list.status == 0, "\(list)")
    let listed = list.standardOutput.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
    #expect(listed.filter { $0.hasPrefix("192.0.2.") } == ["192.0.2.1", "192.0.2.3"], "\(list.standardOutput)")
  }

  @Test("status and list say what they repaired: an unpublished state removed, a program put back")
  func readOnlyCommandsReportRepairs() throws {
    let f = try Fixture()
    #expect(try f.run(["attach", f.iface, "--netns", f.ns, "--direct", "--block", "192.0.2.1"]).status == 0)
    let layout = try f.root.layout(f.iface, f.ns)
    let before = try #require(try f.listedProgram())

    // A replace killed after swapping the program, before publishing: list puts the old
    // program back and removes the new state, and says both.
    let killed = try f.run(["attach", f.iface, "--netns", f.ns, "--replace"], ["XDP_BLOCK_TEST_CRASH_AT": "replace-swapped"])
    #expect(killed.status == 128 + SIGKILL, "\(killed)")
    let published = try FileManager.default.destinationOfSymbolicLink(atPath: layout.currentDirectory)
    let leftOver = try #require(try generations(f).first { $0 != published })
    #expect(try firstLines(f, "list") == [
      "restored program id \(before) under the link of \(f.iface) (netns \(f.ns)) (a replace was interrupted)",
      "removed \(layout.directory)/\(leftOver), left by an xdp-block that was interrupted",
    ])
    #expect(try f.attachedProgram() == before)

    // The published link withdrawn by someone else: status removes the unpublished state
    // (detaching its firewall) and says so before saying that nothing is attached.
    let generation = try #require(try generations(f).first)
    #expect(unlink(layout.currentDirectory) == 0)
    #expect(try firstLines(f, "status") == [
      "removed \(layout.directory)/\(generation), left by an xdp-block that was interrupted",
      "xdp-block is not attached to \(f.iface) (netns \(f.ns))",
    ])
    #expect(try f.attachedProgram() == nil)
  }

  @Test("the library passes each repair to the caller before it throws notAttached")
  func repairsReachTheCaller() throws {
    let f = try Fixture()
    #expect(try f.run(["attach", f.iface, "--netns", f.ns, "--direct"]).status == 0)
    let layout = try f.root.layout(f.iface, f.ns)
    let generation = try #require(try generations(f).first)
    #expect(unlink(layout.currentDirectory) == 0)
    var notes: [String] = []
    var ran = false
    #expect {
      try PersistentFirewall.withMaps(layout, repaired: { notes.append($0) }) { _, _ throws(XDPBlockError) in ran = true }
    } throws: { error in
      guard let error = error as? XDPBlockError, case .notAttached(let where_) = error else { return false }
      return where_ == layout
    }
    #expect(notes == ["removed \(layout.directory)/\(generation), left by an xdp-block that was interrupted"])
    #expect(!ran)
  }
}
