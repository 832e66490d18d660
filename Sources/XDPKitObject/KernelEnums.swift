// Kernel enumerations shared by the reader, the syscall layer and the loader.
// Values are facts of the kernel ABI (linux/bpf.h).

/// A BPF map type (`enum bpf_map_type`).
///
/// A thin wrapper over the kernel's `enum bpf_map_type` value: the named constants are the values of the
/// 6.x uapi; other raw values can still be represented, and ``isKnown`` tells them apart.
public struct BPFMapType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  /// The kernel's numeric value.
  public var rawValue: UInt32
  /// Wraps a raw kernel value.
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  /// `BPF_MAP_TYPE_UNSPEC`.
  public static let unspecified = BPFMapType(rawValue: 0)
  /// `BPF_MAP_TYPE_HASH`.
  public static let hash = BPFMapType(rawValue: 1)
  /// `BPF_MAP_TYPE_ARRAY`.
  public static let array = BPFMapType(rawValue: 2)
  /// `BPF_MAP_TYPE_PROG_ARRAY`.
  public static let programArray = BPFMapType(rawValue: 3)
  /// `BPF_MAP_TYPE_PERF_EVENT_ARRAY`.
  public static let perfEventArray = BPFMapType(rawValue: 4)
  /// `BPF_MAP_TYPE_PERCPU_HASH`.
  public static let perCPUHash = BPFMapType(rawValue: 5)
  /// `BPF_MAP_TYPE_PERCPU_ARRAY`.
  public static let perCPUArray = BPFMapType(rawValue: 6)
  /// `BPF_MAP_TYPE_STACK_TRACE`.
  public static let stackTrace = BPFMapType(rawValue: 7)
  /// `BPF_MAP_TYPE_CGROUP_ARRAY`.
  public static let cgroupArray = BPFMapType(rawValue: 8)
  /// `BPF_MAP_TYPE_LRU_HASH`.
  public static let lruHash = BPFMapType(rawValue: 9)
  /// `BPF_MAP_TYPE_LRU_PERCPU_HASH`.
  public static let lruPerCPUHash = BPFMapType(rawValue: 10)
  /// `BPF_MAP_TYPE_LPM_TRIE`.
  public static let lpmTrie = BPFMapType(rawValue: 11)
  /// `BPF_MAP_TYPE_ARRAY_OF_MAPS`.
  public static let arrayOfMaps = BPFMapType(rawValue: 12)
  /// `BPF_MAP_TYPE_HASH_OF_MAPS`.
  public static let hashOfMaps = BPFMapType(rawValue: 13)
  /// `BPF_MAP_TYPE_DEVMAP`.
  public static let devMap = BPFMapType(rawValue: 14)
  /// `BPF_MAP_TYPE_SOCKMAP`.
  public static let sockMap = BPFMapType(rawValue: 15)
  /// `BPF_MAP_TYPE_CPUMAP`.
  public static let cpuMap = BPFMapType(rawValue: 16)
  /// `BPF_MAP_TYPE_XSKMAP`.
  public static let xskMap = BPFMapType(rawValue: 17)
  /// `BPF_MAP_TYPE_SOCKHASH`.
  public static let sockHash = BPFMapType(rawValue: 18)
  /// `BPF_MAP_TYPE_CGROUP_STORAGE`.
  public static let cgroupStorage = BPFMapType(rawValue: 19)
  /// `BPF_MAP_TYPE_REUSEPORT_SOCKARRAY`.
  public static let reuseportSockArray = BPFMapType(rawValue: 20)
  /// `BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE`.
  public static let perCPUCgroupStorage = BPFMapType(rawValue: 21)
  /// `BPF_MAP_TYPE_QUEUE`.
  public static let queue = BPFMapType(rawValue: 22)
  /// `BPF_MAP_TYPE_STACK`.
  public static let stack = BPFMapType(rawValue: 23)
  /// `BPF_MAP_TYPE_SK_STORAGE`.
  public static let skStorage = BPFMapType(rawValue: 24)
  /// `BPF_MAP_TYPE_DEVMAP_HASH`.
  public static let devMapHash = BPFMapType(rawValue: 25)
  /// `BPF_MAP_TYPE_STRUCT_OPS`.
  public static let structOps = BPFMapType(rawValue: 26)
  /// `BPF_MAP_TYPE_RINGBUF`.
  public static let ringBuffer = BPFMapType(rawValue: 27)
  /// `BPF_MAP_TYPE_INODE_STORAGE`.
  public static let inodeStorage = BPFMapType(rawValue: 28)
  /// `BPF_MAP_TYPE_TASK_STORAGE`.
  public static let taskStorage = BPFMapType(rawValue: 29)
  /// `BPF_MAP_TYPE_BLOOM_FILTER`.
  public static let bloomFilter = BPFMapType(rawValue: 30)
  /// `BPF_MAP_TYPE_USER_RINGBUF`.
  public static let userRingBuffer = BPFMapType(rawValue: 31)
  /// `BPF_MAP_TYPE_CGRP_STORAGE`.
  public static let cgrpStorage = BPFMapType(rawValue: 32)
  /// `BPF_MAP_TYPE_ARENA`.
  public static let arena = BPFMapType(rawValue: 33)

  /// The uapi names, indexed by raw value.
  static let names: [String] = [
    "BPF_MAP_TYPE_UNSPEC",
    "BPF_MAP_TYPE_HASH",
    "BPF_MAP_TYPE_ARRAY",
    "BPF_MAP_TYPE_PROG_ARRAY",
    "BPF_MAP_TYPE_PERF_EVENT_ARRAY",
    "BPF_MAP_TYPE_PERCPU_HASH",
    "BPF_MAP_TYPE_PERCPU_ARRAY",
    "BPF_MAP_TYPE_STACK_TRACE",
    "BPF_MAP_TYPE_CGROUP_ARRAY",
    "BPF_MAP_TYPE_LRU_HASH",
    "BPF_MAP_TYPE_LRU_PERCPU_HASH",
    "BPF_MAP_TYPE_LPM_TRIE",
    "BPF_MAP_TYPE_ARRAY_OF_MAPS",
    "BPF_MAP_TYPE_HASH_OF_MAPS",
    "BPF_MAP_TYPE_DEVMAP",
    "BPF_MAP_TYPE_SOCKMAP",
    "BPF_MAP_TYPE_CPUMAP",
    "BPF_MAP_TYPE_XSKMAP",
    "BPF_MAP_TYPE_SOCKHASH",
    "BPF_MAP_TYPE_CGROUP_STORAGE",
    "BPF_MAP_TYPE_REUSEPORT_SOCKARRAY",
    "BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE",
    "BPF_MAP_TYPE_QUEUE",
    "BPF_MAP_TYPE_STACK",
    "BPF_MAP_TYPE_SK_STORAGE",
    "BPF_MAP_TYPE_DEVMAP_HASH",
    "BPF_MAP_TYPE_STRUCT_OPS",
    "BPF_MAP_TYPE_RINGBUF",
    "BPF_MAP_TYPE_INODE_STORAGE",
    "BPF_MAP_TYPE_TASK_STORAGE",
    "BPF_MAP_TYPE_BLOOM_FILTER",
    "BPF_MAP_TYPE_USER_RINGBUF",
    "BPF_MAP_TYPE_CGRP_STORAGE",
    "BPF_MAP_TYPE_ARENA",
  ]

  /// Whether the value is one this library knows by name.
  public var isKnown: Bool { rawValue < UInt32(Self.names.count) }

  /// One more than the largest value this library knows by name.
  public static var knownCount: UInt32 { UInt32(names.count) }

  /// The uapi constant's name, e.g. `BPF_MAP_TYPE_HASH`, or the number when unknown.
  public var description: String { isKnown ? Self.names[Int(rawValue)] : "BPF_MAP_TYPE_(\(rawValue))" }
}

