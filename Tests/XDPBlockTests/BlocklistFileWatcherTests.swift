import Foundation
import Glibc
import Testing
import XDPBlockCore
import XDPKit

/// The watcher promises a change within 2 seconds; every wait here is bounded by that. The
/// poller is driven from the test's own thread, as often as the watcher polls, so that tests
/// blocking the shared executor's threads at the same time cannot delay it.
@Suite("Blocklist file watcher: rewrites, renames, ConfigMap symlink swaps, bad files", .serialized)
struct BlocklistFileWatcherTests {
  private static let promise: Duration = .seconds(2)

  private func entries(_ texts: [String]) throws -> [BlockEntry] {
    try texts.map { try BlockEntry(parsing: $0) }
  }

  /// A file holding `text` in a new directory, polled; the first poll gave `first`.
  private func watching(
    _ text: String, first: [String], interval: Duration = .milliseconds(500), missingGrace: Duration = .seconds(1)
  ) throws -> (path: String, watch: Polling) {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/blocklist.yaml"
    try Files.writeInPlace(path, text)
    var watch = Polling(path: path, interval: interval, missingGrace: missingGrace, keeping: directory)
    #expect(try watch.next(within: Self.promise)?.get().entries == (try entries(first)))
    return (path, watch)
  }

  private static func failure(_ result: BlocklistFileWatcher.Element) -> BlocklistFileError? {
    guard case .failure(let error) = result else { return nil }
    return error
  }

  @Test("The first poll reads the file as it is; a rewrite in place is seen within 2 s")
  func rewriteInPlace() throws {
    var (path, watch) = try watching("block: [192.0.2.1]\n", first: ["192.0.2.1"])
    try Files.writeInPlace(path, "block: [192.0.2.1, 198.51.100.0/24]\nmode: generic\n")
    let update = try watch.next(within: Self.promise)?.get()
    #expect(update == BlocklistFile(entries: try entries(["192.0.2.1", "198.51.100.0/24"]), mode: .generic))
  }

  @Test("A file that others can write is refused naming the check; the owner's write-and-rename is read")
  func untrustedThenRenamed() throws {
    var (path, watch) = try watching("block: [192.0.2.1]\n", first: ["192.0.2.1"])
    #expect(chmod(path, 0o666) == 0)
    #expect(watch.next(within: Self.promise).flatMap(Self.failure)
      == .untrusted(path: path, reason: "a file that group or others can write (mode 0666)"))
    try Files.writeInPlace(path + ".tmp", "block: [192.0.2.7]\n")
    #expect(chmod(path + ".tmp", 0o644) == 0)
    #expect(rename(path + ".tmp", path) == 0)
    #expect(try watch.next(within: Self.promise)?.get().entries == (try entries(["192.0.2.7"])))
  }

  @Test("An editor's write-and-rename is seen within 2 s")
  func atomicRename() throws {
    var (path, watch) = try watching("block: [192.0.2.1]\n", first: ["192.0.2.1"])
    try Files.writeInPlace(path + ".tmp", "block: [\"2001:db8::/64\"]\n")
    #expect(rename(path + ".tmp", path) == 0)
    #expect(try watch.next(within: Self.promise)?.get().entries == (try entries(["2001:db8::/64"])))
  }

  @Test("A Kubernetes ConfigMap update (the ..data symlink swapped) is seen within 2 s")
  func configMapSymlinkSwap() throws {
    let directory = try TemporaryDirectory()
    let mount = ConfigMapMount(directory.path)
    try mount.publish(version: "..2026_12_03_10_00_00.1", "block:\n  - 192.0.2.1\n")
    var watch = Polling(path: mount.path, keeping: directory)
    #expect(try watch.next(within: Self.promise)?.get().entries == (try entries(["192.0.2.1"])))
    try mount.publish(version: "..2026_12_03_10_01_00.2", "block:\n  - 192.0.2.1\n  - 203.0.113.0/24\n")
    #expect(try watch.next(within: Self.promise)?.get().entries == (try entries(["192.0.2.1", "203.0.113.0/24"])))
    // The old version's directory is gone: the path still leads to the new one.
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/..2026_12_03_10_00_00.1"))
  }

  @Test("A malformed rewrite yields the error with its line; the fix yields the good file")
  func malformedThenFixed() throws {
    var (path, watch) = try watching("block:\n  - 192.0.2.1\n", first: ["192.0.2.1"])
    try Files.writeInPlace(path, "block:\n  - 192.0.2.1\n  - 192.0.2.256\n")
    let bad = watch.next(within: Self.promise)
    #expect(bad.flatMap(Self.failure) == .invalidEntry(
      source: path, line: 3, text: "192.0.2.256", reason: .address(.invalidIPv4Address("192.0.2.256"))))
    try Files.writeInPlace(path, "block:\n  - 192.0.2.1\n  - 192.0.2.250\n")
    #expect(try watch.next(within: Self.promise)?.get().entries == (try entries(["192.0.2.1", "192.0.2.250"])))
  }

  @Test("A change that leaves the bytes as they were yields nothing")
  func sameBytes() throws {
    var (path, watch) = try watching("block: [192.0.2.1]\n", first: ["192.0.2.1"], interval: .milliseconds(100))
    try Files.writeInPlace(path + ".tmp", "block: [192.0.2.1]\n")
    #expect(rename(path + ".tmp", path) == 0)
    // Ten polls see the new inode and read it: nothing to yield.
    #expect(watch.next(within: .seconds(1)) == nil)
  }

  @Test("A file missing for less than the grace period yields nothing; longer yields the error, then the file")
  func vanishing() throws {
    var (path, watch) = try watching(
      "block: [192.0.2.1]\n", first: ["192.0.2.1"], interval: .milliseconds(100), missingGrace: .seconds(1))
    // An editor's unlink, then its write a moment later.
    #expect(unlink(path) == 0)
    #expect(watch.next(within: .milliseconds(250)) == nil)
    try Files.writeInPlace(path, "block: [192.0.2.2]\n")
    #expect(try watch.next(within: Self.promise)?.get().entries == (try entries(["192.0.2.2"])))
    // Gone for good: reported once the grace period is over, and only then.
    #expect(unlink(path) == 0)
    let clock = ContinuousClock()
    let start = clock.now
    let gone = watch.next(within: Self.promise)
    #expect(clock.now - start >= .seconds(1))
    #expect(gone.flatMap(Self.failure) == .unreadable(.noSuchFile(path: path)))
    try Files.writeInPlace(path, "block: [192.0.2.3]\n")
    #expect(try watch.next(within: Self.promise)?.get().entries == (try entries(["192.0.2.3"])))
  }

  @Test("A missing file at the start is reported at once")
  func missingAtStart() throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/absent.yaml"
    var watch = Polling(path: path, keeping: directory)
    let first = watch.next(within: Self.promise)
    #expect(first.flatMap(Self.failure) == .unreadable(.noSuchFile(path: path)))
    try Files.writeInPlace(path, "block: [198.51.100.1]\n")
    #expect(try watch.next(within: Self.promise)?.get().entries == (try entries(["198.51.100.1"])))
  }

  @Test("The async sequence yields the file, then its rewrite", .timeLimit(.minutes(5)))
  func asyncSequence() async throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/blocklist.yaml"
    try Files.writeInPlace(path, "block: [192.0.2.1]\n")
    var iterator = BlocklistFileWatcher(path: path, interval: .milliseconds(100)).makeAsyncIterator()
    #expect(try await iterator.next()?.get().entries == (try entries(["192.0.2.1"])))
    try Files.writeInPlace(path, "block: [192.0.2.9]\n")
    #expect(try await iterator.next()?.get().entries == (try entries(["192.0.2.9"])))
    withExtendedLifetime(directory) {}
  }

  @Test("Cancelling the task ends the iteration", .timeLimit(.minutes(5)))
  func cancellation() async throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/blocklist.yaml"
    try Files.writeInPlace(path, "block: []\n")
    let watcher = BlocklistFileWatcher(path: path, interval: .seconds(30))
    let task = Task { () -> Int in
      var count = 0
      for await _ in watcher { count += 1 }
      return count
    }
    try await Task.sleep(for: .milliseconds(200))
    task.cancel()
    // The 30-second sleep between polls is cut short: the loop ends after the first element.
    #expect(await task.value == 1)
    withExtendedLifetime(directory) {}
  }
}

