import Foundation
import Glibc
import Testing
import XDPBlockCore
import XDPKit
import XDPKitTestSupport

/// SIGKILL at every step of an attach, a replace and a detach behind a dispatcher: the next
/// command leaves exactly the published state's program in the dispatcher (or none), and the
/// neighbour added by xdp-loader keeps its place.
extension XDPBlockDispatcherTests {
  /// The ids of the firewall programs in the dispatcher, and whether xdp_mark (`theirs`) is
  /// still there.
  private static func firewalls(_ f: Fixture) throws -> [UInt32] {
    try (f.components() ?? []).filter { $0.name == "xdp_firewall" }.map(\.id)
  }

  @Test("SIGKILL at every step of an attach behind a dispatcher: the next command removes what was not published")
  func killedAttach() throws {
    let f = try Fixture()
    if try Self.lockedDown() != nil {
      // Under lockdown the first step is still taken (then the fallback to a link).
      let killed = try f.run(["attach", f.iface, "--netns", f.ns], ["XDP_BLOCK_TEST_CRASH_AT": "attach-intent"])
      #expect(killed.status == 128 + SIGKILL, "\(killed)")
      let add = try f.run(["add", "192.0.2.9"] + f.on)
      #expect(add.standardError.hasPrefix("error: xdp-block is not attached to \(f.iface) (netns \(f.ns))"), "\(add)")
      #expect(try f.programs() == .none)
      #expect(try f.stateEntries().isEmpty)
      return
    }
    #expect(try f.loadNeighbour().succeeded)
    let theirs = try #require(try f.components()?.first?.id)
    for point in ["attach-intent", "attach-component-added", "attach-component-pinned", "attach-published"] {
      let killed = try f.run(["attach", f.iface, "--netns", f.ns, "--block", "192.0.2.1"], ["XDP_BLOCK_TEST_CRASH_AT": point])
      #expect(killed.status == 128 + SIGKILL, "\(point): \(killed)")
      if point == "attach-published" {
        let listed = try f.listedProgram()
        let firewalls = try Self.firewalls(f)
        #expect(listed != nil && firewalls == [listed ?? 0], "\(point): \(firewalls)")
        #expect(try f.components()?.map(\.name) == ["xdp_mark", "xdp_firewall"], "\(point)")
        #expect(try f.stateEntries().filter { $0.hasPrefix("state-") }.count == 1, "\(point)")
        #expect(try f.run(["detach", f.iface, "--netns", f.ns]).status == 0)
      } else {
        let add = try f.run(["add", "192.0.2.9"] + f.on)
        #expect(add.status == 1, "\(point): \(add)")
        #expect(add.standardError.hasPrefix("error: xdp-block is not attached to \(f.iface) (netns \(f.ns))"), "\(point): \(add)")
        #expect(try f.components()?.map(\.id) == [theirs], "\(point): \(f.described)")
        #expect(try f.stateEntries().isEmpty, "\(point): \((try? f.stateEntries()) ?? [])")
      }
      let again = try f.run(["attach", f.iface, "--netns", f.ns])
      #expect(again.status == 0, "\(point): \(again)")
      #expect(try Self.firewalls(f).count == 1, "\(point)")
      #expect(try f.run(["detach", f.iface, "--netns", f.ns]).status == 0)
      #expect(try f.components()?.map(\.id) == [theirs], "\(point): \(f.described)")
    }
  }

  @Test("SIGKILL at every step of attach --replace behind a dispatcher: one firewall remains, with the entries")
  func killedReplace() throws {
    guard try Self.lockedDown() == nil else { return }  // the link's replace: StateRecoveryTests
    let f = try Fixture()
    #expect(try f.loadNeighbour().succeeded)
    let theirs = try #require(try f.components()?.first?.id)
    #expect(try f.run(["attach", f.iface, "--netns", f.ns, "--priority", "10", "--block", "192.0.2.1"]).status == 0)
    for point in ["replace-component-added", "replace-component-pinned", "replace-published"] {
      let before = try #require(try f.listedProgram(), "\(point)")
      let killed = try f.run(["attach", f.iface, "--netns", f.ns, "--replace", "--log-events"], ["XDP_BLOCK_TEST_CRASH_AT": point])
      #expect(killed.status == 128 + SIGKILL, "\(point): \(killed)")
      let listed = try #require(try f.listedProgram(), "\(point)")
      #expect(try Self.firewalls(f) == [listed], "\(point): \(f.described)")
      #expect(listed == before ? point != "replace-published" : point == "replace-published", "\(point)")
      // The priority is kept, the neighbour too, and so are the entries.
      #expect(try f.components()?.map(\.id) == [listed, theirs], "\(point)")
      let list = try f.run(["list"] + f.on)
      #expect(list.standardOutput.contains("192.0.2.1 "), "\(point): the entry was lost")
      #expect(try f.stateEntries().filter { $0.hasPrefix("state-") }.count == 1, "\(point)")
    }
    // A replace that completes keeps the entries and the priority.
    let replace = try f.run(["attach", f.iface, "--netns", f.ns, "--replace"])
    #expect(replace.status == 0, "\(replace)")
    #expect(replace.standardOutput.contains("kept 1 entry of the previous program\n"))
    let listed = try #require(try f.listedProgram())
    #expect(try f.components()?.map(\.id) == [listed, theirs])
    #expect(try f.testRun(from: "192.0.2.1") == (.drop, Self.unmarked))

    let killed = try f.run(["detach", f.iface, "--netns", f.ns], ["XDP_BLOCK_TEST_CRASH_AT": "detach-unpublished"])
    #expect(killed.status == 128 + SIGKILL)
    #expect(try f.run(["list"] + f.on).status == 1)
    #expect(try f.components()?.map(\.id) == [theirs])
    #expect(try f.stateEntries().isEmpty)
  }
}
