import CXDPKit
import Glibc
import SystemPackage

/// The directory where `ip netns add NAME` bind-mounts named network namespaces.
public let namedNetworkNamespaceDirectory = "/var/run/netns"

/// Runs `body` on the calling thread inside the network namespace at `path`, then switches
/// the thread back to the namespace it was in.
///
/// Only the calling thread moves; the rest of the process stays where it is. Everything that
/// resolves "the current namespace" at the moment of the call sees the target namespace while
/// `body` runs:
/// - sockets created inside `body` (including ``RouteNetlinkSocket``) belong to the target
///   namespace for their whole life, also after `body` returns;
/// - ``interfaceIndex(named:)`` and ``interfaceName(index:)`` resolve names there;
/// - bpf(2) BPF_LINK_CREATE with an ifindex, and RTM_SETLINK IFLA_XDP, attach to the
///   interface with that index in the target namespace.
///
/// So attaching to an interface inside another namespace works by doing the lookup and the
/// attach inside `body`. BPF maps, programs and links are not tied to a namespace and can be
/// created anywhere.
///
/// `body` is synchronous on purpose and must not start work that depends on the thread's
/// namespace elsewhere: network namespace membership belongs to the OS thread, not to a Swift
/// task. An `async` body could suspend and resume on another thread (still in the original
/// namespace), while the thread it left would run unrelated tasks inside the target
/// namespace. A synchronous body keeps the thread for itself from setns to setns.
///
/// If switching back fails (the kernel refused setns(2) with the descriptor of the namespace
/// the thread came from, which does not happen for a thread with CAP_SYS_ADMIN) the thread is
/// stranded in the target namespace; continuing would let unrelated code run in the wrong
/// namespace, so that is a fatal error.
///
/// - Throws: a `SyscallError` (`.file(path)` or `.setns`) if the namespace cannot be opened
///   or entered, and `body` has not run; otherwise whatever `body` throws.
///
/// The corresponding calls are `open("/proc/thread-self/ns/net")`, `open(path)` and
/// `setns(fd, CLONE_NEWNET)`.
public func withNetworkNamespace<R>(path: String, _ body: () throws -> R) throws -> R {
  let original = try openNamespace("/proc/thread-self/ns/net")
  let target = try openNamespace(path)
  if cxdpkit_setns(target.rawValue, cloneNewNet) != 0 {
    throw SyscallError(operation: .setns, errno: .current)
  }
  defer {
    if cxdpkit_setns(original.rawValue, cloneNewNet) != 0 {
      let code = Errno.current
      fatalError(
        "setns back to the original network namespace failed: \(code); the thread is stranded in \(path)")
    }
  }
  return try body()
}

/// Runs `body` on the calling thread inside the named network namespace
/// `/var/run/netns/NAME` (as made by `ip netns add NAME`); see
/// ``withNetworkNamespace(path:_:)``.
///
/// - Throws: `SyscallError` with `.file` and ENOENT if `name` is empty or contains "/";
///   otherwise as ``withNetworkNamespace(path:_:)``.
public func withNetworkNamespace<R>(named name: String, _ body: () throws -> R) throws -> R {
  guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
    throw SyscallError(operation: .file("\(namedNetworkNamespaceDirectory)/\(name)"),
                       errno: .noSuchFileOrDirectory)
  }
  return try withNetworkNamespace(path: "\(namedNetworkNamespaceDirectory)/\(name)", body)
}

/// CLONE_NEWNET from linux/sched.h: setns(2)'s nstype for a network namespace.
private let cloneNewNet: Int32 = 0x4000_0000

private func openNamespace(_ path: String) throws(SyscallError) -> BPFFileDescriptor {
  while true {
    let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    if fd >= 0 { return BPFFileDescriptor(adopting: fd) }
    let code = Errno.current
    if code == .interrupted { continue }
    throw SyscallError(operation: .file(path), errno: code)
  }
}