/// A BPF program type (`enum bpf_prog_type`).
///
/// A thin wrapper over the kernel's `enum bpf_prog_type` value: the named constants are the values of the
/// 6.x uapi; other raw values can still be represented, and ``isKnown`` tells them apart.
public struct BPFProgramType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  /// The kernel's numeric value.
  public var rawValue: UInt32
  /// Wraps a raw kernel value.
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  /// `BPF_PROG_TYPE_UNSPEC`.
  public static let unspecified = BPFProgramType(rawValue: 0)
  /// `BPF_PROG_TYPE_SOCKET_FILTER`.
  public static let socketFilter = BPFProgramType(rawValue: 1)
  /// `BPF_PROG_TYPE_KPROBE`.
  public static let kprobe = BPFProgramType(rawValue: 2)
  /// `BPF_PROG_TYPE_SCHED_CLS`.
  public static let schedClassifier = BPFProgramType(rawValue: 3)
  /// `BPF_PROG_TYPE_SCHED_ACT`.
  public static let schedAction = BPFProgramType(rawValue: 4)
  /// `BPF_PROG_TYPE_TRACEPOINT`.
  public static let tracepoint = BPFProgramType(rawValue: 5)
  /// `BPF_PROG_TYPE_XDP`.
  public static let xdp = BPFProgramType(rawValue: 6)
  /// `BPF_PROG_TYPE_PERF_EVENT`.
  public static let perfEvent = BPFProgramType(rawValue: 7)
  /// `BPF_PROG_TYPE_CGROUP_SKB`.
  public static let cgroupSKB = BPFProgramType(rawValue: 8)
  /// `BPF_PROG_TYPE_CGROUP_SOCK`.
  public static let cgroupSock = BPFProgramType(rawValue: 9)
  /// `BPF_PROG_TYPE_LWT_IN`.
  public static let lwtIn = BPFProgramType(rawValue: 10)
  /// `BPF_PROG_TYPE_LWT_OUT`.
  public static let lwtOut = BPFProgramType(rawValue: 11)
  /// `BPF_PROG_TYPE_LWT_XMIT`.
  public static let lwtXmit = BPFProgramType(rawValue: 12)
  /// `BPF_PROG_TYPE_SOCK_OPS`.
  public static let sockOps = BPFProgramType(rawValue: 13)
  /// `BPF_PROG_TYPE_SK_SKB`.
  public static let skSKB = BPFProgramType(rawValue: 14)
  /// `BPF_PROG_TYPE_CGROUP_DEVICE`.
  public static let cgroupDevice = BPFProgramType(rawValue: 15)
  /// `BPF_PROG_TYPE_SK_MSG`.
  public static let skMsg = BPFProgramType(rawValue: 16)
  /// `BPF_PROG_TYPE_RAW_TRACEPOINT`.
  public static let rawTracepoint = BPFProgramType(rawValue: 17)
  /// `BPF_PROG_TYPE_CGROUP_SOCK_ADDR`.
  public static let cgroupSockAddr = BPFProgramType(rawValue: 18)
  /// `BPF_PROG_TYPE_LWT_SEG6LOCAL`.
  public static let lwtSeg6Local = BPFProgramType(rawValue: 19)
  /// `BPF_PROG_TYPE_LIRC_MODE2`.
  public static let lircMode2 = BPFProgramType(rawValue: 20)
  /// `BPF_PROG_TYPE_SK_REUSEPORT`.
  public static let skReuseport = BPFProgramType(rawValue: 21)
  /// `BPF_PROG_TYPE_FLOW_DISSECTOR`.
  public static let flowDissector = BPFProgramType(rawValue: 22)
  /// `BPF_PROG_TYPE_CGROUP_SYSCTL`.
  public static let cgroupSysctl = BPFProgramType(rawValue: 23)
  /// `BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE`.
  public static let rawTracepointWritable = BPFProgramType(rawValue: 24)
  /// `BPF_PROG_TYPE_CGROUP_SOCKOPT`.
  public static let cgroupSockopt = BPFProgramType(rawValue: 25)
  /// `BPF_PROG_TYPE_TRACING`.
  public static let tracing = BPFProgramType(rawValue: 26)
  /// `BPF_PROG_TYPE_STRUCT_OPS`.
  public static let structOps = BPFProgramType(rawValue: 27)
  /// `BPF_PROG_TYPE_EXT`.
  public static let ext = BPFProgramType(rawValue: 28)
  /// `BPF_PROG_TYPE_LSM`.
  public static let lsm = BPFProgramType(rawValue: 29)
  /// `BPF_PROG_TYPE_SK_LOOKUP`.
  public static let skLookup = BPFProgramType(rawValue: 30)
  /// `BPF_PROG_TYPE_SYSCALL`.
  public static let syscall = BPFProgramType(rawValue: 31)
  /// `BPF_PROG_TYPE_NETFILTER`.
  public static let netfilter = BPFProgramType(rawValue: 32)

  /// The uapi names, indexed by raw value.
  static let names: [String] = [
    "BPF_PROG_TYPE_UNSPEC",
    "BPF_PROG_TYPE_SOCKET_FILTER",
    "BPF_PROG_TYPE_KPROBE",
    "BPF_PROG_TYPE_SCHED_CLS",
    "BPF_PROG_TYPE_SCHED_ACT",
    "BPF_PROG_TYPE_TRACEPOINT",
    "BPF_PROG_TYPE_XDP",
    "BPF_PROG_TYPE_PERF_EVENT",
    "BPF_PROG_TYPE_CGROUP_SKB",
    "BPF_PROG_TYPE_CGROUP_SOCK",
    "BPF_PROG_TYPE_LWT_IN",
    "BPF_PROG_TYPE_LWT_OUT",
    "BPF_PROG_TYPE_LWT_XMIT",
    "BPF_PROG_TYPE_SOCK_OPS",
    "BPF_PROG_TYPE_SK_SKB",
    "BPF_PROG_TYPE_CGROUP_DEVICE",
    "BPF_PROG_TYPE_SK_MSG",
    "BPF_PROG_TYPE_RAW_TRACEPOINT",
    "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
    "BPF_PROG_TYPE_LWT_SEG6LOCAL",
    "BPF_PROG_TYPE_LIRC_MODE2",
    "BPF_PROG_TYPE_SK_REUSEPORT",
    "BPF_PROG_TYPE_FLOW_DISSECTOR",
    "BPF_PROG_TYPE_CGROUP_SYSCTL",
    "BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE",
    "BPF_PROG_TYPE_CGROUP_SOCKOPT",
    "BPF_PROG_TYPE_TRACING",
    "BPF_PROG_TYPE_STRUCT_OPS",
    "BPF_PROG_TYPE_EXT",
    "BPF_PROG_TYPE_LSM",
    "BPF_PROG_TYPE_SK_LOOKUP",
    "BPF_PROG_TYPE_SYSCALL",
    "BPF_PROG_TYPE_NETFILTER",
  ]

  /// Whether the value is one this library knows by name.
  public var isKnown: Bool { rawValue < UInt32(Self.names.count) }

  /// One more than the largest value this library knows by name.
  public static var knownCount: UInt32 { UInt32(names.count) }

  /// The uapi constant's name, e.g. `BPF_PROG_TYPE_SOCKET_FILTER`, or the number when unknown.
  public var description: String { isKnown ? Self.names[Int(rawValue)] : "BPF_PROG_TYPE_(\(rawValue))" }
}
