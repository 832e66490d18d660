import Glibc

/// Waiting for Ctrl-C (SIGINT) or SIGTERM in a tool that holds an attachment.
///
/// ``block()`` must run before the process starts any other thread (a Swift task, a Dispatch
/// queue): threads inherit the signal mask, and a thread that has the signals unblocked would
/// take them and end the process without detaching.
public enum TerminationSignals {
  /// Blocks SIGINT and SIGTERM in the calling thread and in the threads it starts from now on.
  public static func block() {
    var set = signals()
    pthread_sigmask(SIG_BLOCK, &set, nil)
  }

  /// Blocks until SIGINT or SIGTERM arrives (blocking them first in this thread), and returns
  /// which one.
  @discardableResult
  public static func wait() -> Int32 {
    var set = signals()
    pthread_sigmask(SIG_BLOCK, &set, nil)
    var signal: Int32 = 0
    sigwait(&set, &signal)
    return signal
  }

  private static func signals() -> sigset_t {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    return set
  }
}
