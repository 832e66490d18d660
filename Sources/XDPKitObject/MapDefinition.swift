/// How a map asks to be pinned in bpffs.
public enum MapPinning: Sendable, Equatable, CustomStringConvertible {
  /// Not pinned (0).
  case none
  /// Pinned by its name under the pin directory the loader is given (LIBBPF_PIN_BY_NAME, 1;
  /// iproute2's PIN_GLOBAL_NS, 2, in legacy definitions).
  case byName

  public var description: String {
    switch self {
    case .none: return "none"
    case .byName: return "by-name"
    }
  }
}

/// Where a map definition came from.
public enum MapDefinitionStyle: String, Sendable, Equatable {
  /// A record in the legacy `maps` section (`struct bpf_map_def` or a longer iproute2/aya form).
  case legacy
  /// A variable in the BTF-described `.maps` section.
  case btf
}

/// An initial value of a map-in-map or program array slot, set by a `.values = { … }`
/// initialiser in a BTF `.maps` definition.
public enum MapInitialValue: Sendable, Equatable {
  /// The map of this object with that name.
  case map(String)
  /// The program of this object with that name.
  case program(String)
}

/// The definition of an inner map of a map-in-map (the template every inner map must match).
public struct InnerMapDefinition: Sendable, Equatable {
  public var type: BPFMapType
  public var keySize: UInt32
  public var valueSize: UInt32
  public var maxEntries: UInt32
  public var flags: UInt32
  public var keyTypeID: UInt32?
  public var valueTypeID: UInt32?
}

/// A map definition as the object describes it, before anything is created in the kernel.
public struct BPFMapDefinition: Sendable, Equatable {
  /// The map's name: its symbol name. The kernel keeps only 15 bytes of it.
  public var name: String
  /// Legacy `maps` record or BTF `.maps` variable.
  public var style: MapDefinitionStyle
  /// The map type.
  public var type: BPFMapType
  /// Key size in bytes (0 for maps without keys such as ring buffers).
  public var keySize: UInt32
  /// Value size in bytes.
  public var valueSize: UInt32
  /// Maximum number of entries; 0 means user space must set it before loading.
  public var maxEntries: UInt32
  /// `map_flags` (BPF_F_NO_PREALLOC, BPF_F_RDONLY_PROG, …).
  public var flags: UInt32
  /// NUMA node (only meaningful with BPF_F_NUMA_NODE).
  public var numaNode: UInt32
  /// Pinning request.
  public var pinning: MapPinning
  /// `map_extra` (bloom filter hash count, arena address, …).
  public var mapExtra: UInt64
  /// BTF type id of the key, for BTF-defined maps declared with `__type(key, …)`.
  public var keyTypeID: UInt32?
  /// BTF type id of the value, for BTF-defined maps declared with `__type(value, …)`.
  public var valueTypeID: UInt32?
  /// The inner map template of a map-in-map.
  public var innerMap: InnerMapDefinition?
  /// Initial slot values (`.values = { [2] = &prog }`), by slot index.
  public var initialValues: [Int: MapInitialValue]
  /// Index of the section holding the definition.
  public var sectionIndex: Int
  /// Byte offset of the definition inside that section.
  public var offset: UInt64
  /// Index of the map's symbol.
  public var symbolIndex: Int
  /// The legacy record's extra fields (`id`, `pinning`, `inner_id`, `inner_idx`) where present.
  public var legacyExtra: [UInt32]

  /// Whether the value is stored once per possible CPU.
  public var isPerCPU: Bool {
    type == .perCPUHash || type == .perCPUArray || type == .lruPerCPUHash
      || type == .perCPUCgroupStorage
  }
}

/// What kind of global data a data section holds.
public enum DataSectionKind: String, Sendable, Equatable {
  /// `.data` and `.data.*`: initialised, writable.
  case data
  /// `.rodata` and `.rodata.*`: read-only after load (the map is frozen); `const volatile`
  /// configuration lives here.
  case rodata
  /// `.bss` and `.bss.*`: zero-initialised, no bytes in the file.
  case bss
}

/// A global variable in a data section.
public struct DataVariable: Sendable, Equatable {
  /// The variable's name.
  public var name: String
  /// Byte offset inside its section.
  public var offset: UInt64
  /// Size in bytes.
  public var size: UInt64
  /// Whether the symbol is global (visible to other objects) rather than static.
  public var isGlobal: Bool
  /// BTF type id of the variable's type, when `.BTF` describes the section.
  public var typeID: UInt32?
}

/// A global-data section, loaded as a one-entry array map whose value is the section's bytes.
public struct DataSection: Sendable, Equatable {
  /// Index of the ELF section.
  public var sectionIndex: Int
  /// The section name, e.g. `.rodata` or `.data.custom`.
  public var name: String
  /// What the section holds.
  public var kind: DataSectionKind
  /// Size in bytes.
  public var size: UInt64
  /// The initial contents from the file; empty for `.bss` (SHT_NOBITS), whose map value the
  /// loader leaves all zeros, as the kernel creates it, unless a global is set in it.
  public var initialBytes: [UInt8]
  /// The variables, by offset.
  public var variables: [DataVariable]
  /// BTF type id of the section's DATASEC, when present.
  public var btfTypeID: UInt32?

  /// The variable named `name`, if any.
  public func variable(named name: String) -> DataVariable? {
    variables.first { $0.name == name }
  }
}
