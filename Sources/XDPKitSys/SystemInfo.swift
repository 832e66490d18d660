import CXDPKit
import Glibc
import Synchronization
import SystemPackage

/// A failure to read a fact about the running system.
public enum SystemInfoError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The file could not be opened or read.
  case unreadable(SyscallError)
  /// The CPU list (from `path`) is not of the form "0", "0-3" or "0-3,5-7".
  case malformedCPUList(path: String, content: String)

  public var description: String {
    switch self {
    case .unreadable(let error): "\(error)"
    case .malformedCPUList(let path, let content): "malformed CPU list in \(path): \"\(content)\""
    }
  }
}

/// A kernel version, from the release string uname(2) reports ("6.18.44-fc-v595" is 6.18.44).
public struct KernelVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
  public var major: Int
  public var minor: Int
  public var patch: Int

  public init(major: Int, minor: Int, patch: Int = 0) {
    self.major = major
    self.minor = minor
    self.patch = patch
  }

  /// Parses the leading "major.minor[.patch]" of a release string; `nil` if it has none.
  public init?(release: String) {
    var numbers: [Int] = []
    var current: Int? = nil
    for character in release {
      if let digit = character.wholeNumberValue, character.isASCII {
        let (product, overflow1) = (current ?? 0).multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = product.addingReportingOverflow(digit)
        if overflow1 || overflow2 { return nil }
        current = sum
      } else {
        guard let value = current else { break }
        numbers.append(value)
        current = nil
        if character != "." || numbers.count == 3 { break }
      }
    }
    if let value = current, numbers.count < 3 { numbers.append(value) }
    guard numbers.count >= 2 else { return nil }
    self.init(major: numbers[0], minor: numbers[1], patch: numbers.count > 2 ? numbers[2] : 0)
  }

  public static func < (lhs: Self, rhs: Self) -> Bool {
    (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
  }

  public var description: String { "\(major).\(minor).\(patch)" }
}

/// Facts about the running system that BPF users need: CPU count for per-CPU maps, the kernel
/// release, whether a path is in a bpf file system.
public enum SystemInfo {
  /// Where the kernel lists the CPUs that can ever be online.
  public static let possibleCPUsPath = "/sys/devices/system/cpu/possible"

  /// The number of possible CPUs: the largest index in ``possibleCPUsPath`` plus one. This is
  /// the number of slots in a per-CPU map value, which can exceed the CPUs online now.
  ///
  /// The value cannot change while the system runs, so it is read once and remembered.
  public static func possibleCPUCount() throws(SystemInfoError) -> Int {
    let cached = possibleCPUCache.load(ordering: .relaxed)
    if cached > 0 { return cached }
    let bytes: [UInt8]
    do {
      bytes = try readSmallFile(possibleCPUsPath)
    } catch {
      throw .unreadable(error)
    }
    let count = try cpuCount(fromList: String(decoding: bytes, as: UTF8.self), path: possibleCPUsPath)
    possibleCPUCache.store(count, ordering: .relaxed)
    return count
  }

  private static let possibleCPUCache = Atomic<Int>(0)

  /// The largest CPU index in a kernel CPU list ("0", "0-3", "0-3,5-7", with an optional
  /// trailing newline) plus one.
  public static func cpuCount(fromList text: String, path: String = possibleCPUsPath)
    throws(SystemInfoError) -> Int
  {
    let malformed = SystemInfoError.malformedCPUList(path: path, content: text)
    var trimmed = Substring(text)
    while let last = trimmed.last, last == "\n" || last == " " { trimmed.removeLast() }
    guard !trimmed.isEmpty else { throw malformed }
    var highest = -1
    for range in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
      let bounds = range.split(separator: "-", omittingEmptySubsequences: false)
      guard bounds.count == 1 || bounds.count == 2 else { throw malformed }
      var values: [Int] = []
      for bound in bounds {
        guard !bound.isEmpty, bound.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
          let value = Int(bound)
        else { throw malformed }
        values.append(value)
      }
      guard let low = values.first, let high = values.last, low <= high else { throw malformed }
      highest = max(highest, high)
    }
    guard highest < Int.max else { throw malformed }
    return highest + 1
  }

  /// The running kernel's release string, such as "6.18.44-fc-v595" (uname(2) `release`).
  public static func kernelRelease() -> String {
    var names = utsname()
    guard uname(&names) == 0 else { return "" }
    return withUnsafeBytes(of: names.release) { BPF.decodeCString($0) }
  }

  /// The running kernel's version, or `nil` if its release string does not start with one.
  public static func kernelVersion() -> KernelVersion? {
    KernelVersion(release: kernelRelease())
  }

  /// The magic number of the file system `path` lies in (statfs(2) `f_type`), such as
  /// BPF_FS_MAGIC or NSFS_MAGIC.
  public static func fileSystemMagic(path: String) throws(SyscallError) -> UInt32 {
    var info = statfs()
    if statfs(path, &info) != 0 {
      throw SyscallError(operation: .file(path), errno: .current)
    }
    return UInt32(truncatingIfNeeded: info.f_type)
  }

  /// Whether `path` lies in a bpf file system (statfs(2) reports BPF_FS_MAGIC), where objects
  /// can be pinned.
  public static func isBPFFS(path: String) throws(SyscallError) -> Bool {
    var info = statfs()
    if statfs(path, &info) != 0 {
      throw SyscallError(operation: .file(path), errno: .current)
    }
    return UInt32(truncatingIfNeeded: info.f_type) == UInt32(truncatingIfNeeded: BPF_FS_MAGIC)
  }

  /// Mounts a bpf file system at `path` (creating the directory, mode 0700, if needed) unless
  /// one is mounted there already, as `mount -t bpf -o mode=0700 bpf /sys/fs/bpf` would.
  /// Returns whether it mounted.
  ///
  /// The mount's root gets mode 0700 (`mode=0700`), as systemd mounts it: without it bpffs
  /// would be world-writable (1777) and other users could create names next to ours.
  ///
  /// The corresponding calls are statfs(2), mkdir(2) and mount(2).
  @discardableResult
  public static func mountBPFFSIfNeeded(at path: String = "/sys/fs/bpf") throws(SyscallError) -> Bool {
    if (try? isBPFFS(path: path)) == true { return false }
    if mkdir(path, 0o700) != 0, Errno.current != .fileExists {
      throw SyscallError(operation: .file(path), errno: .current)
    }
    if mount("bpf", path, "bpf", 0, "mode=0700") != 0 {
      throw SyscallError(operation: .file(path), errno: .current)
    }
    return true
  }

  /// Reads a small file (sysfs, procfs) completely.
  static func readSmallFile(_ path: String) throws(SyscallError) -> [UInt8] {
    let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { throw SyscallError(operation: .file(path), errno: .current) }
    defer { _ = Glibc.close(fd) }
    var contents: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if count < 0 {
        let code = Errno.current
        if code == .interrupted { continue }
        throw SyscallError(operation: .file(path), errno: code)
      }
      if count == 0 { return contents }
      contents.append(contentsOf: chunk[..<count])
    }
  }
}
