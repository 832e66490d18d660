import Glibc
import Synchronization
import Testing
@testable import XDPKit
import XDPKitSys
import XDPKitTestSupport

/// What the multi-program suites share.
enum DispatcherTestSupport {
  /// Runs `body` inside namespace B of a fresh ``TestNetwork`` with B's veth.
  static func onVethB(_ body: (TestNetwork, NetworkInterface) throws -> Void) throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    try network.withNamespace(.b) { try body(network, .name(network.interfaceB)) }
  }

  private static let mounts = Atomic<Int>(0)

  /// Runs `body` with the dispatcher pins (`$LIBXDP_BPFFS/xdp`) in a bpffs mounted for it
  /// alone, set for this task only, then unmounts it with whatever is pinned there.
  ///
  /// Tests that check or clean up pin directories need this: a directory is named
  /// `dispatch-IFINDEX-ID`, and B's veth has the same index in every test's namespace, so in
  /// the shared `/sys/fs/bpf/xdp` "the directories of this interface" include those of every
  /// test running at the same time. A cleanup that removed them once took the pins from under
  /// xdp-block's dispatcher test.
  static func withPrivatePins<R>(_ body: (_ mountPoint: String) throws -> R) throws -> R {
    let mountPoint = "/tmp/xk-bpffs-\(getpid())-\(mounts.add(1, ordering: .relaxed).newValue)"
    try #require(mkdir(mountPoint, 0o700) == 0, "mkdir \(mountPoint): errno \(errno)")
    defer { rmdir(mountPoint) }
    try Command.check(try Command.locate("mount", candidates: ["/usr/bin/mount", "/bin/mount"]),
                      ["-t", "bpf", "bpf", mountPoint])
    // Lazily: a descriptor of the test's (a link, a program) may still hold the mount.
    defer { _ = try? Command.run(try Command.locate("umount", candidates: ["/usr/bin/umount", "/bin/umount"]), ["-l", mountPoint]) }
    return try DispatcherPins.$environmentOverride.withValue([DispatcherPins.bpffsVariable: mountPoint]) {
      try body(mountPoint)
    }
  }

  /// A test run of the installed dispatcher on an IPv4 UDP frame with 18 zero payload bytes.
  static func testRun(dispatcherID: UInt32) throws -> TestRun {
    let fd = try BPF.openProgram(id: dispatcherID)
    let program = LoadedProgram(fileDescriptor: fd, name: "xdp_dispatcher", type: .xdp, sectionName: "xdp",
                                expectedAttachType: nil, instructionCount: 0)
    return try program.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1)))
  }

  /// The `runs` counters of the components.
  static func runs(of components: [XDPComponentAttachment]) throws -> [UInt64] {
    try components.map { try $0.object.global("runs", as: UInt64.self) }
  }
}
