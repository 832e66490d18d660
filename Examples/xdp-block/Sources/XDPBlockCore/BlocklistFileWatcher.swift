import Glibc
import XDPKit

/// Watches a blocklist file and yields its parsed content: first as it is when iteration
/// starts, then each time it changes.
///
/// ```swift
/// for await update in BlocklistFileWatcher(path: "/etc/xdp-block/blocklist.yaml") {
///   switch update {
///   case .success(let file): apply(file)            // reconcile the maps
///   case .failure(let error): logger.error("\(error)") // keep the current state
///   }
/// }
/// ```
///
/// It polls stat(2) on the path every ``interval`` (200 ms by default) and compares the
/// device, inode, size, modification and change times of the file the path leads to. stat
/// follows symbolic links, so all the ways a file gets replaced are seen: a rewrite in place, an
/// editor's write-and-rename, and Kubernetes' update of a mounted ConfigMap, which swaps the
/// `..data` symbolic link the file's path goes through. A change is read once the file has
/// stayed the same for one more poll (so a file being written is not read half-way), and
/// yielded within two intervals of the write. A change that leaves the bytes as they were
/// yields nothing.
///
/// A file that cannot be parsed yields ``BlocklistFileError``; the caller keeps its state
/// and the next good version yields normally. A file that vanishes (an editor's unlink
/// before its write) is reported as ``BlocklistFileError/unreadable(_:)`` only once it has
/// stayed away for ``missingGrace``.
///
/// Iteration ends (yields `nil`) when its task is cancelled; between polls it sleeps, so a
/// watcher costs one stat(2) per interval. The polling logic is ``Poller``, for a caller that
/// keeps time on a thread of its own.
public struct BlocklistFileWatcher: AsyncSequence, Sendable {
  /// The parsed file, or why it could not be parsed.
  public typealias Element = Result<BlocklistFile, BlocklistFileError>

  /// The watched path.
  public let path: String
  /// The time between two stat(2) calls.
  public let interval: Duration
  /// How long the file may be missing before that is reported.
  public let missingGrace: Duration

  /// A watcher of the file at `path`.
  public init(path: String, interval: Duration = .milliseconds(200), missingGrace: Duration = .seconds(1)) {
    self.path = path
    self.interval = interval
    self.missingGrace = missingGrace
  }

  /// An iterator that starts with the file's current content.
  public func makeAsyncIterator() -> Iterator {
    Iterator(poller: Poller(path: path, missingGrace: missingGrace), interval: interval)
  }

  /// Yields the file's content now and at each change; `nil` once the task is cancelled.
  ///
  /// It sleeps on the task's executor between polls: a caller whose executor threads are all
  /// busy with blocking work delays it. Such a caller can drive a ``Poller`` from a thread of
  /// its own instead.
  public struct Iterator: AsyncIteratorProtocol, Sendable {
    private var poller: Poller
    private let interval: Duration

    fileprivate init(poller: Poller, interval: Duration) {
      self.poller = poller
      self.interval = interval
    }

    /// The next version of the file, or `nil` when the task is cancelled.
    public mutating func next() async -> Element? {
      // The first poll reads the file at once; later ones come one interval apart.
      if poller.hasPolled, !(await sleep()) { return nil }
      while true {
        if let update = poller.poll() { return update }
        if !(await sleep()) { return nil }
      }
    }

    /// Sleeps one interval; `false` when the task was cancelled.
    private func sleep() async -> Bool {
      do {
        try await Task.sleep(for: interval)
        return true
      } catch {
        return false
      }
    }
  }

  /// The watcher's logic without its clock: each ``poll()`` looks at the file once and says
  /// whether there is something to yield. Call it every ``BlocklistFileWatcher/interval`` (the
  /// first call reads the file); the async ``Iterator`` does exactly that.
  public struct Poller: Sendable {
    /// The watched path.
    public let path: String
    /// How long the file may be missing before that is reported.
    public let missingGrace: Duration
    /// Whether ``poll()`` has been called.
    public private(set) var hasPolled = false
    /// What was yielded last: the bytes of the file, or the error it gave.
    private var reported: Outcome?
    /// The file's identity when it was read last.
    private var seen: FileState?
    /// A changed identity waiting to stay the same for one poll.
    private var pending: FileState?
    /// When the path was first seen missing, in the current absence.
    private var missingSince: ContinuousClock.Instant?

    /// A poller of the file at `path`.
    public init(path: String, missingGrace: Duration = .seconds(1)) {
      self.path = path
      self.missingGrace = missingGrace
    }

    /// Looks at the file once: its content on the first call, afterwards a new version (read
    /// once its stat(2) has stayed the same since the previous call) or an error; `nil` when
    /// there is nothing new.
    public mutating func poll() -> Element? {
      if !hasPolled {
        hasPolled = true
        // A file changing while it is read is read again by a later poll, once it settles.
        return read(initial: true)
      }
      let current = FileState(path: path)
      if current == .missing {
        pending = nil
        return missing().map { .failure($0) }
      }
      missingSince = nil
      if current == seen {
        pending = nil
        return nil
      }
      guard current == pending else {
        pending = current
        return nil
      }
      pending = nil
      return read(initial: false)
    }

    /// Reads and parses the file; `nil` when there is nothing new to yield.
    private mutating func read(initial: Bool) -> Element? {
      let before = FileState(path: path)
      let outcome: Outcome
      do {
        outcome = .bytes(try TrustedFile.read(path: path))
      } catch {
        if case .unreadable(.noSuchFile) = error, !initial {
          // Gone between stat and open: the grace period decides.
          return missing().map { .failure($0) }
        }
        outcome = .failure(error)
      }
      // Changed while being read: read again once it settles.
      guard FileState(path: path) == before else { return nil }
      seen = before
      guard outcome != reported else { return nil }
      reported = outcome
      switch outcome {
      case .bytes(let bytes):
        do {
          return .success(try BlocklistFile(bytes: bytes, source: path))
        } catch {
          return .failure(error)
        }
      case .failure(let error):
        return .failure(error)
      }
    }

    /// Notes that the path is missing; the error to yield once it has been for the grace period.
    private mutating func missing() -> BlocklistFileError? {
      let now = ContinuousClock.now
      guard let since = missingSince else {
        missingSince = now
        return nil
      }
      guard now - since >= missingGrace else { return nil }
      let error = BlocklistFileError.unreadable(.noSuchFile(path: path))
      seen = nil
      guard reported != .failure(error) else { return nil }
      reported = .failure(error)
      return error
    }
  }

  private enum Outcome: Equatable, Sendable {
    case bytes([UInt8])
    case failure(BlocklistFileError)
  }
}

/// What tells one version of a file from another without reading it: the stat(2) of the file
/// the path leads to (through symbolic links).
private enum FileState: Equatable, Sendable {
  /// Nothing at the path (`ENOENT`, `ENOTDIR`), or a dangling symbolic link.
  case missing
  /// Device, inode, size, modification and change times (seconds, nanoseconds).
  case file(device: UInt64, inode: UInt64, size: Int64, modified: [Int], changed: [Int])
  /// stat(2) failed otherwise (`EACCES`, …): reading it reports the error.
  case failed(Int32)

  init(path: String) {
    var status = stat()
    guard stat(path, &status) == 0 else {
      let code = errno
      self = code == ENOENT || code == ENOTDIR ? .missing : .failed(code)
      return
    }
    self = .file(
      device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: Int64(status.st_size),
      modified: [status.st_mtim.tv_sec, status.st_mtim.tv_nsec], changed: [status.st_ctim.tv_sec, status.st_ctim.tv_nsec])
  }
}
