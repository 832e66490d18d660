import CXDPKit
import XDPKitObject
import SystemPackage

/// The `map_flags` of BPF_MAP_CREATE (the `BPF_F_*` map flags of `linux/bpf.h`).
public struct MapCreateFlags: OptionSet, Hashable, Sendable {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  /// BPF_F_NO_PREALLOC: allocate hash elements on demand (required for LPM tries).
  public static let noPreallocation = Self(rawValue: UInt32(BPF_F_NO_PREALLOC))
  /// BPF_F_NO_COMMON_LRU: one LRU list per CPU instead of a shared one.
  public static let noCommonLRU = Self(rawValue: UInt32(BPF_F_NO_COMMON_LRU))
  /// BPF_F_NUMA_NODE: honour `numa_node`. Set for you when
  /// ``MapCreateAttributes/numaNode`` is not `nil`.
  public static let numaNode = Self(rawValue: UInt32(BPF_F_NUMA_NODE))
  /// BPF_F_RDONLY: descriptors for the map are read-only for user space.
  public static let readOnly = Self(rawValue: UInt32(BPF_F_RDONLY))
  /// BPF_F_WRONLY: descriptors for the map are write-only for user space.
  public static let writeOnly = Self(rawValue: UInt32(BPF_F_WRONLY))
  /// BPF_F_STACK_BUILD_ID: stack trace maps store build ids.
  public static let stackBuildID = Self(rawValue: UInt32(BPF_F_STACK_BUILD_ID))
  /// BPF_F_ZERO_SEED: hash with seed zero (testing only).
  public static let zeroSeed = Self(rawValue: UInt32(BPF_F_ZERO_SEED))
  /// BPF_F_RDONLY_PROG: programs may only read the map.
  public static let readOnlyForPrograms = Self(rawValue: UInt32(BPF_F_RDONLY_PROG))
  /// BPF_F_WRONLY_PROG: programs may only write the map.
  public static let writeOnlyForPrograms = Self(rawValue: UInt32(BPF_F_WRONLY_PROG))
  /// BPF_F_CLONE: clone socket storage on accept.
  public static let clone = Self(rawValue: UInt32(BPF_F_CLONE))
  /// BPF_F_MMAPABLE: the array map can be mmap(2)ed.
  public static let mmapable = Self(rawValue: UInt32(BPF_F_MMAPABLE))
  /// BPF_F_PRESERVE_ELEMS: perf event array entries outlive the creating descriptor.
  public static let preserveElements = Self(rawValue: UInt32(BPF_F_PRESERVE_ELEMS))
  /// BPF_F_INNER_MAP: the inner maps of a map-in-map may differ in `max_entries`.
  public static let innerMap = Self(rawValue: UInt32(BPF_F_INNER_MAP))
}

/// What BPF_MAP_CREATE should make.
///
/// Sizes are in bytes and are passed to the kernel unchanged; for per-CPU maps the value size
/// is that of one CPU's value.
public struct MapCreateAttributes: Sendable, Hashable {
  /// The kind of map (`map_type`).
  public var type: BPFMapType
  /// Size of a key (`key_size`); 0 for queue, stack, ring buffer and bloom filter maps.
  public var keySize: UInt32
  /// Size of a value (`value_size`); 0 for ring buffers.
  public var valueSize: UInt32
  /// Capacity (`max_entries`); for ring buffers the size of the ring in bytes.
  public var maxEntries: UInt32
  /// `map_flags`.
  public var flags: MapCreateFlags
  /// The map's name as the kernel shows it (`map_name`).
  ///
  /// The kernel keeps at most 15 bytes (BPF_OBJ_NAME_LEN less the terminating NUL): a longer
  /// name is truncated to its first 15 UTF-8 bytes. The kernel accepts only ASCII letters,
  /// digits, `_` and `.` and fails the call with `EINVAL` for anything else.
  public var name: String
  /// The NUMA node to allocate on (`numa_node`); when set, ``MapCreateFlags/numaNode`` is
  /// added to the flags.
  public var numaNode: UInt32?
  /// `map_extra`: for bloom filters the number of hash functions in the low 4 bits.
  public var mapExtra: UInt64
  /// A map whose shape the inner maps of an array-of-maps or hash-of-maps share
  /// (`inner_map_fd`).
  public var innerMap: BPFFileDescriptor?
  /// BTF describing the key and value (`btf_fd`).
  public var btf: BPFFileDescriptor?
  /// The key's type id in ``btf`` (`btf_key_type_id`).
  public var btfKeyTypeID: UInt32
  /// The value's type id in ``btf`` (`btf_value_type_id`).
  public var btfValueTypeID: UInt32
  /// For struct_ops maps, the value's type id in the kernel's BTF
  /// (`btf_vmlinux_value_type_id`).
  public var btfVmlinuxValueTypeID: UInt32
  /// The interface to offload the map to (`map_ifindex`); 0 for a host map.
  public var interfaceIndex: UInt32

