// The kernel's attach types (`enum bpf_attach_type`), a fact of the kernel ABI (linux/bpf.h);
// map and program types are in KernelEnums.swift.

/// A BPF attach type (`enum bpf_attach_type`).
///
/// A thin wrapper over the kernel's `enum bpf_attach_type` value: the named constants are the values of the
/// 6.x uapi; other raw values can still be represented, and ``isKnown`` tells them apart.
public struct BPFAttachType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
  /// The kernel's numeric value.
  public var rawValue: UInt32
  /// Wraps a raw kernel value.
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  /// `BPF_CGROUP_INET_INGRESS`.
  public static let cgroupInetIngress = BPFAttachType(rawValue: 0)
  /// `BPF_CGROUP_INET_EGRESS`.
  public static let cgroupInetEgress = BPFAttachType(rawValue: 1)
  /// `BPF_CGROUP_INET_SOCK_CREATE`.
  public static let cgroupInetSockCreate = BPFAttachType(rawValue: 2)
  /// `BPF_CGROUP_SOCK_OPS`.
  public static let cgroupSockOps = BPFAttachType(rawValue: 3)
  /// `BPF_SK_SKB_STREAM_PARSER`.
  public static let skSKBStreamParser = BPFAttachType(rawValue: 4)
  /// `BPF_SK_SKB_STREAM_VERDICT`.
  public static let skSKBStreamVerdict = BPFAttachType(rawValue: 5)
  /// `BPF_CGROUP_DEVICE`.
  public static let cgroupDevice = BPFAttachType(rawValue: 6)
  /// `BPF_SK_MSG_VERDICT`.
  public static let skMsgVerdict = BPFAttachType(rawValue: 7)
  /// `BPF_CGROUP_INET4_BIND`.
  public static let cgroupInet4Bind = BPFAttachType(rawValue: 8)
  /// `BPF_CGROUP_INET6_BIND`.
  public static let cgroupInet6Bind = BPFAttachType(rawValue: 9)
  /// `BPF_CGROUP_INET4_CONNECT`.
  public static let cgroupInet4Connect = BPFAttachType(rawValue: 10)
  /// `BPF_CGROUP_INET6_CONNECT`.
  public static let cgroupInet6Connect = BPFAttachType(rawValue: 11)
  /// `BPF_CGROUP_INET4_POST_BIND`.
  public static let cgroupInet4PostBind = BPFAttachType(rawValue: 12)
  /// `BPF_CGROUP_INET6_POST_BIND`.
  public static let cgroupInet6PostBind = BPFAttachType(rawValue: 13)
  /// `BPF_CGROUP_UDP4_SENDMSG`.
  public static let cgroupUDP4SendMsg = BPFAttachType(rawValue: 14)
  /// `BPF_CGROUP_UDP6_SENDMSG`.
  public static let cgroupUDP6SendMsg = BPFAttachType(rawValue: 15)
  /// `BPF_LIRC_MODE2`.
  public static let lircMode2 = BPFAttachType(rawValue: 16)
  /// `BPF_FLOW_DISSECTOR`.
  public static let flowDissector = BPFAttachType(rawValue: 17)
  /// `BPF_CGROUP_SYSCTL`.
  public static let cgroupSysctl = BPFAttachType(rawValue: 18)
  /// `BPF_CGROUP_UDP4_RECVMSG`.
  public static let cgroupUDP4RecvMsg = BPFAttachType(rawValue: 19)
  /// `BPF_CGROUP_UDP6_RECVMSG`.
  public static let cgroupUDP6RecvMsg = BPFAttachType(rawValue: 20)
  /// `BPF_CGROUP_GETSOCKOPT`.
  public static let cgroupGetSockopt = BPFAttachType(rawValue: 21)
  /// `BPF_CGROUP_SETSOCKOPT`.
  public static let cgroupSetSockopt = BPFAttachType(rawValue: 22)
  /// `BPF_TRACE_RAW_TP`.
  public static let traceRawTP = BPFAttachType(rawValue: 23)
  /// `BPF_TRACE_FENTRY`.
  public static let traceFentry = BPFAttachType(rawValue: 24)
  /// `BPF_TRACE_FEXIT`.
  public static let traceFexit = BPFAttachType(rawValue: 25)
  /// `BPF_MODIFY_RETURN`.
  public static let modifyReturn = BPFAttachType(rawValue: 26)
  /// `BPF_LSM_MAC`.
  public static let lsmMAC = BPFAttachType(rawValue: 27)
  /// `BPF_TRACE_ITER`.
  public static let traceIterator = BPFAttachType(rawValue: 28)
  /// `BPF_CGROUP_INET4_GETPEERNAME`.
  public static let cgroupInet4GetPeerName = BPFAttachType(rawValue: 29)
  /// `BPF_CGROUP_INET6_GETPEERNAME`.
  public static let cgroupInet6GetPeerName = BPFAttachType(rawValue: 30)
  /// `BPF_CGROUP_INET4_GETSOCKNAME`.
  public static let cgroupInet4GetSockName = BPFAttachType(rawValue: 31)
  /// `BPF_CGROUP_INET6_GETSOCKNAME`.
  public static let cgroupInet6GetSockName = BPFAttachType(rawValue: 32)
  /// `BPF_XDP_DEVMAP`.
  public static let xdpDevMap = BPFAttachType(rawValue: 33)
  /// `BPF_CGROUP_INET_SOCK_RELEASE`.
  public static let cgroupInetSockRelease = BPFAttachType(rawValue: 34)
  /// `BPF_XDP_CPUMAP`.
  public static let xdpCPUMap = BPFAttachType(rawValue: 35)
  /// `BPF_SK_LOOKUP`.
  public static let skLookup = BPFAttachType(rawValue: 36)
  /// `BPF_XDP`.
  public static let xdp = BPFAttachType(rawValue: 37)
  /// `BPF_SK_SKB_VERDICT`.
  public static let skSKBVerdict = BPFAttachType(rawValue: 38)
  /// `BPF_SK_REUSEPORT_SELECT`.
  public static let skReuseportSelect = BPFAttachType(rawValue: 39)
  /// `BPF_SK_REUSEPORT_SELECT_OR_MIGRATE`.
  public static let skReuseportSelectOrMigrate = BPFAttachType(rawValue: 40)
  /// `BPF_PERF_EVENT`.
  public static let perfEvent = BPFAttachType(rawValue: 41)
  /// `BPF_TRACE_KPROBE_MULTI`.
  public static let traceKprobeMulti = BPFAttachType(rawValue: 42)
  /// `BPF_LSM_CGROUP`.
  public static let lsmCgroup = BPFAttachType(rawValue: 43)
  /// `BPF_STRUCT_OPS`.
  public static let structOps = BPFAttachType(rawValue: 44)
  /// `BPF_NETFILTER`.
  public static let netfilter = BPFAttachType(rawValue: 45)

  /// The uapi names, indexed by raw value.
  static let names: [String] = [
    "BPF_CGROUP_INET_INGRESS",
    "BPF_CGROUP_INET_EGRESS",
    "BPF_CGROUP_INET_SOCK_CREATE",
    "BPF_CGROUP_SOCK_OPS",
    "BPF_SK_SKB_STREAM_PARSER",
    "BPF_SK_SKB_STREAM_VERDICT",
    "BPF_CGROUP_DEVICE",
    "BPF_SK_MSG_VERDICT",
    "BPF_CGROUP_INET4_BIND",
    "BPF_CGROUP_INET6_BIND",
    "BPF_CGROUP_INET4_CONNECT",
    "BPF_CGROUP_INET6_CONNECT",
    "BPF_CGROUP_INET4_POST_BIND",
    "BPF_CGROUP_INET6_POST_BIND",
    "BPF_CGROUP_UDP4_SENDMSG",
    "BPF_CGROUP_UDP6_SENDMSG",
    "BPF_LIRC_MODE2",
    "BPF_FLOW_DISSECTOR",
    "BPF_CGROUP_SYSCTL",
    "BPF_CGROUP_UDP4_RECVMSG",
    "BPF_CGROUP_UDP6_RECVMSG",
    "BPF_CGROUP_GETSOCKOPT",
    "BPF_CGROUP_SETSOCKOPT",
    "BPF_TRACE_RAW_TP",
    "BPF_TRACE_FENTRY",
    "BPF_TRACE_FEXIT",
    "BPF_MODIFY_RETURN",
    "BPF_LSM_MAC",
    "BPF_TRACE_ITER",
    "BPF_CGROUP_INET4_GETPEERNAME",
    "BPF_CGROUP_INET6_GETPEERNAME",
    "BPF_CGROUP_INET4_GETSOCKNAME",
    "BPF_CGROUP_INET6_GETSOCKNAME",
    "BPF_XDP_DEVMAP",
    "BPF_CGROUP_INET_SOCK_RELEASE",
    "BPF_XDP_CPUMAP",
    "BPF_SK_LOOKUP",
    "BPF_XDP",
    "BPF_SK_SKB_VERDICT",
    "BPF_SK_REUSEPORT_SELECT",
    "BPF_SK_REUSEPORT_SELECT_OR_MIGRATE",
    "BPF_PERF_EVENT",
    "BPF_TRACE_KPROBE_MULTI",
    "BPF_LSM_CGROUP",
    "BPF_STRUCT_OPS",
    "BPF_NETFILTER",
  ]

  /// Whether the value is one this library knows by name.
  public var isKnown: Bool { rawValue < UInt32(Self.names.count) }

  /// The uapi constant's name, e.g. `BPF_CGROUP_INET_EGRESS`, or the number when unknown.
  public var description: String { isKnown ? Self.names[Int(rawValue)] : "BPF_(\(rawValue))" }
}
