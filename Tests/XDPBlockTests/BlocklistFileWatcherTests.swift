import Foundation
import Glibc
import Testing
import XDPBlockCore
import XDPKit

/// The watcher promises a change within 2 seconds; every wait here is bounded by that.
@Suite("Blocklist file watcher: rewrites, renames, ConfigMap symlink swaps, bad files")
struct BlocklistFileWatcherTests {
  private static let promise: Duration = .seconds(2)

  private func entries(_ texts: [String]) throws -> [BlockEntry] {
    try texts.map { try BlockEntry(parsing: $0) }
  }

  /// A file holding `text` in a new directory, watched; the watch's first element was `first`.
  private func watching(
    _ text: String, first: [String], interval: Duration = .milliseconds(500), missingGrace: Duration = .seconds(1)
  ) async throws -> (path: String, watch: Watch) {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/blocklist.yaml"
    try Files.writeInPlace(path, text)
    var watch = Watch(BlocklistFileWatcher(path: path, interval: interval, missingGrace: missingGrace), keeping: directory)
    #expect(try await watch.next(within: Self.promise)?.get().entries == (try entries(first)))
    return (path, watch)
  }

  @Test("The first element is the file as it is; a rewrite in place is seen within 2 s")
  func rewriteInPlace() async throws {
    var (path, watch) = try await watching("block: [192.0.2.1]\n", first: ["192.0.2.1"])
    try Files.writeInPlace(path, "block: [192.0.2.1, 198.51.100.0/24]\nmode: generic\n")
    let update = try await watch.next(within: Self.promise)?.get()
    #expect(update == BlocklistFile(entries: try entries(["192.0.2.1", "198.51.100.0/24"]), mode: .generic))
  }

  @Test("An editor's write-and-rename is seen within 2 s")
  func atomicRename() async throws {
    var (path, watch) = try await watching("block: [192.0.2.1]\n", first: ["192.0.2.1"])
    try Files.writeInPlace(path + ".tmp", "block: [\"2001:db8::/64\"]\n")
    #expect(rename(path + ".tmp", path) == 0)
    #expect(try await watch.next(within: Self.promise)?.get().entries == (try entries(["2001:db8::/64"])))
  }

  @Test("A Kubernetes ConfigMap update (the ..data symlink swapped) is seen within 2 s")
  func configMapSymlinkSwap() async throws {
    let directory = try TemporaryDirectory()
    let mount = ConfigMapMount(directory.path)
    try mount.publish(version: "..2026_12_03_10_00_00.1", "block:\n  - 192.0.2.1\n")
    var watch = Watch(BlocklistFileWatcher(path: mount.path), keeping: directory)
    #expect(try await watch.next(within: Self.promise)?.get().entries == (try entries(["192.0.2.1"])))
    try mount.publish(version: "..2026_12_03_10_01_00.2", "block:\n  - 192.0.2.1\n  - 203.0.113.0/24\n")
    #expect(try await watch.next(within: Self.promise)?.get().entries == (try entries(["192.0.2.1", "203.0.113.0/24"])))
    // The old version's directory is gone: the path still leads to the new one.
    #expect(!FileManager.default.fileExists(atPath: directory.path + "/..2026_12_03_10_00_00.1"))
  }

