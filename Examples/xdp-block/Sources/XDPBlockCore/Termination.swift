import Glibc
import Synchronization

/// The signal that asked the process to stop, 0 while none has. Written by the handler that
/// ``Termination/install()`` sets for SIGINT and SIGTERM; an atomic store is all it does.
private let receivedSignal = Atomic<Int32>(0)

/// Ctrl-C and SIGTERM as a flag that long-running commands (`run`, `demo`) poll, so that they
/// leave through their normal clean-up path — detach, delete what they created — and exit 0.
public enum Termination {
  /// Installs handlers for SIGINT and SIGTERM that record the signal, and unblocks both for
  /// the calling thread: a parent may have started this process with them blocked (a blocked
  /// mask survives exec), and then a handler alone would never run. Idempotent.
  ///
  /// The corresponding calls are sigaction(2) (through signal(3), with BSD semantics: system
  /// calls interrupted by the signal are restarted, so waits end at their next check) and
  /// pthread_sigmask(3).
  public static func install() {
    _ = receivedSignal.load(ordering: .relaxed)  // initialise the global before any handler runs
    var set = sigset_t()
    sigemptyset(&set)
    for signalNumber in [SIGINT, SIGTERM] {
      _ = Glibc.signal(signalNumber) { number in receivedSignal.store(number, ordering: .relaxed) }
      sigaddset(&set, signalNumber)
    }
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
  }

  /// Whether SIGINT or SIGTERM has arrived since ``install()``.
  public static var isRequested: Bool { receivedSignal.load(ordering: .relaxed) != 0 }

  /// The signal that arrived, or `nil`.
  public static var signal: Int32? {
    let number = receivedSignal.load(ordering: .relaxed)
    return number == 0 ? nil : number
  }

  /// "SIGINT", "SIGTERM" or "signal N".
  public static func name(of number: Int32) -> String {
    switch number {
    case SIGINT: return "SIGINT"
    case SIGTERM: return "SIGTERM"
    default: return "signal \(number)"
    }
  }
}
