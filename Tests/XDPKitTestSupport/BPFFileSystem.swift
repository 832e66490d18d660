import Foundation
import Synchronization
import XDPKitSys

/// Whether a BPF file system (bpffs) is mounted at `path` (statfs(2) magic).
public func isBPFFS(_ path: String = "/sys/fs/bpf") -> Bool {
  (try? SystemInfo.isBPFFS(path: path)) == true
}

/// Mounts bpffs at `/sys/fs/bpf` unless it is mounted already.
public func mountBPFFSIfNeeded() throws {
  try SystemInfo.mountBPFFSIfNeeded()
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