  @Test("A malformed rewrite yields the error with its line; the fix yields the good file")
  func malformedThenFixed() async throws {
    var (path, watch) = try await watching("block:\n  - 192.0.2.1\n", first: ["192.0.2.1"])
    try Files.writeInPlace(path, "block:\n  - 192.0.2.1\n  - 192.0.2.256\n")
    let bad = await watch.next(within: Self.promise)
    #expect(bad.flatMap(Self.failure) == .invalidEntry(
      source: path, line: 3, text: "192.0.2.256", reason: .invalidIPv4Address("192.0.2.256")))
    try Files.writeInPlace(path, "block:\n  - 192.0.2.1\n  - 192.0.2.250\n")
    #expect(try await watch.next(within: Self.promise)?.get().entries == (try entries(["192.0.2.1", "192.0.2.250"])))
  }

  @Test("A change that leaves the bytes as they were yields nothing")
  func sameBytes() async throws {
    var (path, watch) = try await watching("block: [192.0.2.1]\n", first: ["192.0.2.1"], interval: .milliseconds(100))
    try Files.writeInPlace(path + ".tmp", "block: [192.0.2.1]\n")
    #expect(rename(path + ".tmp", path) == 0)
    // Ten polls see the new inode and read it: nothing to yield.
    #expect(await watch.next(within: .seconds(1)) == nil)
    #expect(watch.finished == false)
  }

  @Test("A file missing for less than the grace period yields nothing; longer yields the error, then the file")
  func vanishing() async throws {
    var (path, watch) = try await watching("block: [192.0.2.1]\n", first: ["192.0.2.1"], interval: .milliseconds(100), missingGrace: .seconds(1))
    // An editor's unlink, then its write a moment later.
    #expect(unlink(path) == 0)
    try await Task.sleep(for: .milliseconds(250))
    try Files.writeInPlace(path, "block: [192.0.2.2]\n")
    #expect(try await watch.next(within: Self.promise)?.get().entries == (try entries(["192.0.2.2"])))
    // Gone for good: reported once the grace period is over.
    #expect(unlink(path) == 0)
    let gone = await watch.next(within: Self.promise)
    #expect(gone.flatMap(Self.failure) == .unreadable(.noSuchFile(path: path)))
    try Files.writeInPlace(path, "block: [192.0.2.3]\n")
    #expect(try await watch.next(within: Self.promise)?.get().entries == (try entries(["192.0.2.3"])))
  }

  @Test("A missing file at the start is reported at once")
  func missingAtStart() async throws {
    let directory = try TemporaryDirectory()
    let path = directory.path + "/absent.yaml"
    var watch = Watch(BlocklistFileWatcher(path: path), keeping: directory)
    let first = await watch.next(within: Self.promise)
    #expect(first.flatMap(Self.failure) == .unreadable(.noSuchFile(path: path)))
    try Files.writeInPlace(path, "block: [198.51.100.1]\n")
    #expect(try await watch.next(within: Self.promise)?.get().entries == (try entries(["198.51.100.1"])))
  }

  @Test("Cancelling the task ends the iteration")
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
  }

  private static func failure(_ result: BlocklistFileWatcher.Element) -> BlocklistFileError? {
    guard case .failure(let error) = result else { return nil }
    return error
  }
}

/// A watcher's iterator, advanced with a bound on the wait.
private struct Watch {
  private var iterator: BlocklistFileWatcher.Iterator?
  /// The directory the watched file is in, removed when the watch goes.
  private let directory: TemporaryDirectory?
  /// Whether the iterator ended (returned `nil`).
  private(set) var finished = false

  init(_ watcher: BlocklistFileWatcher, keeping directory: TemporaryDirectory? = nil) {
    iterator = watcher.makeAsyncIterator()
    self.directory = directory
  }

  /// The next element, or `nil` when none came within `limit` (the iterator is then kept as it
  /// was before the wait, which re-reads nothing it has not yielded).
  mutating func next(within limit: Duration) async -> BlocklistFileWatcher.Element? {
    guard let start = iterator else { return nil }
    let outcome = await withTaskGroup(of: (BlocklistFileWatcher.Iterator, BlocklistFileWatcher.Element?)?.self) { group in
      group.addTask {
        var copy = start
        let element = await copy.next()
        return (copy, element)
      }
      group.addTask {
        try? await Task.sleep(for: limit)
        return nil
      }
      let first = await group.next() ?? nil
      group.cancelAll()
      return first
    }
    guard let (advanced, element) = outcome else { return nil }
    iterator = advanced
    if element == nil { finished = true }
    return element
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
