import Glibc
import XDPKitObject

/// Facts about the running kernel that `__kconfig` and `__ksym` externs need.
extension SystemInfo {
  /// `LINUX_KERNEL_VERSION` as `KERNEL_VERSION(major, minor, patch)` (`major << 16 | minor << 8
  /// | patch`, the patch clamped to 255 as the kernel's own macro does since 4.9.256/4.14.218).
  ///
  /// Distribution kernels hide the real version: Ubuntu's release says 5.15.0 for 5.15.131
  /// (its `/proc/version_signature` ends with the real one), Debian's says 6.1.0 for 6.1.158
  /// (its `uname -v` contains "Debian 6.1.158-1"). Both are read where present, as the kernel's
  /// own `LINUX_VERSION_CODE` is what programs compare against.
  public static func kernelVersionCode() -> UInt32 {
    var names = utsname()
    let version = uname(&names) == 0 ? withUnsafeBytes(of: names.version) { BPF.decodeCString($0) } : ""
    let signature = (try? FileContents.read(path: "/proc/version_signature", requireRegularFile: false))
      .map { String(decoding: $0, as: UTF8.self) }
    return kernelVersionCode(release: kernelRelease(), version: version, ubuntuSignature: signature) ?? 0
  }

  /// The version code from uname's release and version strings and Ubuntu's
  /// `/proc/version_signature`; `nil` when none of them starts with a version.
  public static func kernelVersionCode(release: String, version: String, ubuntuSignature: String?) -> UInt32? {
    var found: KernelVersion? = nil
    if let signature = ubuntuSignature, let last = signature.split(whereSeparator: { $0 == " " || $0 == "\n" }).last {
      found = KernelVersion(release: String(last))
    }
    if found == nil, let rest = text(after: "Debian ", in: version) {
      found = KernelVersion(release: rest)
    }
    if found == nil { found = KernelVersion(release: release) }
    guard let v = found, (0...255).contains(v.major), (0...255).contains(v.minor), v.patch >= 0 else { return nil }
    return UInt32(v.major) << 16 | UInt32(v.minor) << 8 | UInt32(min(v.patch, 255))
  }

  /// What follows the first `marker` in `text`.
  static func text(after marker: String, in text: String) -> String? {
    let haystack = Array(text.utf8), needle = Array(marker.utf8)
    guard needle.count <= haystack.count else { return nil }
    for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
      return String(decoding: haystack[(start + needle.count)...], as: UTF8.self)
    }
    return nil
  }

  /// The addresses of the kernel symbols in `names` that `/proc/kallsyms` lists (the first
  /// listing of each). Addresses read as 0 when the caller may not see them
  /// (`kernel.kptr_restrict`); such symbols are left out.
  public static func kernelSymbolAddresses(named names: Set<String>, path: String = "/proc/kallsyms")
    throws(FileReadError) -> [String: UInt64]
  {
    guard !names.isEmpty else { return [:] }
    let bytes = try FileContents.read(path: path, requireRegularFile: false)
    var result: [String: UInt64] = [:]
    // "ffffffff814f1d10 T __x64_sys_bpf" or "… t name\t[module]".
    for line in bytes.split(separator: UInt8(ascii: "\n")) {
      let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 2)
      guard fields.count == 3 else { continue }
      let nameField = fields[2].split(separator: UInt8(ascii: "\t"), maxSplits: 1).first ?? fields[2]
      let name = String(decoding: nameField, as: UTF8.self)
      guard names.contains(name), result[name] == nil,
            let address = UInt64(String(decoding: fields[0], as: UTF8.self), radix: 16), address != 0
      else { continue }
      result[name] = address
    }
    return result
  }

  /// The syscall wrapper prefix of this architecture's kernels (`__x64_` on x86_64), with which
  /// `LINUX_HAS_SYSCALL_WRAPPER` is decided; `nil` where no wrapper is known.
  public static func syscallWrapperPrefix(machine: String) -> String? {
    switch machine {
    case "x86_64": "__x64_"
    case "i386", "i686": "__ia32_"
    case "aarch64": "__arm64_"
    case "s390x": "__s390x_"
    case "riscv64": "__riscv_"
    case "ppc64", "ppc64le": "sys_"
    default: nil
    }
  }

  /// The running machine's architecture name (uname(2) `machine`).
  public static func machine() -> String {
    var names = utsname()
    guard uname(&names) == 0 else { return "" }
    return withUnsafeBytes(of: names.machine) { BPF.decodeCString($0) }
  }

  /// The running kernel's configuration: from `path` if given (plain or gzip'd), else
  /// `/proc/config.gz`, else `/boot/config-RELEASE`. Returns the text, or the reason none
  /// could be read.
  public static func kernelConfigurationText(path: String? = nil) -> Result<String, KernelConfigReadError> {
    let candidates = path.map { [$0] } ?? ["/proc/config.gz", "/boot/config-\(kernelRelease())"]
    var reasons: [String] = []
    for candidate in candidates {
      do {
        var bytes = try FileContents.read(path: candidate, requireRegularFile: false)
        if bytes.starts(with: [0x1f, 0x8b]) {
          do { bytes = try Gzip.decompress(bytes) } catch {
            return .failure(KernelConfigReadError(reason: "\(candidate): \(error)"))
          }
        }
        return .success(String(decoding: bytes, as: UTF8.self))
      } catch {
        reasons.append(error.description)
      }
    }
    return .failure(KernelConfigReadError(reason: reasons.joined(separator: "; ")))
  }
}

/// Why no kernel configuration could be read.
public struct KernelConfigReadError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What was tried and why each failed.
  public var reason: String
  /// Creates the error with what was tried and why it failed.
  public init(reason: String) { self.reason = reason }
  public var description: String { reason }
}
