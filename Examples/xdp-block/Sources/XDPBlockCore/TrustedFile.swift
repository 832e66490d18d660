import Glibc
import SystemPackage
import XDPKit

/// Reads a file that root trusts with its firewall (`run --config`): the project's rule that
/// no path is trusted that xdp-block did not create or check.
///
/// The path is walked from `/` one component at a time, without following a symbolic link
/// implicitly:
/// - every directory must be owned by root or the effective user and not be writable by group
///   or others, unless it has the sticky bit (as /tmp does): nobody else can put another file
///   in the file's place;
/// - a symbolic link is followed only when root or the effective user owns it (a Kubernetes
///   ConfigMap mount is a chain of such links); its target is walked by the same rules;
/// - the file is opened with O_NOFOLLOW and checked on the open descriptor (fstat): a regular
///   file, owned by root or the effective user, not writable by group or others.
///
/// A legitimate edit (the owner's rewrite, or an editor's write-and-rename) passes; a swap by
/// another user cannot happen without failing a check.
enum TrustedFile {
  /// The most symbolic links followed in one path (as the kernel's MAXSYMLINKS).
  static let maximumLinks = 40
  /// O_PATH (Linux's 010000000, which Glibc's Swift module does not export): a directory
  /// descriptor to walk from, which needs no read permission.
  private static let openPath: Int32 = 0o10_000_000

  /// The contents of the file at `path`, checked as the type describes. Throws
  /// ``BlocklistFileError/untrusted(path:reason:)`` naming the path that failed and the check,
  /// and ``BlocklistFileError/unreadable(_:)`` when a call fails.
  static func read(path: String) throws(BlocklistFileError) -> [UInt8] {
    // A missing file or a directory is named as the caller gave it; a failed check names the
    // component that failed.
    do { return try walk(path) } catch {
      switch error {
      case .unreadable(.noSuchFile): throw .unreadable(.noSuchFile(path: path))
      case .unreadable(.isDirectory): throw .unreadable(.isDirectory(path: path))
      default: throw error
      }
    }
  }

  private static func walk(_ path: String) throws(BlocklistFileError) -> [UInt8] {
    var pending = components(of: path)
    if !path.hasPrefix("/") {
      guard let cwd = getcwd(nil, 0) else { throw .unreadable(.syscall(path: path, call: "getcwd", Errno.current)) }
      pending = components(of: String(cString: cwd)) + pending
      free(cwd)
    }
    // The directories walked so far, "/" first: (descriptor, path).
    var walked: [(fd: Int32, path: String)] = []
    defer { for directory in walked { close(directory.fd) } }
    walked.append((try openDirectory(at: AT_FDCWD, "/", shown: "/"), "/"))
    var links = 0
    while !pending.isEmpty {
      let name = pending.removeFirst()
      let (parent, parentPath) = walked[walked.count - 1]
      if name == "." { continue }
      if name == ".." {
        if walked.count > 1 { close(walked.removeLast().fd) }
        continue
      }
      let shown = parentPath == "/" ? "/" + name : parentPath + "/" + name
      var info = stat()
      guard fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
        let code = Errno.current
        if code == .noSuchFileOrDirectory || code == .notDirectory { throw .unreadable(.noSuchFile(path: shown)) }
        throw .unreadable(.syscall(path: shown, call: "fstatat", code))
      }
      if info.st_mode & S_IFMT == S_IFLNK {
        try requireOwner(info, shown, what: "a symbolic link")
        links += 1
        guard links <= maximumLinks else { throw .untrusted(path: shown, reason: "more than \(maximumLinks) symbolic links") }
        let target = try readLink(parent, name, shown: shown)
        if target.hasPrefix("/") {
          for directory in walked.dropFirst() { close(directory.fd) }
          walked.removeSubrange(1...)
        }
        pending = components(of: target) + pending
      } else if pending.isEmpty {
        return try readRegular(parent, name, shown: shown)
      } else {
        walked.append((try openDirectory(at: parent, name, shown: shown), shown))
      }
    }
    throw .unreadable(.isDirectory(path: path))
  }

  private static func components(of path: String) -> [String] {
    path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
  }

  /// Opens directory `name` in `parent` without following a link and checks it.
  private static func openDirectory(at parent: Int32, _ name: String, shown: String) throws(BlocklistFileError) -> Int32 {
    let fd = openat(parent, name, openPath | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else { throw .unreadable(.syscall(path: shown, call: "open", Errno.current)) }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      let code = Errno.current
      close(fd)
      throw .unreadable(.syscall(path: shown, call: "fstat", code))
    }
    do throws(BlocklistFileError) {
      try requireOwner(info, shown, what: "a directory")
      if info.st_mode & 0o022 != 0 && info.st_mode & S_ISVTX == 0 {
        throw .untrusted(path: shown, reason: "a directory that group or others can write (mode \(octal(info.st_mode))) and "
          + "without the sticky bit: another user could put another file in the blocklist's place")
      }
    } catch {
      close(fd)
      throw error
    }
    return fd
  }

  /// Opens `name` in `parent` with O_NOFOLLOW, checks the descriptor and reads it.
  private static func readRegular(_ parent: Int32, _ name: String, shown: String) throws(BlocklistFileError) -> [UInt8] {
    let fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else { throw .unreadable(.syscall(path: shown, call: "open", Errno.current)) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw .unreadable(.syscall(path: shown, call: "fstat", Errno.current)) }
    if info.st_mode & S_IFMT == S_IFDIR { throw .unreadable(.isDirectory(path: shown)) }
    guard info.st_mode & S_IFMT == S_IFREG else { throw .untrusted(path: shown, reason: "not a regular file") }
    try requireOwner(info, shown, what: "a file")
    if info.st_mode & 0o022 != 0 {
      throw .untrusted(path: shown, reason: "a file that group or others can write (mode \(octal(info.st_mode)))")
    }
    do { return try FileContents.readToEnd(fd, path: shown, sizeHint: Int(info.st_size)) } catch { throw .unreadable(error) }
  }

  private static func requireOwner(_ info: stat, _ shown: String, what: String) throws(BlocklistFileError) {
    let euid = geteuid()
    guard info.st_uid == 0 || info.st_uid == euid else {
      let owners = euid == 0 ? "root" : "root or uid \(euid)"
      throw .untrusted(path: shown, reason: "\(what) owned by uid \(info.st_uid), not by \(owners)")
    }
  }

  private static func readLink(_ parent: Int32, _ name: String, shown: String) throws(BlocklistFileError) -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let count = readlinkat(parent, name, &buffer, buffer.count - 1)
    guard count >= 0 else { throw .unreadable(.syscall(path: shown, call: "readlink", Errno.current)) }
    return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  private static func octal(_ mode: mode_t) -> String {
    let digits = String(mode & 0o7777, radix: 8)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
  }
}
