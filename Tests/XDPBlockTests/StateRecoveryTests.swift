import Foundation
import Glibc
import Testing
import XDPBlockCore
import XDPKit
import XDPKitTestSupport

/// xdp-block's state after interruptions and races: a SIGKILL at every step leaves the old
/// state or the new one, stale state is never believed, and two commands never half-fail
/// each other.
@Suite("xdp-block state after interruptions", .kernel, .serialized)
struct StateRecoveryTests {
  typealias Root = StateSafetyTests.Root

  /// One interface under test: a namespace pair, its own state root, and helpers.
  final class Fixture {
    let network: TestNetwork
    let root: Root
    var ns: String { network.namespaceB }
    var iface: String { network.interfaceB }

    init() throws {
      network = try TestNetwork()
      root = try Root()
    }

    deinit {
      removePins(interface: iface, namespace: ns, root: root.path)
      network.destroy()
    }

    func run(_ arguments: [String], _ environment: [String: String] = [:]) throws -> CommandResult {
      try root.run(arguments, environment: environment)
    }

    var interfaceArguments: [String] { ["--iface", iface, "--netns", ns] }

    /// The program attached to the interface now, if any.
    func attachedProgram() throws -> UInt32? {
      let state = try network.xdpState(.b)
      return state.isAttached ? state.programID : nil
    }

    /// The program id `list` reports, or `nil` when `list` fails.
    func listedProgram() throws -> UInt32? {
      let list = try run(["list"] + interfaceArguments)
      guard list.status == 0, let range = list.standardOutput.range(of: "(program id ") else { return nil }
      return UInt32(list.standardOutput[range.upperBound...].prefix { $0.isNumber })
    }

    /// The names in the interface's state directory.
    func entries() throws -> [String] {
      let directory = try root.layout(iface, ns).directory
      return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }
  }

  @Test("SIGKILL at every step of attach leaves no state and no program, or the whole new state")
  func killedAttach() throws {
    let f = try Fixture()
    for point in ["attach-locked", "attach-pinned", "attach-attached", "attach-link-pinned", "attach-published"] {
      // The link's steps (--direct); XDPBlockDispatcherTests sweeps the dispatcher's.
      let killed = try f.run(["attach", f.iface, "--netns", f.ns, "--direct", "--block", "192.0.2.1"], ["XDP_BLOCK_TEST_CRASH_AT": point])
      #expect(killed.status == 128 + SIGKILL, "\(point): \(killed)")
      if point == "attach-published" {
        // The state was published: it is whole, and it is what runs on the interface.
        let listed = try f.listedProgram()
        let attached = try f.attachedProgram()
        #expect(listed != nil && listed == attached, "\(point)")
        #expect(try f.entries().filter { $0.hasPrefix("state-") }.count == 1, "\(point)")
        #expect(try f.run(["detach", f.iface, "--netns", f.ns]).status == 0)
      } else {
        // Nothing was published: the next command says so, and removes what was left — a
        // link pinned by the killed attach is detached.
        let add = try f.run(["add", "192.0.2.9"] + f.interfaceArguments)
        #expect(add.status == 1, "\(point): \(add)")
        #expect(add.standardError.contains("xdp-block is not attached to \(f.iface)"), "\(point): \(add.standardError)")
        #expect(try f.attachedProgram() == nil, "\(point): a program was left attached")
        let left = try f.entries()
        #expect(left.isEmpty, "\(point): \(left)")
      }
      // And a new attach works.
      let again = try f.run(["attach", f.iface, "--netns", f.ns])
      #expect(again.status == 0, "\(point): \(again)")
      #expect(try f.run(["detach", f.iface, "--netns", f.ns]).status == 0)
    }
  }