  /// Attributes for a map of `type` with the given sizes; everything else zero or absent.
  public init(
    type: BPFMapType, keySize: UInt32, valueSize: UInt32, maxEntries: UInt32,
    flags: MapCreateFlags = [], name: String = ""
  ) {
    self.type = type
    self.keySize = keySize
    self.valueSize = valueSize
    self.maxEntries = maxEntries
    self.flags = flags
    self.name = name
    self.numaNode = nil
    self.mapExtra = 0
    self.innerMap = nil
    self.btf = nil
    self.btfKeyTypeID = 0
    self.btfValueTypeID = 0
    self.btfVmlinuxValueTypeID = 0
    self.interfaceIndex = 0
  }
}

/// The `flags` of BPF_MAP_UPDATE_ELEM: `BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`, `BPF_F_LOCK`.
///
/// At most one of ``noExist`` and ``exist`` may be set; the empty set is `BPF_ANY`.
public struct MapUpdateFlags: OptionSet, Hashable, Sendable {
  public var rawValue: UInt64
  public init(rawValue: UInt64) { self.rawValue = rawValue }

  /// BPF_ANY: create the element or replace it.
  public static let any: Self = []
  /// BPF_NOEXIST: create the element; fail with `EEXIST` if it exists.
  public static let noExist = Self(rawValue: UInt64(BPF_NOEXIST))
  /// BPF_EXIST: replace the element; fail with `ENOENT` if it does not exist.
  public static let exist = Self(rawValue: UInt64(BPF_EXIST))
  /// BPF_F_LOCK: take the value's `bpf_spin_lock` while copying.
  public static let lock = Self(rawValue: UInt64(BPF_F_LOCK))
}

/// The `flags` of BPF_MAP_LOOKUP_ELEM and BPF_MAP_LOOKUP_AND_DELETE_ELEM.
public struct MapLookupFlags: OptionSet, Hashable, Sendable {
  public var rawValue: UInt64
  public init(rawValue: UInt64) { self.rawValue = rawValue }

  /// BPF_F_LOCK: take the value's `bpf_spin_lock` while copying.
  public static let lock = Self(rawValue: UInt64(BPF_F_LOCK))
}

extension BPF {
  /// Creates a map.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_CREATE.
  public static func createMap(
    _ attributes: MapCreateAttributes
  ) throws(SyscallError) -> BPFFileDescriptor {
    var attr = bpf_attr()
    attr.map_type = attributes.type.rawValue
    attr.key_size = attributes.keySize
    attr.value_size = attributes.valueSize
    attr.max_entries = attributes.maxEntries
    var flags = attributes.flags
    if let node = attributes.numaNode {
      flags.insert(.numaNode)
      attr.numa_node = node
    }
    attr.map_flags = flags.rawValue
    var name = attr.map_name
    encodeObjectName(attributes.name, into: &name)
    attr.map_name = name
    attr.map_extra = attributes.mapExtra
    attr.inner_map_fd = attributes.innerMap.map { fdField($0.rawValue) } ?? 0
    attr.btf_fd = attributes.btf.map { fdField($0.rawValue) } ?? 0
    attr.btf_key_type_id = attributes.btfKeyTypeID
    attr.btf_value_type_id = attributes.btfValueTypeID
    attr.btf_vmlinux_value_type_id = attributes.btfVmlinuxValueTypeID
    attr.map_ifindex = attributes.interfaceIndex
    // The descriptors in `attributes` stay open for the call: the caller holds them.
    return try newDescriptor(.mapCreate, &attr).get()
  }

