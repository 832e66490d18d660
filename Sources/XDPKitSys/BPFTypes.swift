import CXDPKit

// The kernel's type enums as open Swift structs: a kernel newer than the headers can report
// values this library has no name for, so each type keeps its raw value and names the ones
// the uapi headers (Linux 6.1) define. The values come from the headers, never from literals.

/// A BPF map type: a value of `enum bpf_map_type`,
/// the `map_type` of BPF_MAP_CREATE and the `type` of `struct bpf_map_info`.
///
/// The description is the kernel's name ("BPF_MAP_TYPE_HASH"); a value the headers do not name
/// prints as "BPF_MAP_TYPE(<number>)".
public struct BPFMapType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  /// The value in `enum bpf_map_type`.
  public var rawValue: UInt32

  /// Creates a map type from its value in `enum bpf_map_type`.
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  init(_ value: bpf_map_type) { self.rawValue = value.rawValue }

  /// BPF_MAP_TYPE_UNSPEC.
  public static let unspecified = BPFMapType(BPF_MAP_TYPE_UNSPEC)
  /// BPF_MAP_TYPE_HASH.
  public static let hash = BPFMapType(BPF_MAP_TYPE_HASH)
  /// BPF_MAP_TYPE_ARRAY.
  public static let array = BPFMapType(BPF_MAP_TYPE_ARRAY)
  /// BPF_MAP_TYPE_PROG_ARRAY.
  public static let programArray = BPFMapType(BPF_MAP_TYPE_PROG_ARRAY)
  /// BPF_MAP_TYPE_PERF_EVENT_ARRAY.
  public static let perfEventArray = BPFMapType(BPF_MAP_TYPE_PERF_EVENT_ARRAY)
  /// BPF_MAP_TYPE_PERCPU_HASH.
  public static let perCPUHash = BPFMapType(BPF_MAP_TYPE_PERCPU_HASH)
  /// BPF_MAP_TYPE_PERCPU_ARRAY.
  public static let perCPUArray = BPFMapType(BPF_MAP_TYPE_PERCPU_ARRAY)
  /// BPF_MAP_TYPE_STACK_TRACE.
  public static let stackTrace = BPFMapType(BPF_MAP_TYPE_STACK_TRACE)
  /// BPF_MAP_TYPE_CGROUP_ARRAY.
  public static let cgroupArray = BPFMapType(BPF_MAP_TYPE_CGROUP_ARRAY)
  /// BPF_MAP_TYPE_LRU_HASH.
  public static let lruHash = BPFMapType(BPF_MAP_TYPE_LRU_HASH)
  /// BPF_MAP_TYPE_LRU_PERCPU_HASH.
  public static let lruPerCPUHash = BPFMapType(BPF_MAP_TYPE_LRU_PERCPU_HASH)
  /// BPF_MAP_TYPE_LPM_TRIE.
  public static let lpmTrie = BPFMapType(BPF_MAP_TYPE_LPM_TRIE)
  /// BPF_MAP_TYPE_ARRAY_OF_MAPS.
  public static let arrayOfMaps = BPFMapType(BPF_MAP_TYPE_ARRAY_OF_MAPS)
  /// BPF_MAP_TYPE_HASH_OF_MAPS.
  public static let hashOfMaps = BPFMapType(BPF_MAP_TYPE_HASH_OF_MAPS)
  /// BPF_MAP_TYPE_DEVMAP.
  public static let devMap = BPFMapType(BPF_MAP_TYPE_DEVMAP)
  /// BPF_MAP_TYPE_SOCKMAP.
  public static let sockMap = BPFMapType(BPF_MAP_TYPE_SOCKMAP)
  /// BPF_MAP_TYPE_CPUMAP.
  public static let cpuMap = BPFMapType(BPF_MAP_TYPE_CPUMAP)
  /// BPF_MAP_TYPE_XSKMAP.
  public static let xskMap = BPFMapType(BPF_MAP_TYPE_XSKMAP)
  /// BPF_MAP_TYPE_SOCKHASH.
  public static let sockHash = BPFMapType(BPF_MAP_TYPE_SOCKHASH)
  /// BPF_MAP_TYPE_CGROUP_STORAGE.
  public static let cgroupStorage = BPFMapType(BPF_MAP_TYPE_CGROUP_STORAGE)
  /// BPF_MAP_TYPE_REUSEPORT_SOCKARRAY.
  public static let reuseportSockArray = BPFMapType(BPF_MAP_TYPE_REUSEPORT_SOCKARRAY)
  /// BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE.
  public static let perCPUCgroupStorage = BPFMapType(BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE)
  /// BPF_MAP_TYPE_QUEUE.
  public static let queue = BPFMapType(BPF_MAP_TYPE_QUEUE)
  /// BPF_MAP_TYPE_STACK.
  public static let stack = BPFMapType(BPF_MAP_TYPE_STACK)
  /// BPF_MAP_TYPE_SK_STORAGE.
  public static let skStorage = BPFMapType(BPF_MAP_TYPE_SK_STORAGE)
  /// BPF_MAP_TYPE_DEVMAP_HASH.
  public static let devMapHash = BPFMapType(BPF_MAP_TYPE_DEVMAP_HASH)
  /// BPF_MAP_TYPE_STRUCT_OPS.
  public static let structOps = BPFMapType(BPF_MAP_TYPE_STRUCT_OPS)
  /// BPF_MAP_TYPE_RINGBUF.
  public static let ringBuffer = BPFMapType(BPF_MAP_TYPE_RINGBUF)
  /// BPF_MAP_TYPE_INODE_STORAGE.
  public static let inodeStorage = BPFMapType(BPF_MAP_TYPE_INODE_STORAGE)
  /// BPF_MAP_TYPE_TASK_STORAGE.
  public static let taskStorage = BPFMapType(BPF_MAP_TYPE_TASK_STORAGE)
  /// BPF_MAP_TYPE_BLOOM_FILTER.
  public static let bloomFilter = BPFMapType(BPF_MAP_TYPE_BLOOM_FILTER)
  /// BPF_MAP_TYPE_USER_RINGBUF.
  public static let userRingBuffer = BPFMapType(BPF_MAP_TYPE_USER_RINGBUF)

  /// Every map type the uapi headers name, in kernel order.
  public static let allKnown: [BPFMapType] = knownNames.map(\.0)

  /// The kernel's name, or `nil` for a value the headers do not name.
  public var kernelName: String? {
    Self.knownNames.first { $0.0 == self }?.1
  }

  public var description: String { kernelName ?? "BPF_MAP_TYPE(\(rawValue))" }

  private static let knownNames: [(BPFMapType, String)] = [
    (.unspecified, "BPF_MAP_TYPE_UNSPEC"),
    (.hash, "BPF_MAP_TYPE_HASH"),
    (.array, "BPF_MAP_TYPE_ARRAY"),
    (.programArray, "BPF_MAP_TYPE_PROG_ARRAY"),
    (.perfEventArray, "BPF_MAP_TYPE_PERF_EVENT_ARRAY"),
    (.perCPUHash, "BPF_MAP_TYPE_PERCPU_HASH"),
    (.perCPUArray, "BPF_MAP_TYPE_PERCPU_ARRAY"),
    (.stackTrace, "BPF_MAP_TYPE_STACK_TRACE"),
    (.cgroupArray, "BPF_MAP_TYPE_CGROUP_ARRAY"),
    (.lruHash, "BPF_MAP_TYPE_LRU_HASH"),
    (.lruPerCPUHash, "BPF_MAP_TYPE_LRU_PERCPU_HASH"),
    (.lpmTrie, "BPF_MAP_TYPE_LPM_TRIE"),
    (.arrayOfMaps, "BPF_MAP_TYPE_ARRAY_OF_MAPS"),
    (.hashOfMaps, "BPF_MAP_TYPE_HASH_OF_MAPS"),
    (.devMap, "BPF_MAP_TYPE_DEVMAP"),
    (.sockMap, "BPF_MAP_TYPE_SOCKMAP"),
    (.cpuMap, "BPF_MAP_TYPE_CPUMAP"),
    (.xskMap, "BPF_MAP_TYPE_XSKMAP"),
    (.sockHash, "BPF_MAP_TYPE_SOCKHASH"),
    (.cgroupStorage, "BPF_MAP_TYPE_CGROUP_STORAGE"),
    (.reuseportSockArray, "BPF_MAP_TYPE_REUSEPORT_SOCKARRAY"),
    (.perCPUCgroupStorage, "BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE"),
    (.queue, "BPF_MAP_TYPE_QUEUE"),
    (.stack, "BPF_MAP_TYPE_STACK"),
    (.skStorage, "BPF_MAP_TYPE_SK_STORAGE"),
    (.devMapHash, "BPF_MAP_TYPE_DEVMAP_HASH"),
    (.structOps, "BPF_MAP_TYPE_STRUCT_OPS"),
    (.ringBuffer, "BPF_MAP_TYPE_RINGBUF"),
    (.inodeStorage, "BPF_MAP_TYPE_INODE_STORAGE"),
    (.taskStorage, "BPF_MAP_TYPE_TASK_STORAGE"),
    (.bloomFilter, "BPF_MAP_TYPE_BLOOM_FILTER"),
    (.userRingBuffer, "BPF_MAP_TYPE_USER_RINGBUF"),
  ]
}