  @Test("SIGKILL at every step of attach --replace leaves the old program with its maps, or the new one")
  func killedReplace() throws {
    let f = try Fixture()
    #expect(try f.run(["attach", f.iface, "--netns", f.ns, "--direct", "--block", "192.0.2.1"]).status == 0)
    for point in ["replace-pinned", "replace-swapped", "replace-published"] {
      let before = try #require(try f.listedProgram())
      let killed = try f.run(["attach", f.iface, "--netns", f.ns, "--replace", "--log-events"], ["XDP_BLOCK_TEST_CRASH_AT": point])
      #expect(killed.status == 128 + SIGKILL, "\(point): \(killed)")
      let listed = try #require(try f.listedProgram(), "\(point)")
      #expect(listed == (try f.attachedProgram()), "\(point): list and the interface disagree")
      let list = try f.run(["list"] + f.interfaceArguments)
      #expect(list.standardOutput.contains("192.0.2.1"), "\(point): the entry was lost")
      let entries = try f.entries()
      #expect(entries.filter { $0.hasPrefix("state-") }.count == 1, "\(point): \(entries)")
      let log = try f.run(["log", "--duration", "0.1"] + f.interfaceArguments)
      if point == "replace-published" {
        #expect(listed != before, "\(point): the new program was published")
        #expect(log.status == 0, "\(point): \(log)")
      } else {
        #expect(listed == before, "\(point): the old program is back under the link")
        #expect(log.standardError.contains("drop events are off"), "\(point): \(log)")
      }
    }
  }

  @Test("SIGKILL during detach: the next command finishes it")
  func killedDetach() throws {
    let f = try Fixture()
    #expect(try f.run(["attach", f.iface, "--netns", f.ns]).status == 0)
    let killed = try f.run(["detach", f.iface, "--netns", f.ns], ["XDP_BLOCK_TEST_CRASH_AT": "detach-unpublished"])
    #expect(killed.status == 128 + SIGKILL)
    let list = try f.run(["list"] + f.interfaceArguments)
    #expect(list.status == 1)
    #expect(try f.attachedProgram() == nil)
    #expect(try f.entries().isEmpty)
  }

  @Test("state without its link is never believed: add fails, detach removes it")
  func orphanedMaps() throws {
    let f = try Fixture()
    #expect(try f.run(["attach", f.iface, "--netns", f.ns, "--direct"]).status == 0)
    let layout = try f.root.layout(f.iface, f.ns)
    #expect(unlink(layout.currentDirectory + "/link") == 0)  // the link goes; so does the program
    let add = try f.run(["add", "192.0.2.1"] + f.interfaceArguments)
    #expect(add.status == 1)
    #expect(add.standardError.contains("the pinned state of \(f.iface) (netns \(f.ns)) is stale: its link: "), "\(add.standardError)")
    #expect(add.standardError.contains("nothing pinned there"))
    #expect(!add.standardOutput.contains("blocked"))
    let detach = try f.run(["detach", f.iface, "--netns", f.ns])
    #expect(detach.status == 0, "\(detach)")
    #expect(try f.entries().isEmpty)
  }

  @Test("a failed attach keeps the existing state: arguments are checked first")
  func failedAttachKeepsState() throws {
    let f = try Fixture()
    #expect(try f.run(["attach", f.iface, "--netns", f.ns, "--block", "192.0.2.1"]).status == 0)
    let wrong = try f.run(["attach", "nosuch0", "--netns", f.ns])
    #expect(wrong.status == 1)
    let replaceMissing = try f.run(["attach", f.iface, "--netns", f.ns + "-gone", "--replace"])
    #expect(replaceMissing.standardError.contains("no network namespace named \(f.ns)-gone"))
    let list = try f.run(["list"] + f.interfaceArguments)
    #expect(list.status == 0)
    #expect(list.standardOutput.contains("192.0.2.1"))
  }

  /// How long the first attach holds the lock: long enough for the second to start and give
  /// up after its 2 s wait. The VM suite (Tests/VM/run.sh sets XDPKIT_IN_VM) starts processes
  /// about 25× slower.
  static let pauseSeconds = ProcessInfo.processInfo.environment["XDPKIT_IN_VM"] == "1" ? "60" : "4"

