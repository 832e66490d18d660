import CXDPKit
import Glibc
import SystemPackage
import Synchronization
import XDPKitObject

extension BPF {
  /// Raises RLIMIT_MEMLOCK to infinity if, and only if, this kernel still charges BPF memory
  /// against it, and returns whether it did.
  ///
  /// Linux 5.11 moved BPF memory to cgroup accounting; older kernels charge it to the locked
  /// memory limit, whose default is too small for most maps. Rather than trust the version
  /// number (backports blur it), this creates a one-element array map as a probe: if that
  /// succeeds nothing changes; if it fails with `EPERM` the limit is raised and the probe is
  /// repeated, so that a real lack of privilege still surfaces as `EPERM`.
  ///
  /// Once a probe has succeeded, later calls return `false` without probing again: the
  /// answer holds for the life of the process (as libbpf, which raises the limit once per
  /// process), and the loader calls this on every load, where the probe's map creation and
  /// close would otherwise be two extra system calls.
  ///
  /// The corresponding bpf(2) command of the probe is BPF_MAP_CREATE; the limit is set with
  /// setrlimit(2).
  @discardableResult
  public static func raiseMemlockLimitIfNeeded() throws(SyscallError) -> Bool {
    if memlockSettled.load(ordering: .acquiring) { return false }
    switch probeMapCreation() {
    case .success:
      memlockSettled.store(true, ordering: .releasing)
      return false
    case .failure(let error) where error.errno == .notPermitted: break
    case .failure(let error): throw error
    }
    // RLIM_INFINITY is `(rlim_t)-1`, which Swift cannot import: all bits set.
    var unlimited = rlimit(rlim_cur: rlim_t.max, rlim_max: rlim_t.max)
    if setrlimit(__rlimit_resource_t(__RLIMIT_MEMLOCK.rawValue), &unlimited) != 0 {
      throw SyscallError(operation: .rlimit, errno: .current)
    }
    try probeMapCreation().get()
    memlockSettled.store(true, ordering: .releasing)
    return true
  }

  /// Whether a probe of ``raiseMemlockLimitIfNeeded()`` has succeeded in this process.
  private static let memlockSettled = Atomic<Bool>(false)

  private static func probeMapCreation() -> Result<Void, SyscallError> {
    let attributes = MapCreateAttributes(
      type: .array, keySize: 4, valueSize: 4, maxEntries: 1, name: "xdpkit_probe")
    do {
      _ = try createMap(attributes)
      return .success(())
    } catch {
      return .failure(error)
    }
  }
}