/// A BPF program type: a value of `enum bpf_prog_type`,
/// the `prog_type` of BPF_PROG_LOAD and the `type` of `struct bpf_prog_info`.
///
/// The description is the kernel's name ("BPF_PROG_TYPE_SOCKET_FILTER"); a value the headers do not name
/// prints as "BPF_PROG_TYPE(<number>)".
public struct BPFProgramType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  /// The value in `enum bpf_prog_type`.
  public var rawValue: UInt32

  /// Creates a program type from its value in `enum bpf_prog_type`.
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  init(_ value: bpf_prog_type) { self.rawValue = value.rawValue }

  /// BPF_PROG_TYPE_UNSPEC.
  public static let unspecified = BPFProgramType(BPF_PROG_TYPE_UNSPEC)
  /// BPF_PROG_TYPE_SOCKET_FILTER.
  public static let socketFilter = BPFProgramType(BPF_PROG_TYPE_SOCKET_FILTER)
  /// BPF_PROG_TYPE_KPROBE.
  public static let kprobe = BPFProgramType(BPF_PROG_TYPE_KPROBE)
  /// BPF_PROG_TYPE_SCHED_CLS.
  public static let schedClassifier = BPFProgramType(BPF_PROG_TYPE_SCHED_CLS)
  /// BPF_PROG_TYPE_SCHED_ACT.
  public static let schedAction = BPFProgramType(BPF_PROG_TYPE_SCHED_ACT)
  /// BPF_PROG_TYPE_TRACEPOINT.
  public static let tracepoint = BPFProgramType(BPF_PROG_TYPE_TRACEPOINT)
  /// BPF_PROG_TYPE_XDP.
  public static let xdp = BPFProgramType(BPF_PROG_TYPE_XDP)
  /// BPF_PROG_TYPE_PERF_EVENT.
  public static let perfEvent = BPFProgramType(BPF_PROG_TYPE_PERF_EVENT)
  /// BPF_PROG_TYPE_CGROUP_SKB.
  public static let cgroupSKB = BPFProgramType(BPF_PROG_TYPE_CGROUP_SKB)
  /// BPF_PROG_TYPE_CGROUP_SOCK.
  public static let cgroupSock = BPFProgramType(BPF_PROG_TYPE_CGROUP_SOCK)
  /// BPF_PROG_TYPE_LWT_IN.
  public static let lwtIn = BPFProgramType(BPF_PROG_TYPE_LWT_IN)
  /// BPF_PROG_TYPE_LWT_OUT.
  public static let lwtOut = BPFProgramType(BPF_PROG_TYPE_LWT_OUT)
  /// BPF_PROG_TYPE_LWT_XMIT.
  public static let lwtXmit = BPFProgramType(BPF_PROG_TYPE_LWT_XMIT)
  /// BPF_PROG_TYPE_SOCK_OPS.
  public static let sockOps = BPFProgramType(BPF_PROG_TYPE_SOCK_OPS)
  /// BPF_PROG_TYPE_SK_SKB.
  public static let skSKB = BPFProgramType(BPF_PROG_TYPE_SK_SKB)
  /// BPF_PROG_TYPE_CGROUP_DEVICE.
  public static let cgroupDevice = BPFProgramType(BPF_PROG_TYPE_CGROUP_DEVICE)
  /// BPF_PROG_TYPE_SK_MSG.
  public static let skMsg = BPFProgramType(BPF_PROG_TYPE_SK_MSG)
  /// BPF_PROG_TYPE_RAW_TRACEPOINT.
  public static let rawTracepoint = BPFProgramType(BPF_PROG_TYPE_RAW_TRACEPOINT)
  /// BPF_PROG_TYPE_CGROUP_SOCK_ADDR.
  public static let cgroupSockAddr = BPFProgramType(BPF_PROG_TYPE_CGROUP_SOCK_ADDR)
  /// BPF_PROG_TYPE_LWT_SEG6LOCAL.
  public static let lwtSeg6Local = BPFProgramType(BPF_PROG_TYPE_LWT_SEG6LOCAL)
  /// BPF_PROG_TYPE_LIRC_MODE2.
  public static let lircMode2 = BPFProgramType(BPF_PROG_TYPE_LIRC_MODE2)
  /// BPF_PROG_TYPE_SK_REUSEPORT.
  public static let skReuseport = BPFProgramType(BPF_PROG_TYPE_SK_REUSEPORT)
  /// BPF_PROG_TYPE_FLOW_DISSECTOR.
  public static let flowDissector = BPFProgramType(BPF_PROG_TYPE_FLOW_DISSECTOR)
  /// BPF_PROG_TYPE_CGROUP_SYSCTL.
  public static let cgroupSysctl = BPFProgramType(BPF_PROG_TYPE_CGROUP_SYSCTL)
  /// BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE.
  public static let rawTracepointWritable = BPFProgramType(BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE)
  /// BPF_PROG_TYPE_CGROUP_SOCKOPT.
  public static let cgroupSockopt = BPFProgramType(BPF_PROG_TYPE_CGROUP_SOCKOPT)
  /// BPF_PROG_TYPE_TRACING.
  public static let tracing = BPFProgramType(BPF_PROG_TYPE_TRACING)
  /// BPF_PROG_TYPE_STRUCT_OPS.
  public static let structOps = BPFProgramType(BPF_PROG_TYPE_STRUCT_OPS)
  /// BPF_PROG_TYPE_EXT.
  public static let ext = BPFProgramType(BPF_PROG_TYPE_EXT)
  /// BPF_PROG_TYPE_LSM.
  public static let lsm = BPFProgramType(BPF_PROG_TYPE_LSM)
  /// BPF_PROG_TYPE_SK_LOOKUP.
  public static let skLookup = BPFProgramType(BPF_PROG_TYPE_SK_LOOKUP)
  /// BPF_PROG_TYPE_SYSCALL.
  public static let syscall = BPFProgramType(BPF_PROG_TYPE_SYSCALL)

  /// Every program type the uapi headers name, in kernel order.
  public static let allKnown: [BPFProgramType] = knownNames.map(\.0)

  /// The kernel's name, or `nil` for a value the headers do not name.
  public var kernelName: String? {
    Self.knownNames.first { $0.0 == self }?.1
  }

  public var description: String { kernelName ?? "BPF_PROG_TYPE(\(rawValue))" }

  private static let knownNames: [(BPFProgramType, String)] = [
    (.unspecified, "BPF_PROG_TYPE_UNSPEC"),
    (.socketFilter, "BPF_PROG_TYPE_SOCKET_FILTER"),
    (.kprobe, "BPF_PROG_TYPE_KPROBE"),
    (.schedClassifier, "BPF_PROG_TYPE_SCHED_CLS"),
    (.schedAction, "BPF_PROG_TYPE_SCHED_ACT"),
    (.tracepoint, "BPF_PROG_TYPE_TRACEPOINT"),
    (.xdp, "BPF_PROG_TYPE_XDP"),
    (.perfEvent, "BPF_PROG_TYPE_PERF_EVENT"),
    (.cgroupSKB, "BPF_PROG_TYPE_CGROUP_SKB"),
    (.cgroupSock, "BPF_PROG_TYPE_CGROUP_SOCK"),
    (.lwtIn, "BPF_PROG_TYPE_LWT_IN"),
    (.lwtOut, "BPF_PROG_TYPE_LWT_OUT"),
    (.lwtXmit, "BPF_PROG_TYPE_LWT_XMIT"),
    (.sockOps, "BPF_PROG_TYPE_SOCK_OPS"),
    (.skSKB, "BPF_PROG_TYPE_SK_SKB"),
    (.cgroupDevice, "BPF_PROG_TYPE_CGROUP_DEVICE"),
    (.skMsg, "BPF_PROG_TYPE_SK_MSG"),
    (.rawTracepoint, "BPF_PROG_TYPE_RAW_TRACEPOINT"),
    (.cgroupSockAddr, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR"),
    (.lwtSeg6Local, "BPF_PROG_TYPE_LWT_SEG6LOCAL"),
    (.lircMode2, "BPF_PROG_TYPE_LIRC_MODE2"),
    (.skReuseport, "BPF_PROG_TYPE_SK_REUSEPORT"),
    (.flowDissector, "BPF_PROG_TYPE_FLOW_DISSECTOR"),
    (.cgroupSysctl, "BPF_PROG_TYPE_CGROUP_SYSCTL"),
    (.rawTracepointWritable, "BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE"),
    (.cgroupSockopt, "BPF_PROG_TYPE_CGROUP_SOCKOPT"),
    (.tracing, "BPF_PROG_TYPE_TRACING"),
    (.structOps, "BPF_PROG_TYPE_STRUCT_OPS"),
    (.ext, "BPF_PROG_TYPE_EXT"),
    (.lsm, "BPF_PROG_TYPE_LSM"),
    (.skLookup, "BPF_PROG_TYPE_SK_LOOKUP"),
    (.syscall, "BPF_PROG_TYPE_SYSCALL"),
  ]
}

