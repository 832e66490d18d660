import Glibc
import SystemPackage

// Changing a bpffs directory's entries (removing, renaming, symbolic links) and locking it:
// every call relative to the directory's descriptor, never following a link.

extension BPFFSDirectory {
  // MARK: Changes

  /// Removes the entry `name` (a pin, a symbolic link or an empty directory) without
  /// following it. Returns `false` if there was none.
  ///
  /// The corresponding call is unlinkat(2).
  @discardableResult
  public func remove(_ name: String) throws(BPFFSError) -> Bool {
    try Self.validate(name: name, in: path, allowDots: true)
    if unlinkat(fileDescriptor.rawValue, name, 0) == 0 { return true }
    var code = Errno.current
    if code == .isDirectory {
      if unlinkat(fileDescriptor.rawValue, name, AT_REMOVEDIR) == 0 { return true }
      code = Errno.current
    }
    if code == .noSuchFileOrDirectory { return false }
    throw failure(pathOf(name), code)
  }

  /// Removes `name` and, if it is a directory, everything in it, never following a symbolic
  /// link (a link is removed, not its target). Returns `false` if there was nothing.
  @discardableResult
  public func removeTree(_ name: String) throws(BPFFSError) -> Bool {
    try removeTree(name, depth: 0)
  }

  private func removeTree(_ name: String, depth: Int) throws(BPFFSError) -> Bool {
    guard entryType(name) == .directory else { return try remove(name) }
    guard depth < 16 else { throw .invalidPath(pathOf(name), reason: "nested too deeply to remove") }
    let fd = openat(fileDescriptor.rawValue, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    if fd < 0 { throw failure(pathOf(name), .current) }
    let child = BPFFSDirectory(path: pathOf(name), fileDescriptor: BPFFileDescriptor(adopting: fd))
    for entry in try child.entries() { _ = try child.removeTree(entry, depth: depth + 1) }
    return try remove(name)
  }

  /// Renames `name` to `newName` in `destination` (this directory by default), replacing a
  /// pin or symbolic link of that name in one step.
  ///
  /// The corresponding call is renameat(2).
  public func rename(_ name: String, to newName: String, in destination: BPFFSDirectory? = nil)
    throws(BPFFSError)
  {
    let target = destination ?? self
    try Self.validate(name: name, in: path, allowDots: true)
    try Self.validate(name: newName, in: target.path)
    if renameat(fileDescriptor.rawValue, name, target.fileDescriptor.rawValue, newName) != 0 {
      throw failure(target.pathOf(newName), .current)
    }
  }

  /// Creates the symbolic link `name` with the text `target`. XDPKit never follows such
  /// links; it reads them with ``readSymbolicLink(_:)`` (small records, pointers to a
  /// sibling directory).
  ///
  /// The corresponding call is symlinkat(2).
  public func makeSymbolicLink(_ name: String, target: String) throws(BPFFSError) {
    try Self.validate(name: name, in: path)
    if symlinkat(target, fileDescriptor.rawValue, name) != 0 {
      let code = Errno.current
      if code == .fileExists { throw .exists(path: pathOf(name)) }
      throw failure(pathOf(name), code)
    }
  }

  /// The text of the symbolic link `name`, or `nil` if there is no entry of that name.
  ///
  /// The corresponding call is readlinkat(2).
  public func readSymbolicLink(_ name: String) throws(BPFFSError) -> String? {
    try Self.validate(name: name, in: path, allowDots: true)
    var buffer = [UInt8](repeating: 0, count: 4096)
    let count = buffer.withUnsafeMutableBytes { bytes in
      readlinkat(fileDescriptor.rawValue, name, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count)
    }
    if count < 0 {
      let code = Errno.current
      if code == .noSuchFileOrDirectory { return nil }
      if code == .invalidArgument { throw .invalidPath(pathOf(name), reason: "not a symbolic link") }
      throw failure(pathOf(name), code)
    }
    return String(decoding: buffer[..<count], as: UTF8.self)
  }

  // MARK: Locking

  /// An exclusive flock(2) on a directory, held until this value is released.
  public final class Lock: Sendable {
    private let descriptor: BPFFileDescriptor
    init(_ descriptor: BPFFileDescriptor) { self.descriptor = descriptor }
    // Closing the descriptor's only open file description releases the lock.
  }

  /// Takes an exclusive lock on this directory, waiting up to `timeout` for another holder to
  /// release it. Only processes that lock the same directory are excluded.
  ///
  /// Throws ``BPFFSError/lockTimeout(path:)`` when the wait runs out.
  ///
  /// The corresponding call is flock(2) with LOCK_EX on a new open file description.
  public func lock(timeout: Duration) throws(BPFFSError) -> Lock {
    let fd = openat(fileDescriptor.rawValue, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd < 0 { throw failure(path, .current) }
    let owner = BPFFileDescriptor(adopting: fd)
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while flock(fd, LOCK_EX | LOCK_NB) != 0 {
      let code = Errno.current
      guard code == .wouldBlock || code == .interrupted else { throw failure(path, code) }
      if clock.now >= deadline { throw .lockTimeout(path: path) }
      usleep(10_000)
    }
    return Lock(owner)
  }
}
