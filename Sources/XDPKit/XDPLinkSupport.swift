import Logging
import Synchronization
import XDPKitSys

/// Whether this kernel has XDP links, and the one notice of the netlink fallback of
/// ``XDPAttachMethod/auto``.
enum XDPLinkSupport {
  private static let noticeGiven = Mutex(false)

  /// Whether BPF_LINK_CREATE attaches XDP programs here: ``KernelFeatures/xdpLinks``, kept
  /// for the process. Under injected faults (tests) the probe is asked directly and not kept,
  /// so that it does not decide for the other tests in the process. A probe that fails for
  /// another reason (no privilege) counts as "available": the link attach's own error then
  /// stands.
  static func isAvailable() -> Bool {
    if !SyscallFaults.injected.isEmpty { return (try? BPF.supportsXDPLinks()) ?? true }
    return KernelFeatures.xdpLinks.answer != .unsupported
  }

  /// Tells `logger`, the first time in the process that one is given, that attachments use
  /// netlink.
  static func noteFallback(to logger: Logger?) {
    guard let logger else { return }
    let first = noticeGiven.withLock { given in
      defer { given = true }
      return !given
    }
    if first {
      logger.notice("this kernel has no XDP links (BPF_LINK_CREATE, Linux 5.9+); attaching through netlink, which outlives the process: detach explicitly")
    }
  }
}