/// A ``BlocklistFileWatcher/Poller`` called every `interval` from the calling thread, which
/// sleeps in between, as the watcher's iterator does on its task.
private struct Polling {
  private var poller: BlocklistFileWatcher.Poller
  private let interval: Duration
  /// The directory the watched file is in, removed when the polling goes.
  private let directory: TemporaryDirectory?

  init(
    path: String, interval: Duration = .milliseconds(500), missingGrace: Duration = .seconds(1),
    keeping directory: TemporaryDirectory? = nil
  ) {
    poller = BlocklistFileWatcher.Poller(path: path, missingGrace: missingGrace)
    self.interval = interval
    self.directory = directory
  }

  /// The next element, polling every interval until `limit` has passed; `nil` when none came.
  mutating func next(within limit: Duration) -> BlocklistFileWatcher.Element? {
    if !poller.hasPolled { return poller.poll() }
    let clock = ContinuousClock()
    let deadline = clock.now + limit
    while clock.now < deadline {
      let pause = min(interval, deadline - clock.now)
      let (seconds, attoseconds) = pause.components
      usleep(useconds_t(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
      if let update = poller.poll() { return update }
    }
    return nil
  }
}

/// A ConfigMap volume as the kubelet lays it out: `NAME -> ..data/NAME`, `..data -> ..TIMESTAMP`,
/// and an update that writes a new `..TIMESTAMP` directory, swaps `..data` by renaming a new
/// symbolic link over it, and removes the old directory.
private struct ConfigMapMount {
  let directory: String
  var path: String { directory + "/blocklist.yaml" }

  init(_ directory: String) {
    self.directory = directory
  }

  func publish(version: String, _ text: String) throws {
    let manager = FileManager.default
    let old = try? manager.destinationOfSymbolicLink(atPath: directory + "/..data")
    try manager.createDirectory(atPath: directory + "/" + version, withIntermediateDirectories: false)
    try Files.writeInPlace(directory + "/" + version + "/blocklist.yaml", text)
    try manager.createSymbolicLink(atPath: directory + "/..data_tmp", withDestinationPath: version)
    #expect(rename(directory + "/..data_tmp", directory + "/..data") == 0)
    if !manager.fileExists(atPath: path) {
      try manager.createSymbolicLink(atPath: path, withDestinationPath: "..data/blocklist.yaml")
    }
    if let old { try manager.removeItem(atPath: directory + "/" + old) }
  }
}

enum Files {
  /// Writes `text` into the file at `path` through open(2) with O_TRUNC: the same inode.
  static func writeInPlace(_ path: String, _ text: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard written == bytes.count else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
  }
}
