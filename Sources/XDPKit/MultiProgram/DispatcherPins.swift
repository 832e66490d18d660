import Foundation
import XDPKitSys

/// Where the dispatcher protocol keeps its pins, and its lock.
///
/// `$LIBXDP_BPFFS/xdp` (default `/sys/fs/bpf/xdp`, created with mode 0700) holds one
/// directory per installed dispatcher, `dispatch-IFINDEX-DISPATCHERID`, with `progN-prog`
/// and `progN-link` for the program in slot N and its link to the dispatcher. Every change
/// holds an exclusive flock(2) on the xdp directory, as libxdp does.
enum DispatcherPins {
  /// The environment variable libxdp reads for the bpffs mount point.
  static let bpffsVariable = "LIBXDP_BPFFS"
  /// How long a change waits for another loader to release the lock.
  static let lockTimeout: Duration = .seconds(60)

  /// An environment read in place of the process's, for the current task only. Tests set it
  /// rather than `setenv(LIBXDP_BPFFS)`: the process environment is shared with every test
  /// running at the same time, and with the tools they start.
  @TaskLocal static var environmentOverride: [String: String]? = nil

  /// The xdp state directory's path in this process's environment.
  static var statePath: String {
    statePath(environment: environmentOverride ?? ProcessInfo.processInfo.environment)
  }

  /// The xdp state directory's path: `xdp` under `LIBXDP_BPFFS` when it is set and not empty,
  /// else under `/sys/fs/bpf`.
  static func statePath(environment: [String: String]) -> String {
    var root = environment[bpffsVariable].flatMap { $0.isEmpty ? nil : $0 } ?? "/sys/fs/bpf"
    while root.count > 1, root.hasSuffix("/") { root.removeLast() }
    return (root == "/" ? "" : root) + "/xdp"
  }

  /// Opens (creating it if needed) the state directory and takes its lock.
  static func openLocked(create: Bool = true) throws(MultiProgramError) -> (BPFFSDirectory, BPFFSDirectory.Lock) {
    do {
      let directory = try BPFFSDirectory.open(statePath, create: create, mode: 0o700)
      return (directory, try directory.lock(timeout: lockTimeout))
    } catch {
      throw .pins(error)
    }
  }

  /// `dispatch-IFINDEX-ID`.
  static func directoryName(interfaceIndex: Int32, dispatcherID: UInt32) -> String {
    "dispatch-\(interfaceIndex)-\(dispatcherID)"
  }

  static func programPin(slot: Int) -> String { "prog\(slot)-prog" }
  static func linkPin(slot: Int) -> String { "prog\(slot)-link" }

  /// Removes a dispatcher's pin directory: the pins of its `count` slots, then the directory.
  /// Anything else in it (pins of another implementation) is left, and so is the directory.
  static func remove(_ name: String, slots count: Int, in state: BPFFSDirectory) {
    guard let directory = try? state.subdirectory(name) else { return }
    for slot in 0..<max(count, XDPDispatcherConfig.slotCount) {
      _ = try? directory.remove(linkPin(slot: slot))
      _ = try? directory.remove(programPin(slot: slot))
    }
    _ = try? state.remove(name)
  }
}
