import Synchronization
import XDPKitObject

/// Why the kernel's BTF could not be read.
public enum KernelBTFError: Error, Sendable, CustomStringConvertible {
  /// The file could not be read (no `/sys/kernel/btf/vmlinux` on kernels built without
  /// `CONFIG_DEBUG_INFO_BTF`, or a custom path that does not exist).
  case read(FileReadError)
  /// The file is not valid BTF.
  case parse(path: String, BTFError)

  public var description: String {
    switch self {
    case .read(let e): return "read kernel BTF: \(e)"
    case .parse(let path, let e): return "parse kernel BTF \(path): \(e)"
    }
  }
}

/// The running kernel's BTF (or a BTF file standing in for it), parsed by the package's own
/// BTF reader and indexed for CO-RE.
///
/// Each path is read and parsed once per process: ``load(path:)`` caches the result, and
/// concurrent callers wait for the one parse instead of repeating it. Nothing is read until a
/// caller asks, so objects without CO-RE relocations never pay for it.
public final class KernelBTF: Sendable {
  /// Where the running kernel exposes its BTF (Linux 5.4+, `CONFIG_DEBUG_INFO_BTF`).
  public static let vmlinuxPath = "/sys/kernel/btf/vmlinux"

  /// The file it was read from.
  public let path: String
  /// The types, indexed for CO-RE candidate lookup.
  public let target: CORETarget
  /// The parsed BTF.
  public var btf: BTF { target.btf }

  private static let cache = Mutex<[String: KernelBTF]>([:])

  private init(path: String, target: CORETarget) {
    self.path = path
    self.target = target
  }

  /// The BTF at `path`, read and parsed on first use and cached for the process.
  /// - Throws: ``KernelBTFError``; a failure is not cached, the next call tries again.
  public static func load(path: String = vmlinuxPath) throws(KernelBTFError) -> KernelBTF {
    let result: Result<KernelBTF, KernelBTFError> = cache.withLock { known in
      if let cached = known[path] { return .success(cached) }
      let parsed = Result { () throws(KernelBTFError) -> KernelBTF in try parse(path: path) }
      if case .success(let kernel) = parsed { known[path] = kernel }
      return parsed
    }
    return try result.get()
  }

  /// Reads and parses `path` without the cache.
  public static func parse(path: String) throws(KernelBTFError) -> KernelBTF {
    let bytes: [UInt8]
    do { bytes = try FileContents.read(path: path) } catch { throw .read(error) }
    do {
      return KernelBTF(path: path, target: CORETarget(btf: try BTF(bytes: bytes)))
    } catch {
      throw .parse(path: path, error)
    }
  }
}