  @Test("two attaches at once: exactly one wins; one held up gets the lock message")
  func concurrentAttaches() throws {
    let f = try Fixture()
    // A first attach that pauses while holding the lock; a second gives up after its wait.
    // Alone through a link (--direct), whose step attach-pinned it pauses at, also in the VM.
    let slow = try BackgroundTool.withEnvironment(
      ["attach", f.iface, "--netns", f.ns, "--direct"],
      ["XDP_BLOCK_BPFFS_ROOT": f.root.path, "XDP_BLOCK_TEST_PAUSE_AT": "attach-pinned", "XDP_BLOCK_TEST_PAUSE_SECONDS": Self.pauseSeconds])
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .seconds(10))
    while try f.entries().isEmpty && clock.now < deadline { usleep(20_000) }
    let second = try f.run(["attach", f.iface, "--netns", f.ns])
    #expect(second.status == 1)
    #expect(second.standardError.contains("another xdp-block is changing \(f.iface) (netns \(f.ns))"), "\(second.standardError)")
    // It pauses for pauseSeconds (60 in the VM): wait longer than that.
    #expect(slow.wait(timeout: .seconds((Int64(Self.pauseSeconds) ?? 60) + 60)) == 0, "\(slow.errors)")
    #expect(try f.listedProgram() == (try f.attachedProgram()))
    #expect(try f.run(["detach", f.iface, "--netns", f.ns]).status == 0)

    // Started together: one attaches, the other is refused, never both failing.
    for round in 0..<3 {
      let arguments = ["attach", f.iface, "--netns", f.ns, "--direct"]
      let first = try BackgroundTool.withEnvironment(arguments, ["XDP_BLOCK_BPFFS_ROOT": f.root.path])
      let other = try BackgroundTool.withEnvironment(arguments, ["XDP_BLOCK_BPFFS_ROOT": f.root.path])
      let statuses = [first.wait(), other.wait()]
      #expect(statuses.sorted() == [0, 1], "round \(round): \(statuses) \(first.errors) \(other.errors)")
      let loser = statuses[0] == 1 ? first : other
      #expect(loser.errors.contains("xdp-block is already attached") || loser.errors.contains("another xdp-block is changing"),
              "round \(round): \(loser.errors)")
      #expect(try f.listedProgram() == (try f.attachedProgram()), "round \(round)")
      #expect(try f.run(["detach", f.iface, "--netns", f.ns]).status == 0, "round \(round)")
    }
  }

  @Test("attach in a private mount namespace refuses: its pins would vanish")
  func privateMountNamespace() throws {
    let f = try Fixture()
    let tool = try Tool.path
    let unmounted = try Command.run("/usr/bin/unshare", [
      "-m", "--propagation", "private", "sh", "-c",
      "umount /sys/fs/bpf 2>/dev/null; exec env XDP_BLOCK_BPFFS_ROOT=\(f.root.path) \(tool) attach \(f.iface) --netns \(f.ns)",
    ])
    #expect(unmounted.status == 1, "\(unmounted)")
    #expect(unmounted.standardError.contains(
      "pins under \(f.root.path) would not outlive this command: no bpffs is mounted at /sys/fs/bpf and this process runs in a private mount namespace"),
      "\(unmounted.standardError)")
    let ownMount = try Command.run("/usr/bin/unshare", [
      "-m", "--propagation", "private", "sh", "-c",
      "mount -t bpf -o mode=0700 bpf /sys/fs/bpf && exec env XDP_BLOCK_BPFFS_ROOT=\(f.root.path) \(tool) attach \(f.iface) --netns \(f.ns)",
    ])
    #expect(ownMount.status == 1, "\(ownMount)")
    #expect(ownMount.standardError.contains(
      "pins under \(f.root.path) would not outlive this command: the bpffs at /sys/fs/bpf belongs to this process's private mount namespace, not to the host's"),
      "\(ownMount.standardError)")
    #expect(try f.attachedProgram() == nil)
  }

  @Test("run over xdp-block's own attachment, and log without drop events, say what they are")
  func ownAttachmentMessages() throws {
    let f = try Fixture()
    #expect(try f.run(["attach", f.iface, "--netns", f.ns]).status == 0)
    let run = try f.run(["run", "--iface", f.iface, "--netns", f.ns, "--duration", "1"])
    #expect(run.status == 1)
    #expect(run.standardError.contains("xdp-block is already attached to \(f.iface) (netns \(f.ns))"), "\(run.standardError)")
    #expect(!run.standardError.contains("another XDP program"))
    let log = try f.run(["log", "--duration", "1"] + f.interfaceArguments)
    #expect(log.status == 1)
    #expect(log.standardError.contains("drop events are off on \(f.iface) (netns \(f.ns)): it was attached without --log-events"),
            "\(log.standardError)")
  }
}
