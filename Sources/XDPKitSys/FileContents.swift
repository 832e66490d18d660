import Glibc
import SystemPackage

/// Why a file could not be read whole, worded for a message that names the path:
/// "PATH: no such file", "PATH: is a directory", "PATH: not a regular file (character device)".
public enum FileReadError: Error, Sendable, Hashable, CustomStringConvertible {
  /// Nothing exists at the path (`ENOENT`, `ENOTDIR`).
  case noSuchFile(path: String)
  /// The path names a directory.
  case isDirectory(path: String)
  /// The path names something that is not a regular file (`kind`: "character device",
  /// "block device", "FIFO", "socket"), where a regular file is required.
  case notRegularFile(path: String, kind: String)
  /// open(2), fstat(2) or read(2) failed otherwise (`EACCES`, `EIO`, …).
  case syscall(path: String, call: String, Errno)
  /// The file holds more than `limit` bytes, the most the caller reads.
  case tooLarge(path: String, limit: Int)

  /// The path that could not be read.
  public var path: String {
    switch self {
    case .noSuchFile(let path), .isDirectory(let path), .notRegularFile(let path, _),
      .syscall(let path, _, _), .tooLarge(let path, _):
      return path
    }
  }

  /// Why, without the path: "no such file", "is a directory", …
  public var reason: String {
    switch self {
    case .noSuchFile: return "no such file"
    case .isDirectory: return "is a directory"
    case .notRegularFile(_, let kind): return "not a regular file (\(kind))"
    case .syscall(_, let call, let errno): return "\(call) failed: \(errno) (errno \(errno.rawValue))"
    case .tooLarge(_, let limit): return "larger than \(limit) bytes, the most that is read"
    }
  }

  /// "PATH: reason".
  public var description: String { "\(path): \(reason)" }
}

/// Reading a whole file into memory, with errors that say what is wrong with the path.
public enum FileContents {
  /// The bytes of the file at `path`. With `requireRegularFile` (the default), anything but
  /// a regular file is refused before it is read, so that a device such as /dev/zero is not
  /// read forever; without it, FIFOs and character devices such as a terminal are read to
  /// their end. A directory is always refused.
  ///
  /// The corresponding calls are open(2) with `O_RDONLY | O_CLOEXEC`, fstat(2) and read(2).
  public static func read(path: String, requireRegularFile: Bool = true) throws(FileReadError) -> [UInt8] {
    try read(path: path, requireRegularFile: requireRegularFile, limit: .max)
  }

  /// `read(path:requireRegularFile:)` of at most `limit` bytes: a larger file is
  /// ``FileReadError/tooLarge(path:limit:)``, found out without reading more than `limit` and
  /// 64 KiB.
  public static func read(path: String, requireRegularFile: Bool, limit: Int) throws(FileReadError) -> [UInt8] {
    // Where only a regular file will do, O_NONBLOCK: opening a FIFO must not wait for a
    // writer before fstat says what it is (a regular file ignores the flag). Where FIFOs are
    // welcome, the open waits for the writer, as reading one means to.
    let flags = O_RDONLY | O_CLOEXEC | (requireRegularFile ? O_NONBLOCK : 0)
    let fd = retryingInterrupts { Glibc.open(path, flags) }
    if fd < 0 {
      let code = Errno.current
      if code == .noSuchFileOrDirectory || code == .notDirectory { throw .noSuchFile(path: path) }
      if code == .isDirectory { throw .isDirectory(path: path) }
      throw .syscall(path: path, call: "open", code)
    }
    defer { _ = Glibc.close(fd) }
    var status = stat()
    if fstat(fd, &status) != 0 { throw .syscall(path: path, call: "fstat", .current) }
    let type = status.st_mode & S_IFMT
    if type == S_IFDIR { throw .isDirectory(path: path) }
    if requireRegularFile && type != S_IFREG {
      throw .notRegularFile(path: path, kind: kind(ofFileType: type))
    }
    return try readToEnd(fd, path: path, sizeHint: Int(status.st_size), limit: limit)
  }

  /// Everything readable from the open descriptor `fd` (for example 0, standard input) until
  /// end of file; `path` names it in errors.
  ///
  /// The corresponding call is read(2).
  public static func readToEnd(_ fd: Int32, path: String, sizeHint: Int = 0) throws(FileReadError) -> [UInt8] {
    try readToEnd(fd, path: path, sizeHint: sizeHint, limit: .max)
  }

  /// `readToEnd(_:path:sizeHint:)` of at most `limit` bytes: more (a `sizeHint` above it, or
  /// what the reads return) is ``FileReadError/tooLarge(path:limit:)``.
  public static func readToEnd(_ fd: Int32, path: String, sizeHint: Int = 0, limit: Int) throws(FileReadError) -> [UInt8] {
    if sizeHint > limit { throw .tooLarge(path: path, limit: limit) }
    // The size the file reports is read straight into the result (no copy through a chunk:
    // kernel BTF is megabytes); whatever follows it, or all of a file that reports no size, is
    // read in chunks until end of file.
    var failure: Errno? = nil
    var bytes = [UInt8](unsafeUninitializedCapacity: max(sizeHint, 0) + 1) { buffer, count in
      guard let base = buffer.baseAddress else { return }
      while count < buffer.count - 1 {
        let n = retryingInterrupts { Glibc.read(fd, base + count, buffer.count - 1 - count) }
        if n < 0 { failure = .current }
        if n <= 0 { return }
        count += n
      }
    }
    if let failure { throw readError(failure, path: path) }
    if bytes.count < max(sizeHint, 0) { return bytes }
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
      let count = chunk.withUnsafeMutableBytes { buffer in
        retryingInterrupts { Glibc.read(fd, buffer.baseAddress, buffer.count) }
      }
      if count < 0 { throw readError(.current, path: path) }
      if count == 0 { return bytes }
      bytes.append(contentsOf: chunk[0..<count])
      if bytes.count > limit { throw .tooLarge(path: path, limit: limit) }
    }
  }

  /// The error for read(2) failing with `code` on `path`.
  private static func readError(_ code: Errno, path: String) -> FileReadError {
    code == .isDirectory ? .isDirectory(path: path) : .syscall(path: path, call: "read", code)
  }

  /// The words for a file type of `st_mode`.
  static func kind(ofFileType type: mode_t) -> String {
    switch type {
    case S_IFCHR: return "character device"
    case S_IFBLK: return "block device"
    case S_IFIFO: return "FIFO"
    case S_IFSOCK: return "socket"
    case S_IFLNK: return "symbolic link"
    default: return "file type \(String(type, radix: 8))"
    }
  }

  private static func retryingInterrupts<T: BinaryInteger>(_ call: () -> T) -> T {
    while true {
      let result = call()
      if result >= 0 || Errno.current != .interrupted { return result }
    }
  }
}
