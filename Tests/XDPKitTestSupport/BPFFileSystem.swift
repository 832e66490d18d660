import Foundation
import Synchronization

/// Whether a BPF file system (bpffs) is mounted at `path`, according to /proc/self/mounts.
public func isBPFFS(_ path: String = "/sys/fs/bpf") -> Bool {
  guard let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else {
    return false
  }
  // Each line: device mountpoint fstype options dump pass. The last mount at a path wins.
  var type: Substring?
  for line in mounts.split(separator: "\n") {
    let fields = line.split(separator: " ")
    if fields.count >= 3, fields[1] == path { type = fields[2] }
  }
  return type == "bpf"
}

/// Mounts bpffs at `/sys/fs/bpf` (`mount -t bpf bpf /sys/fs/bpf`) unless it is mounted already.
public func mountBPFFSIfNeeded() throws {
  let path = "/sys/fs/bpf"
  if isBPFFS(path) { return }
  let mount = try Command.locate("mount", candidates: ["/usr/bin/mount", "/bin/mount"])
  try Command.check(mount, ["-t", "bpf", "bpf", path])
}

/// A fresh directory `/sys/fs/bpf/xdpkit-test-<pid>-<n>` for pinning, removed with everything
/// pinned in it when this object is deinitialised (or by ``remove()``).
///
/// Mounts bpffs first if needed.
public final class TemporaryPinDirectory: Sendable {
  /// The directory's path.
  public let path: String

  private static let counter = Mutex(0)
  private let removed = Mutex(false)

  /// Creates the directory.
  public init() throws {
    try mountBPFFSIfNeeded()
    let n = Self.counter.withLock { value -> Int in
      value += 1
      return value
    }
    path = "/sys/fs/bpf/xdpkit-test-\(getpid())-\(n)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
  }

  /// `path/name`.
  public func pinPath(_ name: String) -> String { "\(path)/\(name)" }

  /// Removes the directory and everything pinned in it. Idempotent.
  public func remove() {
    let already = removed.withLock { value -> Bool in
      defer { value = true }
      return value
    }
    if !already { try? FileManager.default.removeItem(atPath: path) }
  }

  deinit { remove() }
}
