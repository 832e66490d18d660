import Glibc

/// Named points in the persistent commands where a test can have the process killed
/// (SIGKILL) or paused, to prove that an interruption at any step leaves a consistent state
/// and that a second command waits for the lock.
///
/// Set `XDP_BLOCK_TEST_CRASH_AT=NAME` to be killed on reaching NAME, or
/// `XDP_BLOCK_TEST_PAUSE_AT=NAME` to sleep there for `XDP_BLOCK_TEST_PAUSE_SECONDS` (default 5)
/// while holding the lock; a pause is announced on standard error ("paused at NAME") so that a
/// test knows when to act. Without these variables a point costs one environment lookup.
enum CrashPoint {
  /// Every point, in the order an attach, a replace and a detach reach them: alone through a
  /// link, then behind a dispatcher (see ``PersistentFirewall``).
  static let all = [
    "attach-locked", "attach-pinned", "attach-attached", "attach-link-pinned", "attach-published",
    "replace-pinned", "replace-swapped", "replace-published", "detach-unpublished",
    "attach-intent", "attach-component-added", "attach-component-pinned",
    "replace-component-added", "replace-component-pinned",
    // add, remove, list, stats, status, log: the state checked, the lock held, the body next.
    "state-locked",
  ]

  static func reach(_ name: String) {
    if let crash = getenv("XDP_BLOCK_TEST_CRASH_AT"), String(cString: crash) == name {
      kill(getpid(), SIGKILL)
    }
    if let pause = getenv("XDP_BLOCK_TEST_PAUSE_AT"), String(cString: pause) == name {
      let seconds = getenv("XDP_BLOCK_TEST_PAUSE_SECONDS").flatMap { UInt32(String(cString: $0)) } ?? 5
      let notice = "paused at \(name)\n"
      _ = notice.withCString { write(2, $0, strlen($0)) }
      sleep(seconds)
    }
  }
}
