import Logging
import Synchronization
import XDPKitSys

/// Whether this kernel has XDP links, asked once per process, and the one notice of the
/// netlink fallback of ``XDPAttachMethod/auto``.
enum XDPLinkSupport {
  private static let known = Mutex<Bool?>(nil)
  private static let noticeGiven = Mutex(false)

  /// Whether BPF_LINK_CREATE attaches XDP programs here (``BPF/supportsXDPLinks()``). The
  /// answer is kept for the process, except under injected faults (tests), which must not
  /// decide it for the other tests in the process. A probe that fails for another reason
  /// (no privilege) counts as "available": the link attach's own error then stands.
  static func isAvailable() -> Bool {
    let injected = !SyscallFaults.injected.isEmpty
    if !injected, let answer = known.withLock({ $0 }) { return answer }
    let answer = (try? BPF.supportsXDPLinks()) ?? true
    if !injected { known.withLock { $0 = answer } }
    return answer
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
