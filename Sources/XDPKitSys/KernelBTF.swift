import Glibc
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
/// Each path is read and parsed once per process: ``load(path:)-(String)`` caches the result, and
/// concurrent callers wait for the one parse instead of repeating it. Nothing is read until a
/// caller asks, so objects without CO-RE relocations never pay for it.
public final class KernelBTF: Sendable {
  /// Where the running kernel exposes its BTF (Linux 5.4+, `CONFIG_DEBUG_INFO_BTF`).
  public static let vmlinuxPath = "/sys/kernel/btf/vmlinux"

  /// The file it was read from.
  public let path: String
  /// For a module's split BTF, the module's name; `nil` for vmlinux or a custom file.
  public let module: String?
  /// The types, indexed for CO-RE candidate lookup.
  public let target: CORETarget
  /// The parsed BTF.
  public var btf: BTF { target.btf }

  private static let cache = Mutex<[String: KernelBTF]>([:])

  /// For a module, the number of types (void included) of the base it was split from.
  let baseTypeCount: Int

  private init(path: String, module: String? = nil, target: CORETarget, baseTypeCount: Int = 0) {
    self.path = path
    self.module = module
    self.target = target
    self.baseTypeCount = baseTypeCount
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

  /// Parsed module BTF by file path, with the file size it was parsed at.
  private static let moduleCache = Mutex<[String: (size: Int, btf: KernelBTF)]>([:])

  /// The split BTF of every loaded module in `directory` (every file but `vmlinux`), parsed on
  /// top of `base`, in name order. Each module's CO-RE index holds only the module's own types.
  ///
  /// The directory is listed on every call, so a module loaded since the last call is found;
  /// a module's BTF is parsed once and reused while its file keeps its size.
  /// - Throws: ``KernelBTFError``; a missing directory is no modules, not an error.
  public static func modules(base: KernelBTF, directory: String = "/sys/kernel/btf")
    throws(KernelBTFError) -> [KernelBTF]
  {
    var modules: [KernelBTF] = []
    for name in directoryEntries(directory) where name != "vmlinux" {
      let path = directory + "/" + name
      let size = fileSize(path)
      if let cached = moduleCache.withLock({ $0[path] }), cached.size == size,
         cached.btf.baseTypeCount == base.btf.types.count {
        modules.append(cached.btf)
        continue
      }
      let parsed = try parseModule(path: path, name: name, base: base)
      moduleCache.withLock { $0[path] = (size, parsed) }
      modules.append(parsed)
    }
    return modules
  }

  /// The size `stat` reports for `path` (sysfs reports a BTF file's real size), -1 if none.
  private static func fileSize(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : -1
  }

  private static func parseModule(path: String, name: String, base: KernelBTF)
    throws(KernelBTFError) -> KernelBTF
  {
    let bytes: [UInt8]
    do { bytes = try FileContents.read(path: path) } catch { throw .read(error) }
    do {
      let btf = try BTF(splitBytes: bytes, base: base.btf)
      return KernelBTF(
        path: path, module: name, target: CORETarget(btf: btf, indexingFrom: base.btf.types.count),
        baseTypeCount: base.btf.types.count)
    } catch {
      throw .parse(path: path, error)
    }
  }

  /// The names in `directory` except `.` and `..`, sorted; none if it cannot be opened.
  static func directoryEntries(_ directory: String) -> [String] {
    guard let handle = opendir(directory) else { return [] }
    defer { closedir(handle) }
    var names: [String] = []
    while let entry = readdir(handle) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
  }

  /// The id of the first type called `name` of kind `kind` that this BTF adds: for a module,
  /// its own types only (not the base's).
  public func typeID(named name: String, kind: BTFKind) -> BTFTypeID? {
    let types = btf.types
    guard baseTypeCount < types.count else { return nil }
    let start = max(baseTypeCount, 1)
    return types[start...].firstIndex { $0.kind == kind && $0.name == name }.map { BTFTypeID($0) }
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