  /// Copies the value stored under `key` into `value`, which must have room for the map's
  /// value size (times the number of possible CPUs, each rounded up to 8 bytes, for per-CPU
  /// maps).
  ///
  /// An absent key fails with `ENOENT`. `key` is `nil` for queue and stack maps (peek).
  /// Does not allocate.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  @inlinable
  public static func lookupElement(
    map fd: Int32, key: UnsafeRawPointer?, value: UnsafeMutableRawPointer,
    flags: MapLookupFlags = []
  ) -> Result<Void, SyscallError> {
    var attr = bpf_attr()
    attr.map_fd = fdField(fd)
    attr.key = address(key)
    attr.value = address(value)
    attr.flags = flags.rawValue
    return invoke(.mapLookupElement, &attr, size: elementAttributeSize).map { _ in () }
  }

  /// Stores `value` under `key`. `key` is `nil` for queue and stack maps (push).
  ///
  /// Fails with `EEXIST` for ``MapUpdateFlags/noExist`` when the key exists, with `ENOENT` for
  /// ``MapUpdateFlags/exist`` when it does not, and with `E2BIG` when a new key does not fit
  /// (the map holds `max_entries` elements). Does not allocate.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  @inlinable
  public static func updateElement(
    map fd: Int32, key: UnsafeRawPointer?, value: UnsafeRawPointer,
    flags: MapUpdateFlags = .any
  ) -> Result<Void, SyscallError> {
    var attr = bpf_attr()
    attr.map_fd = fdField(fd)
    attr.key = address(key)
    attr.value = address(value)
    attr.flags = flags.rawValue
    return invoke(.mapUpdateElement, &attr, size: elementAttributeSize).map { _ in () }
  }

  /// Removes the element stored under `key`; fails with `ENOENT` if there is none (and with
  /// `EINVAL` for array maps, whose elements cannot be removed). Does not allocate.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_DELETE_ELEM.
  @inlinable
  public static func deleteElement(
    map fd: Int32, key: UnsafeRawPointer
  ) -> Result<Void, SyscallError> {
    var attr = bpf_attr()
    attr.map_fd = fdField(fd)
    attr.key = address(key)
    return invoke(.mapDeleteElement, &attr, size: elementAttributeSize).map { _ in () }
  }

  /// Writes the key that follows `key` into `nextKey`; with a `nil` key (or a key that is not
  /// in the map) the first key. After the last key the call fails with `ENOENT`, which ends an
  /// iteration. Does not allocate.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_GET_NEXT_KEY.
  @inlinable
  public static func nextKey(
    map fd: Int32, after key: UnsafeRawPointer?, into nextKey: UnsafeMutableRawPointer
  ) -> Result<Void, SyscallError> {
    var attr = bpf_attr()
    attr.map_fd = fdField(fd)
    attr.key = address(key)
    attr.next_key = address(nextKey)
    return invoke(.mapGetNextKey, &attr, size: elementAttributeSize).map { _ in () }
  }

  /// Copies the value stored under `key` into `value` and removes the element; `ENOENT` if
  /// there is none. `key` is `nil` for queue and stack maps (pop). Does not allocate.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_AND_DELETE_ELEM.
  @inlinable
  public static func lookupAndDeleteElement(
    map fd: Int32, key: UnsafeRawPointer?, value: UnsafeMutableRawPointer,
    flags: MapLookupFlags = []
  ) -> Result<Void, SyscallError> {
    var attr = bpf_attr()
    attr.map_fd = fdField(fd)
    attr.key = address(key)
    attr.value = address(value)
    attr.flags = flags.rawValue
    return invoke(.mapLookupAndDeleteElement, &attr, size: elementAttributeSize).map { _ in () }
  }

  /// Makes the map read-only for user space from now on: later updates through bpf(2) fail
  /// with `EPERM`. Programs can still write it unless it was created with
  /// ``MapCreateFlags/readOnlyForPrograms``.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_FREEZE.
  public static func freeze(map: BPFFileDescriptor) throws(SyscallError) {
    var attr = bpf_attr()
    attr.map_fd = fdField(map.rawValue)
    _ = try invoke(.mapFreeze, &attr).get()
  }
}
