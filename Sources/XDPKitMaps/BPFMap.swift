import Glibc
import Synchronization
import XDPKitObject
import XDPKitSys

/// One map in the kernel: its descriptor and the definition it was created with.
///
/// A `BPFMap` is immutable and `Sendable`: the typed views (``HashMap``, ``ArrayMap``,
/// ``PerCPUArray``, …) hold one and can be used from many tasks at once. The descriptor is
/// owned by ``fileDescriptor`` and closed when the last reference to it goes away.
public final class BPFMap: Sendable, CustomStringConvertible {
  /// The map's name as the kernel knows it (at most 15 bytes), or the name the loader gave it.
  public let name: String
  /// The map type (`map_type`).
  public let type: BPFMapType
  /// Size of a key in bytes (`key_size`).
  public let keySize: Int
  /// Size of a value in bytes (`value_size`); for per-CPU maps, of one CPU's value.
  public let valueSize: Int
  /// Capacity (`max_entries`).
  public let maxEntries: Int
  /// `map_flags` (the `BPF_F_*` flags of BPF_MAP_CREATE).
  public let flags: UInt32
  /// The descriptor, owned by this map (and any other holder of the same owner).
  public let fileDescriptor: BPFFileDescriptor
  /// The mmapped values of a BPF_F_MMAPABLE array, made on first use and unmapped with the map.
  let memory = Mutex<ArrayMapMemory?>(nil)

  /// Wraps `fileDescriptor` for a map whose definition the caller knows, typically the loader
  /// that has just created the map. No call is made; the definition is trusted.
  public init(
    fileDescriptor: BPFFileDescriptor, name: String, type: BPFMapType, keySize: Int,
    valueSize: Int, maxEntries: Int, flags: UInt32 = 0
  ) {
    self.fileDescriptor = fileDescriptor
    self.name = name
    self.type = type
    self.keySize = keySize
    self.valueSize = valueSize
    self.maxEntries = maxEntries
    self.flags = flags
  }

  /// Wraps `fileDescriptor`, reading the map's definition from the kernel.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_GET_INFO_BY_FD.
  public convenience init(fileDescriptor: BPFFileDescriptor) throws(MapError) {
    let info: MapInfo
    do {
      info = try BPF.mapInfo(fileDescriptor)
    } catch {
      throw .syscall(map: "\(fileDescriptor)", error)
    }
    self.init(fileDescriptor: fileDescriptor, info: info)
  }

  /// Wraps `fileDescriptor` with the definition in `info`.
  convenience init(fileDescriptor: BPFFileDescriptor, info: MapInfo) {
    self.init(
      fileDescriptor: fileDescriptor, name: info.name, type: info.type,
      keySize: Int(info.keySize), valueSize: Int(info.valueSize),
      maxEntries: Int(info.maxEntries), flags: info.flags.rawValue)
  }

  /// Opens the map pinned at `path` in a bpf file system and reads its definition.
  ///
  /// The path is reached through checked directories (no symbolic links, trusted owners;
  /// see `BPFFSDirectory`), and the pin must be owned by root or the effective user.
  /// Throws ``MapError/noPinnedObject(path:)`` if nothing is pinned there,
  /// ``MapError/notAMap(path:)`` if the pinned object is a program, link or BTF, and
  /// ``MapError/pinning(_:)`` when a directory or the pin fails a check.
  ///
  /// The corresponding bpf(2) commands are BPF_OBJ_GET and BPF_OBJ_GET_INFO_BY_FD.
  public static func open(
    pinnedAt path: String, access: BPFObjectAccess = .readWrite
  ) throws(MapError) -> BPFMap {
    let descriptor: BPFFileDescriptor
    do {
      descriptor = try BPF.openPinned(at: path, kind: .map, access: access)
    } catch {
      switch error {
      case .noSuchObject: throw .noPinnedObject(path: path)
      case .wrongKind: throw .notAMap(path: path)
      default: throw .pinning(error)
      }
    }
    return try map(descriptor, openedFrom: path)
  }

