import XDPKitObject
import XDPKitSys

/// A failed operation on a BPF map: a typed view that does not fit the map, an element the
/// kernel refused, or a bpf(2) call that failed for another reason.
///
/// Every case names the map it concerns (its kernel name, or for ``noPinnedObject(path:)`` the
/// path), so that an error printed far from where it was thrown still says which map it was.
/// Sizes are in bytes. A lookup of a key that is not in the map is not an error: it returns
/// `nil`.
public enum MapError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The key type does not fit the map. `expected` is the map's `key_size` as the kernel
  /// reports it; `actual` is `MemoryLayout<Key>.stride` of the Swift type (which, like C's
  /// `sizeof`, includes tail padding). For an ``LPMTrie``, `actual` is 4 plus the size of the
  /// address type, the size of the kernel's `struct bpf_lpm_trie_key_u8` with that data.
  case keySizeMismatch(map: String, expected: Int, actual: Int)
  /// The value type does not fit the map. `expected` is the map's `value_size` (for per-CPU
  /// maps: one CPU's value); `actual` is `MemoryLayout<Value>.stride` of the Swift type.
  case valueSizeMismatch(map: String, expected: Int, actual: Int)
  /// The view does not handle maps of this type. `expected` lists the types it handles.
  case wrongType(map: String, expected: [BPFMapType], actual: BPFMapType)
  /// A new key did not fit: the map already holds `max_entries` elements (`E2BIG`).
  case full(map: String)
  /// An update with ``UpdatePolicy/onlyNew`` found the key already present (`EEXIST`).
  case keyExists(map: String)
  /// An update with ``UpdatePolicy/onlyExisting`` found no element to replace (`ENOENT`).
  case keyNotFound(map: String)
  /// An array index is not below the map's `max_entries` (`count`). Checked before any call.
  case indexOutOfRange(map: String, index: UInt32, count: Int)
  /// An LPM trie key's prefix length exceeds the number of address bits (`maximum`).
  case prefixLengthOutOfRange(map: String, prefixLength: UInt32, maximum: UInt32)
  /// A per-CPU write was given a number of values other than the number of possible CPUs.
  /// `expected` is the number of possible CPUs; `actual` the number of values given.
  case cpuCountMismatch(map: String, expected: Int, actual: Int)
  /// The number of possible CPUs, which per-CPU maps need, could not be read.
  case possibleCPUsUnavailable(map: String, SystemInfoError)
  /// A key iteration did not reach the end within its call budget because the map kept
  /// changing under it (each deleted cursor key makes the kernel start over). `calls` is the
  /// number of BPF_MAP_GET_NEXT_KEY calls made.
  case iterationDidNotFinish(map: String, calls: Int)
  /// Nothing is pinned at `path` (`ENOENT` from BPF_OBJ_GET).
  case noPinnedObject(path: String)
  /// The object pinned at `path` (or opened by id) is not a map.
  case notAMap(path: String)
  /// No map has the kernel id `id` (`ENOENT` from BPF_MAP_GET_FD_BY_ID).
  case noMapWithID(UInt32)
  /// Pinning or opening a pin failed a check of its directory or the pin (a symbolic link,
  /// an untrusted owner, not in bpffs, the name taken, …); the error names the path.
  case pinning(BPFFSError)
  /// A batch command failed after `completed` elements had been processed; `cause` says why.
  indirect case batchFailed(completed: Int, cause: MapError)
  /// A bpf(2) call on the map failed; the error names the command and the errno.
  case syscall(map: String, SyscallError)
  /// Direct (mmapped) element access was asked of a map that does not offer it: not an array
  /// map, or created without BPF_F_MMAPABLE. `reason` says which.
  case notMappable(map: String, reason: String)
  /// A write through the mmapped values was asked of a map mapped read-only (a frozen map, or
  /// a descriptor opened read-only).
  case readOnlyMapping(map: String)

  /// What failed, naming the map, the sizes, the command and the errno as they apply.
  public var description: String {
    switch self {
    case .keySizeMismatch(let map, let expected, let actual):
      return "map \(map): key size mismatch: the map's key_size is \(expected) bytes,"
        + " the Swift key type's stride is \(actual) bytes"
    case .valueSizeMismatch(let map, let expected, let actual):
      return "map \(map): value size mismatch: the map's value_size is \(expected) bytes,"
        + " the Swift value type's stride is \(actual) bytes"
    case .wrongType(let map, let expected, let actual):
      let names = expected.map(\.description).joined(separator: " or ")
      return "map \(map): is a \(actual), this view needs \(names)"
    case .full(let map):
      return "map \(map): full: it holds max_entries elements (E2BIG)"
    case .keyExists(let map):
      return "map \(map): key exists, and the update allowed only new keys (EEXIST)"
    case .keyNotFound(let map):
      return "map \(map): key not found, and the update allowed only existing keys (ENOENT)"
    case .indexOutOfRange(let map, let index, let count):
      return "map \(map): index \(index) out of range 0..<\(count)"
    case .prefixLengthOutOfRange(let map, let length, let maximum):
      return "map \(map): prefix length \(length) exceeds the address's \(maximum) bits"
    case .cpuCountMismatch(let map, let expected, let actual):
      return "map \(map): \(actual) per-CPU values given, the system has \(expected) possible CPUs"
    case .possibleCPUsUnavailable(let map, let error):
      return "map \(map): cannot read the number of possible CPUs: \(error)"
    case .iterationDidNotFinish(let map, let calls):
      return "map \(map): key iteration did not finish after \(calls) BPF_MAP_GET_NEXT_KEY"
        + " calls; the map kept changing"
    case .noPinnedObject(let path):
      return "nothing is pinned at \(path)"
    case .notAMap(let path):
      return "the object at \(path) is not a map"
    case .noMapWithID(let id):
      return "no map has id \(id)"
    case .pinning(let error):
      return "\(error)"
    case .batchFailed(let completed, let cause):
      return "\(cause) (after \(completed) elements of the batch)"
    case .notMappable(let map, let reason):
      return "map \(map): no direct element access: \(reason)"
    case .readOnlyMapping(let map):
      return "map \(map): its values are mapped read-only (a frozen map or a read-only descriptor)"
    case .syscall(let map, let error):
      return "map \(map): \(error)"
    }
  }
}

/// What an update does when the key is, or is not, in the map already.
public enum UpdatePolicy: Sendable, Hashable {
  /// Create the element or replace it (BPF_ANY).
  case any
  /// Create the element; throw ``MapError/keyExists(map:)`` if the key is present
  /// (BPF_NOEXIST).
  case onlyNew
  /// Replace the element; throw ``MapError/keyNotFound(map:)`` if the key is absent
  /// (BPF_EXIST).
  case onlyExisting

  /// The flags of BPF_MAP_UPDATE_ELEM and BPF_MAP_UPDATE_BATCH for this policy.
  @inlinable
  public var flags: MapUpdateFlags {
    switch self {
    case .any: .any
    case .onlyNew: .noExist
    case .onlyExisting: .exist
    }
  }
}