/// A BPF attach type: a value of `enum bpf_attach_type`,
/// the `expected_attach_type` of BPF_PROG_LOAD and the `attach_type` of BPF_LINK_CREATE.
///
/// The description is the kernel's name ("BPF_CGROUP_INET_EGRESS"); a value the headers do not name
/// prints as "BPF_ATTACH_TYPE(<number>)".
public struct BPFAttachType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  /// The value in `enum bpf_attach_type`.
  public var rawValue: UInt32

  /// Creates a attach type from its value in `enum bpf_attach_type`.
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  init(_ value: bpf_attach_type) { self.rawValue = value.rawValue }

  /// BPF_CGROUP_INET_INGRESS.
  public static let cgroupInetIngress = BPFAttachType(BPF_CGROUP_INET_INGRESS)
  /// BPF_CGROUP_INET_EGRESS.
  public static let cgroupInetEgress = BPFAttachType(BPF_CGROUP_INET_EGRESS)
  /// BPF_CGROUP_INET_SOCK_CREATE.
  public static let cgroupInetSockCreate = BPFAttachType(BPF_CGROUP_INET_SOCK_CREATE)
  /// BPF_CGROUP_SOCK_OPS.
  public static let cgroupSockOps = BPFAttachType(BPF_CGROUP_SOCK_OPS)
  /// BPF_SK_SKB_STREAM_PARSER.
  public static let skSKBStreamParser = BPFAttachType(BPF_SK_SKB_STREAM_PARSER)
  /// BPF_SK_SKB_STREAM_VERDICT.
  public static let skSKBStreamVerdict = BPFAttachType(BPF_SK_SKB_STREAM_VERDICT)
  /// BPF_CGROUP_DEVICE.
  public static let cgroupDevice = BPFAttachType(BPF_CGROUP_DEVICE)
  /// BPF_SK_MSG_VERDICT.
  public static let skMsgVerdict = BPFAttachType(BPF_SK_MSG_VERDICT)
  /// BPF_CGROUP_INET4_BIND.
  public static let cgroupInet4Bind = BPFAttachType(BPF_CGROUP_INET4_BIND)
  /// BPF_CGROUP_INET6_BIND.
  public static let cgroupInet6Bind = BPFAttachType(BPF_CGROUP_INET6_BIND)
  /// BPF_CGROUP_INET4_CONNECT.
  public static let cgroupInet4Connect = BPFAttachType(BPF_CGROUP_INET4_CONNECT)
  /// BPF_CGROUP_INET6_CONNECT.
  public static let cgroupInet6Connect = BPFAttachType(BPF_CGROUP_INET6_CONNECT)
  /// BPF_CGROUP_INET4_POST_BIND.
  public static let cgroupInet4PostBind = BPFAttachType(BPF_CGROUP_INET4_POST_BIND)
  /// BPF_CGROUP_INET6_POST_BIND.
  public static let cgroupInet6PostBind = BPFAttachType(BPF_CGROUP_INET6_POST_BIND)
  /// BPF_CGROUP_UDP4_SENDMSG.
  public static let cgroupUDP4SendMsg = BPFAttachType(BPF_CGROUP_UDP4_SENDMSG)
  /// BPF_CGROUP_UDP6_SENDMSG.
  public static let cgroupUDP6SendMsg = BPFAttachType(BPF_CGROUP_UDP6_SENDMSG)
  /// BPF_LIRC_MODE2.
  public static let lircMode2 = BPFAttachType(BPF_LIRC_MODE2)
  /// BPF_FLOW_DISSECTOR.
  public static let flowDissector = BPFAttachType(BPF_FLOW_DISSECTOR)
  /// BPF_CGROUP_SYSCTL.
  public static let cgroupSysctl = BPFAttachType(BPF_CGROUP_SYSCTL)
  /// BPF_CGROUP_UDP4_RECVMSG.
  public static let cgroupUDP4RecvMsg = BPFAttachType(BPF_CGROUP_UDP4_RECVMSG)
  /// BPF_CGROUP_UDP6_RECVMSG.
  public static let cgroupUDP6RecvMsg = BPFAttachType(BPF_CGROUP_UDP6_RECVMSG)
  /// BPF_CGROUP_GETSOCKOPT.
  public static let cgroupGetSockopt = BPFAttachType(BPF_CGROUP_GETSOCKOPT)
  /// BPF_CGROUP_SETSOCKOPT.
  public static let cgroupSetSockopt = BPFAttachType(BPF_CGROUP_SETSOCKOPT)
  /// BPF_TRACE_RAW_TP.
  public static let traceRawTP = BPFAttachType(BPF_TRACE_RAW_TP)
  /// BPF_TRACE_FENTRY.
  public static let traceFentry = BPFAttachType(BPF_TRACE_FENTRY)
  /// BPF_TRACE_FEXIT.
  public static let traceFexit = BPFAttachType(BPF_TRACE_FEXIT)
  /// BPF_MODIFY_RETURN.
  public static let modifyReturn = BPFAttachType(BPF_MODIFY_RETURN)
  /// BPF_LSM_MAC.
  public static let lsmMAC = BPFAttachType(BPF_LSM_MAC)
  /// BPF_TRACE_ITER.
  public static let traceIterator = BPFAttachType(BPF_TRACE_ITER)
  /// BPF_CGROUP_INET4_GETPEERNAME.
  public static let cgroupInet4GetPeerName = BPFAttachType(BPF_CGROUP_INET4_GETPEERNAME)
  /// BPF_CGROUP_INET6_GETPEERNAME.
  public static let cgroupInet6GetPeerName = BPFAttachType(BPF_CGROUP_INET6_GETPEERNAME)
  /// BPF_CGROUP_INET4_GETSOCKNAME.
  public static let cgroupInet4GetSockName = BPFAttachType(BPF_CGROUP_INET4_GETSOCKNAME)
  /// BPF_CGROUP_INET6_GETSOCKNAME.
  public static let cgroupInet6GetSockName = BPFAttachType(BPF_CGROUP_INET6_GETSOCKNAME)
  /// BPF_XDP_DEVMAP.
  public static let xdpDevMap = BPFAttachType(BPF_XDP_DEVMAP)
  /// BPF_CGROUP_INET_SOCK_RELEASE.
  public static let cgroupInetSockRelease = BPFAttachType(BPF_CGROUP_INET_SOCK_RELEASE)
  /// BPF_XDP_CPUMAP.
  public static let xdpCPUMap = BPFAttachType(BPF_XDP_CPUMAP)
  /// BPF_SK_LOOKUP.
  public static let skLookup = BPFAttachType(BPF_SK_LOOKUP)
  /// BPF_XDP.
  public static let xdp = BPFAttachType(BPF_XDP)
  /// BPF_SK_SKB_VERDICT.
  public static let skSKBVerdict = BPFAttachType(BPF_SK_SKB_VERDICT)
  /// BPF_SK_REUSEPORT_SELECT.
  public static let skReuseportSelect = BPFAttachType(BPF_SK_REUSEPORT_SELECT)
  /// BPF_SK_REUSEPORT_SELECT_OR_MIGRATE.
  public static let skReuseportSelectOrMigrate = BPFAttachType(BPF_SK_REUSEPORT_SELECT_OR_MIGRATE)
  /// BPF_PERF_EVENT.
  public static let perfEvent = BPFAttachType(BPF_PERF_EVENT)
  /// BPF_TRACE_KPROBE_MULTI.
  public static let traceKprobeMulti = BPFAttachType(BPF_TRACE_KPROBE_MULTI)
  /// BPF_LSM_CGROUP.
  public static let lsmCgroup = BPFAttachType(BPF_LSM_CGROUP)

  /// Every attach type the uapi headers name, in kernel order.
  public static let allKnown: [BPFAttachType] = knownNames.map(\.0)

  /// The kernel's name, or `nil` for a value the headers do not name.
  public var kernelName: String? {
    Self.knownNames.first { $0.0 == self }?.1
  }

  public var description: String { kernelName ?? "BPF_ATTACH_TYPE(\(rawValue))" }

  private static let knownNames: [(BPFAttachType, String)] = [
    (.cgroupInetIngress, "BPF_CGROUP_INET_INGRESS"),
    (.cgroupInetEgress, "BPF_CGROUP_INET_EGRESS"),
    (.cgroupInetSockCreate, "BPF_CGROUP_INET_SOCK_CREATE"),
    (.cgroupSockOps, "BPF_CGROUP_SOCK_OPS"),
    (.skSKBStreamParser, "BPF_SK_SKB_STREAM_PARSER"),
    (.skSKBStreamVerdict, "BPF_SK_SKB_STREAM_VERDICT"),
    (.cgroupDevice, "BPF_CGROUP_DEVICE"),
    (.skMsgVerdict, "BPF_SK_MSG_VERDICT"),
    (.cgroupInet4Bind, "BPF_CGROUP_INET4_BIND"),
    (.cgroupInet6Bind, "BPF_CGROUP_INET6_BIND"),
    (.cgroupInet4Connect, "BPF_CGROUP_INET4_CONNECT"),
    (.cgroupInet6Connect, "BPF_CGROUP_INET6_CONNECT"),
    (.cgroupInet4PostBind, "BPF_CGROUP_INET4_POST_BIND"),
    (.cgroupInet6PostBind, "BPF_CGROUP_INET6_POST_BIND"),
    (.cgroupUDP4SendMsg, "BPF_CGROUP_UDP4_SENDMSG"),
    (.cgroupUDP6SendMsg, "BPF_CGROUP_UDP6_SENDMSG"),
    (.lircMode2, "BPF_LIRC_MODE2"),
    (.flowDissector, "BPF_FLOW_DISSECTOR"),
    (.cgroupSysctl, "BPF_CGROUP_SYSCTL"),
    (.cgroupUDP4RecvMsg, "BPF_CGROUP_UDP4_RECVMSG"),
    (.cgroupUDP6RecvMsg, "BPF_CGROUP_UDP6_RECVMSG"),
    (.cgroupGetSockopt, "BPF_CGROUP_GETSOCKOPT"),
    (.cgroupSetSockopt, "BPF_CGROUP_SETSOCKOPT"),
    (.traceRawTP, "BPF_TRACE_RAW_TP"),
    (.traceFentry, "BPF_TRACE_FENTRY"),
    (.traceFexit, "BPF_TRACE_FEXIT"),
    (.modifyReturn, "BPF_MODIFY_RETURN"),
    (.lsmMAC, "BPF_LSM_MAC"),
    (.traceIterator, "BPF_TRACE_ITER"),
    (.cgroupInet4GetPeerName, "BPF_CGROUP_INET4_GETPEERNAME"),
    (.cgroupInet6GetPeerName, "BPF_CGROUP_INET6_GETPEERNAME"),
    (.cgroupInet4GetSockName, "BPF_CGROUP_INET4_GETSOCKNAME"),
    (.cgroupInet6GetSockName, "BPF_CGROUP_INET6_GETSOCKNAME"),
    (.xdpDevMap, "BPF_XDP_DEVMAP"),
    (.cgroupInetSockRelease, "BPF_CGROUP_INET_SOCK_RELEASE"),
    (.xdpCPUMap, "BPF_XDP_CPUMAP"),
    (.skLookup, "BPF_SK_LOOKUP"),
    (.xdp, "BPF_XDP"),
    (.skSKBVerdict, "BPF_SK_SKB_VERDICT"),
    (.skReuseportSelect, "BPF_SK_REUSEPORT_SELECT"),
    (.skReuseportSelectOrMigrate, "BPF_SK_REUSEPORT_SELECT_OR_MIGRATE"),
    (.perfEvent, "BPF_PERF_EVENT"),
    (.traceKprobeMulti, "BPF_TRACE_KPROBE_MULTI"),
    (.lsmCgroup, "BPF_LSM_CGROUP"),
  ]
}