  /// Opens the map with kernel id `id` and reads its definition.
  ///
  /// Throws ``MapError/noMapWithID(_:)`` if there is no such map.
  ///
  /// The corresponding bpf(2) commands are BPF_MAP_GET_FD_BY_ID and BPF_OBJ_GET_INFO_BY_FD.
  public static func open(id: UInt32, access: BPFObjectAccess = .readWrite) throws(MapError)
    -> BPFMap
  {
    let descriptor: BPFFileDescriptor
    do {
      descriptor = try BPF.openMap(id: id, access: access)
    } catch where error.errno == .noSuchFileOrDirectory {
      throw .noMapWithID(id)
    } catch {
      throw .syscall(map: "id \(id)", error)
    }
    return try map(descriptor, openedFrom: "id \(id)")
  }

  /// Reads the definition of a map descriptor.
  private static func map(_ descriptor: BPFFileDescriptor, openedFrom origin: String)
    throws(MapError) -> BPFMap
  {
    do {
      let info = try BPF.mapInfo(descriptor)
      return BPFMap(fileDescriptor: descriptor, info: info)
    } catch {
      throw .syscall(map: origin, error)
    }
  }

  /// Pins the map at `path` in a bpf file system (mode 0600), so that it outlives this
  /// process until the file is removed. The parent directory must exist and pass the checks
  /// of `BPFFSDirectory`; an existing file fails with `BPFFSError.exists(path:)`.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_PIN.
  public func pin(at path: String) throws(MapError) {
    do {
      try BPF.pin(fileDescriptor, at: path)
    } catch {
      throw .pinning(error)
    }
  }

  /// Pins the map as `name` in `directory` (mode 0600).
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_PIN.
  public func pin(in directory: BPFFSDirectory, as name: String) throws(MapError) {
    do {
      try directory.pin(fileDescriptor, as: name)
    } catch {
      throw .pinning(error)
    }
  }

  /// What the kernel reports about the map now.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_GET_INFO_BY_FD.
  public func info() throws(MapError) -> MapInfo {
    do {
      return try BPF.mapInfo(fileDescriptor)
    } catch {
      throw .syscall(map: name, error)
    }
  }

  /// The map's kernel-wide id, the one bpftool shows.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_GET_INFO_BY_FD.
  public var id: UInt32 {
    get throws(MapError) { try info().id }
  }

  /// Makes the map read-only for user space: later updates through bpf(2) fail with `EPERM`.
  /// Programs can still write it unless it was created with `BPF_F_RDONLY_PROG`.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_FREEZE.
  public func freeze() throws(MapError) {
    do {
      try BPF.freeze(map: fileDescriptor)
    } catch {
      throw .syscall(map: name, error)
    }
  }

  /// Whether the map keeps one value per possible CPU for each key.
  public var isPerCPU: Bool {
    switch type {
    case .perCPUHash, .perCPUArray, .lruPerCPUHash, .perCPUCgroupStorage: true
    default: false
    }
  }

  /// The distance in bytes between two CPUs' values in a per-CPU value buffer: ``valueSize``
  /// rounded up to a multiple of 8, as the kernel lays them out.
  public var valueStride: Int { (valueSize + 7) & ~7 }

  /// The number of values a lookup returns for one key: the number of possible CPUs for
  /// per-CPU maps (read from `/sys/devices/system/cpu/possible` once per process), 1 for
  /// other maps.
  public var possibleCPUs: Int {
    get throws(MapError) {
      guard isPerCPU else { return 1 }
      do {
        return try SystemInfo.possibleCPUCount()
      } catch {
        throw .possibleCPUsUnavailable(map: name, error)
      }
    }
  }

  /// The number of bytes a lookup writes for one key: ``valueSize`` for most maps,
  /// ``valueStride`` times ``possibleCPUs`` for per-CPU maps.
  public var valueBufferSize: Int {
    get throws(MapError) {
      isPerCPU ? try valueStride * possibleCPUs : valueSize
    }
  }

  /// The type, name, sizes and descriptor, for logs.
  public var description: String {
    "\(type) \(name) (key \(keySize) B, value \(valueSize) B, max \(maxEntries), \(fileDescriptor))"
  }
}