/// A BPF link type: a value of `enum bpf_link_type`,
/// the `type` of `struct bpf_link_info`.
///
/// The description is the kernel's name ("BPF_LINK_TYPE_RAW_TRACEPOINT"); a value the headers do not name
/// prints as "BPF_LINK_TYPE(<number>)".
public struct BPFLinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  /// The value in `enum bpf_link_type`.
  public var rawValue: UInt32

  /// Creates a link type from its value in `enum bpf_link_type`.
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  init(_ value: bpf_link_type) { self.rawValue = value.rawValue }

  /// BPF_LINK_TYPE_UNSPEC.
  public static let unspecified = BPFLinkType(BPF_LINK_TYPE_UNSPEC)
  /// BPF_LINK_TYPE_RAW_TRACEPOINT.
  public static let rawTracepoint = BPFLinkType(BPF_LINK_TYPE_RAW_TRACEPOINT)
  /// BPF_LINK_TYPE_TRACING.
  public static let tracing = BPFLinkType(BPF_LINK_TYPE_TRACING)
  /// BPF_LINK_TYPE_CGROUP.
  public static let cgroup = BPFLinkType(BPF_LINK_TYPE_CGROUP)
  /// BPF_LINK_TYPE_ITER.
  public static let iterator = BPFLinkType(BPF_LINK_TYPE_ITER)
  /// BPF_LINK_TYPE_NETNS.
  public static let netNS = BPFLinkType(BPF_LINK_TYPE_NETNS)
  /// BPF_LINK_TYPE_XDP.
  public static let xdp = BPFLinkType(BPF_LINK_TYPE_XDP)
  /// BPF_LINK_TYPE_PERF_EVENT.
  public static let perfEvent = BPFLinkType(BPF_LINK_TYPE_PERF_EVENT)
  /// BPF_LINK_TYPE_KPROBE_MULTI.
  public static let kprobeMulti = BPFLinkType(BPF_LINK_TYPE_KPROBE_MULTI)
  /// BPF_LINK_TYPE_STRUCT_OPS.
  public static let structOps = BPFLinkType(BPF_LINK_TYPE_STRUCT_OPS)

  /// Every link type the uapi headers name, in kernel order.
  public static let allKnown: [BPFLinkType] = knownNames.map(\.0)

  /// The kernel's name, or `nil` for a value the headers do not name.
  public var kernelName: String? {
    Self.knownNames.first { $0.0 == self }?.1
  }

  public var description: String { kernelName ?? "BPF_LINK_TYPE(\(rawValue))" }

  private static let knownNames: [(BPFLinkType, String)] = [
    (.unspecified, "BPF_LINK_TYPE_UNSPEC"),
    (.rawTracepoint, "BPF_LINK_TYPE_RAW_TRACEPOINT"),
    (.tracing, "BPF_LINK_TYPE_TRACING"),
    (.cgroup, "BPF_LINK_TYPE_CGROUP"),
    (.iterator, "BPF_LINK_TYPE_ITER"),
    (.netNS, "BPF_LINK_TYPE_NETNS"),
    (.xdp, "BPF_LINK_TYPE_XDP"),
    (.perfEvent, "BPF_LINK_TYPE_PERF_EVENT"),
    (.kprobeMulti, "BPF_LINK_TYPE_KPROBE_MULTI"),
    (.structOps, "BPF_LINK_TYPE_STRUCT_OPS"),
  ]
}
