import CXDPKit
import Glibc
import SystemPackage
import Testing
import XDPKitObject

@testable import XDPKitSys

// Tests of the syscall layer that need no kernel: constants against the uapi headers, the
// retry rules (driven by fake calls, since a real kernel does not fail on demand), parsers.

@Suite("bpf(2) layer without the kernel")
struct BPFSyscallTests {
  @Test("every command has its uapi value and name")
  func commands() {
    let expected: [(BPFCommand, bpf_cmd, String)] = [
      (.mapCreate, BPF_MAP_CREATE, "BPF_MAP_CREATE"),
      (.mapLookupElement, BPF_MAP_LOOKUP_ELEM, "BPF_MAP_LOOKUP_ELEM"),
      (.mapUpdateElement, BPF_MAP_UPDATE_ELEM, "BPF_MAP_UPDATE_ELEM"),
      (.programLoad, BPF_PROG_LOAD, "BPF_PROG_LOAD"),
      (.objectGetInfoByFD, BPF_OBJ_GET_INFO_BY_FD, "BPF_OBJ_GET_INFO_BY_FD"),
      (.mapLookupAndDeleteBatch, BPF_MAP_LOOKUP_AND_DELETE_BATCH, "BPF_MAP_LOOKUP_AND_DELETE_BATCH"),
      (.linkDetach, BPF_LINK_DETACH, "BPF_LINK_DETACH"),
      (.programBindMap, BPF_PROG_BIND_MAP, "BPF_PROG_BIND_MAP"),
    ]
    for (command, uapi, name) in expected {
      #expect(command.rawValue == uapi.rawValue)
      #expect(command.description == name)
    }
    // The enum covers bpf_cmd from 0 to BPF_PROG_BIND_MAP without gaps or repeats.
    #expect(BPFCommand.allCases.map(\.rawValue) == Array(0...BPF_PROG_BIND_MAP.rawValue))
    for command in BPFCommand.allCases {
      #expect(BPFCommand(rawValue: command.rawValue) == command)
      #expect(command.description.hasPrefix("BPF_"))
    }
    #expect(BPFCommand(rawValue: 10_000) == nil)
    let error = SyscallError(command: .mapCreate, errno: .notPermitted)
    #expect("\(error)".hasPrefix("BPF_MAP_CREATE failed"))
  }

  @Test("map, program, attach and link types match the uapi enums")
  func typeValues() {
    for (type, raw, name) in Self.mapTypes {
      #expect(type.rawValue == raw, "\(name)")
      #expect(type.description == name)
    }
    for (type, raw, name) in Self.programTypes {
      #expect(type.rawValue == raw, "\(name)")
      #expect(type.description == name)
    }
    for (type, raw, name) in Self.attachTypes {
      #expect(type.rawValue == raw, "\(name)")
      #expect(type.description == name)
    }
    for (type, raw, name) in Self.linkTypes {
      #expect(type.rawValue == raw, "\(name)")
      #expect(type.description == name)
    }
    #expect(BPFLinkType.allKnown.count == Int(MAX_BPF_LINK_TYPE.rawValue))
    #expect(BPFLinkType(rawValue: 999).description == "BPF_LINK_TYPE(999)")
    #expect(BPFLinkType(rawValue: 999).kernelName == nil)
  }

  @Test("EINTR is retried without limit, EAGAIN only as often as allowed")
  func retryRules() throws {
    var calls = 0
    let interrupted = BPF.retrying(.mapCreate, againRetries: 0) {
      calls += 1
      if calls < 4 {
        Glibc.errno = EINTR
        return -1
      }
      return 7
    }
    #expect(try interrupted.get() == 7)
    #expect(calls == 4)

    calls = 0
    let again = BPF.retrying(.programLoad, againRetries: BPF.againRetryLimit) {
      calls += 1
      Glibc.errno = EAGAIN
      return -1
    }
    #expect(calls == BPF.againRetryLimit + 1)
    #expect(again.errno == .resourceTemporarilyUnavailable)
    #expect(again.error?.command == .programLoad)

    calls = 0
    let noRetry = BPF.retrying(.mapLookupElement, againRetries: 0) {
      calls += 1
      Glibc.errno = EAGAIN
      return -1
    }
    #expect(calls == 1)
    #expect(noRetry.errno == .resourceTemporarilyUnavailable)

    calls = 0
    let other = BPF.retrying(.mapLookupElement, againRetries: 5) {
      calls += 1
      Glibc.errno = ENOENT
      return -1
    }
    #expect(calls == 1)
    #expect(other.errno == .noSuchFileOrDirectory)
  }

  @Test("object names: at most 15 bytes and a NUL")
  func objectNames() {
    var tuple = bpf_attr().map_name
    BPF.encodeObjectName("exactly_fifteen", into: &tuple)
    #expect(BPF.decodeObjectName(tuple) == "exactly_fifteen")
    BPF.encodeObjectName("a_name_that_is_far_too_long", into: &tuple)
    #expect(BPF.decodeObjectName(tuple) == "a_name_that_is_")
    withUnsafeBytes(of: tuple) { #expect($0.last == 0) }
    BPF.encodeObjectName("", into: &tuple)
    #expect(BPF.decodeObjectName(tuple) == "")
    withUnsafeBytes(of: tuple) { #expect($0.allSatisfy { $0 == 0 }) }
    #expect(BPF.maximumObjectNameLength == 15)
  }

  @Test("union bpf_attr as Swift imports it has the kernel's layout")
  func attributeLayout() {
    #expect(BPF.attributeSize == cxdpkit_bpf_attr_size())
    // ABI facts: log_true_size follows core_relo_rec_size (PROG_LOAD), btf_log_true_size
    // follows btf_log_level (BTF_LOAD).
    #expect(cxdpkit_bpf_prog_load_log_true_size_offset() == 140)
    #expect(cxdpkit_bpf_btf_load_log_true_size_offset() == 28)
    var attr = bpf_attr()
    attr.core_relo_rec_size = 0xAABB_CCDD
    #expect(BPFAttributeBytes.loadUInt32(attr, at: 136) == 0xAABB_CCDD)
    var withTest = bpf_attr()
    withTest.test.batch_size = 0x1122_3344
    #expect(BPFAttributeBytes.loadUInt32(withTest, at: 72) == 0x1122_3344)
    // Setting a member in place leaves the rest of the zeroed union zero.
    withUnsafeBytes(of: withTest) { bytes in
      #expect(bytes[76...].allSatisfy { $0 == 0 })
      #expect(bytes[..<72].allSatisfy { $0 == 0 })
    }
  }

  @Test("possible CPU lists", arguments: [
    ("0", 1), ("0\n", 1), ("0-3", 4), ("0-3\n", 4), ("0-3,5-7\n", 8), ("0,2", 3), ("0-127", 128),
    ("4-4", 5),
  ])
  func cpuLists(text: String, count: Int) throws {
    #expect(try SystemInfo.cpuCount(fromList: text) == count)
  }

  @Test("malformed CPU lists throw", arguments: ["", "\n", "a", "3-1", "0-", "-1", "0--1", "1,,2", "0-3,", " 1", "0x1"])
  func malformedCPULists(text: String) {
    let error = #expect(throws: SystemInfoError.self) { _ = try SystemInfo.cpuCount(fromList: text) }
    #expect(error == .malformedCPUList(path: SystemInfo.possibleCPUsPath, content: text))
  }

  @Test("this machine's possible CPUs")
  func possibleCPUs() throws {
    let count = try SystemInfo.possibleCPUCount()
    #expect(count >= 1)
    #expect(try SystemInfo.possibleCPUCount() == count)
    let text = String(decoding: try SystemInfo.readSmallFile(SystemInfo.possibleCPUsPath), as: UTF8.self)
    #expect(try SystemInfo.cpuCount(fromList: text) == count)
    #expect(count >= sysconf(Int32(_SC_NPROCESSORS_ONLN)))
  }

  @Test("kernel versions from release strings")
  func kernelVersions() {
    #expect(KernelVersion(release: "6.18.44-fc-v595") == KernelVersion(major: 6, minor: 18, patch: 44))
    #expect(KernelVersion(release: "5.10") == KernelVersion(major: 5, minor: 10, patch: 0))
    #expect(KernelVersion(release: "6.1.0-rc1") == KernelVersion(major: 6, minor: 1, patch: 0))
    #expect(KernelVersion(release: "4.19.0+") == KernelVersion(major: 4, minor: 19, patch: 0))
    #expect(KernelVersion(release: "6") == nil)
    #expect(KernelVersion(release: "linux") == nil)
    #expect(KernelVersion(release: "") == nil)
    #expect(KernelVersion(major: 5, minor: 11) > KernelVersion(major: 5, minor: 10, patch: 200))
    #expect(KernelVersion(major: 6, minor: 4) < KernelVersion(major: 6, minor: 18))
    #expect(SystemInfo.kernelVersion() != nil)
    #expect(!SystemInfo.kernelRelease().isEmpty)
  }

  @Test("load errors print the command, errno and log")
  func errorDescriptions() {
    let syscall = SyscallError(command: .programLoad, errno: .permissionDenied)
    let error = ProgramLoadError(syscall: syscall, verifierLog: "0: (95) exit\nR0 !read_ok\n")
    #expect("\(error)".contains("BPF_PROG_LOAD failed"))
    #expect("\(error)".contains("R0 !read_ok"))
    #expect("\(ProgramLoadError(syscall: syscall, verifierLog: ""))" == "\(syscall)")
    let batch = MapBatchError(syscall: SyscallError(command: .mapDeleteBatch, errno: .noSuchFileOrDirectory), processedCount: 3)
    #expect("\(batch)".contains("after 3 elements"))
  }

  static let mapTypes: [(BPFMapType, UInt32, String)] = [
    (.unspecified, BPF_MAP_TYPE_UNSPEC.rawValue, "BPF_MAP_TYPE_UNSPEC"),
    (.hash, BPF_MAP_TYPE_HASH.rawValue, "BPF_MAP_TYPE_HASH"),
    (.array, BPF_MAP_TYPE_ARRAY.rawValue, "BPF_MAP_TYPE_ARRAY"),
    (.programArray, BPF_MAP_TYPE_PROG_ARRAY.rawValue, "BPF_MAP_TYPE_PROG_ARRAY"),
    (.perfEventArray, BPF_MAP_TYPE_PERF_EVENT_ARRAY.rawValue, "BPF_MAP_TYPE_PERF_EVENT_ARRAY"),
    (.perCPUHash, BPF_MAP_TYPE_PERCPU_HASH.rawValue, "BPF_MAP_TYPE_PERCPU_HASH"),
    (.perCPUArray, BPF_MAP_TYPE_PERCPU_ARRAY.rawValue, "BPF_MAP_TYPE_PERCPU_ARRAY"),
    (.stackTrace, BPF_MAP_TYPE_STACK_TRACE.rawValue, "BPF_MAP_TYPE_STACK_TRACE"),
    (.cgroupArray, BPF_MAP_TYPE_CGROUP_ARRAY.rawValue, "BPF_MAP_TYPE_CGROUP_ARRAY"),
    (.lruHash, BPF_MAP_TYPE_LRU_HASH.rawValue, "BPF_MAP_TYPE_LRU_HASH"),
    (.lruPerCPUHash, BPF_MAP_TYPE_LRU_PERCPU_HASH.rawValue, "BPF_MAP_TYPE_LRU_PERCPU_HASH"),
    (.lpmTrie, BPF_MAP_TYPE_LPM_TRIE.rawValue, "BPF_MAP_TYPE_LPM_TRIE"),
    (.arrayOfMaps, BPF_MAP_TYPE_ARRAY_OF_MAPS.rawValue, "BPF_MAP_TYPE_ARRAY_OF_MAPS"),
    (.hashOfMaps, BPF_MAP_TYPE_HASH_OF_MAPS.rawValue, "BPF_MAP_TYPE_HASH_OF_MAPS"),
    (.devMap, BPF_MAP_TYPE_DEVMAP.rawValue, "BPF_MAP_TYPE_DEVMAP"),
    (.sockMap, BPF_MAP_TYPE_SOCKMAP.rawValue, "BPF_MAP_TYPE_SOCKMAP"),
    (.cpuMap, BPF_MAP_TYPE_CPUMAP.rawValue, "BPF_MAP_TYPE_CPUMAP"),
    (.xskMap, BPF_MAP_TYPE_XSKMAP.rawValue, "BPF_MAP_TYPE_XSKMAP"),
    (.sockHash, BPF_MAP_TYPE_SOCKHASH.rawValue, "BPF_MAP_TYPE_SOCKHASH"),
    (.cgroupStorage, BPF_MAP_TYPE_CGROUP_STORAGE.rawValue, "BPF_MAP_TYPE_CGROUP_STORAGE"),
    (.reuseportSockArray, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY.rawValue, "BPF_MAP_TYPE_REUSEPORT_SOCKARRAY"),
    (.perCPUCgroupStorage, BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE.rawValue, "BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE"),
    (.queue, BPF_MAP_TYPE_QUEUE.rawValue, "BPF_MAP_TYPE_QUEUE"),
    (.stack, BPF_MAP_TYPE_STACK.rawValue, "BPF_MAP_TYPE_STACK"),
    (.skStorage, BPF_MAP_TYPE_SK_STORAGE.rawValue, "BPF_MAP_TYPE_SK_STORAGE"),
    (.devMapHash, BPF_MAP_TYPE_DEVMAP_HASH.rawValue, "BPF_MAP_TYPE_DEVMAP_HASH"),
    (.structOps, BPF_MAP_TYPE_STRUCT_OPS.rawValue, "BPF_MAP_TYPE_STRUCT_OPS"),
    (.ringBuffer, BPF_MAP_TYPE_RINGBUF.rawValue, "BPF_MAP_TYPE_RINGBUF"),
    (.inodeStorage, BPF_MAP_TYPE_INODE_STORAGE.rawValue, "BPF_MAP_TYPE_INODE_STORAGE"),
    (.taskStorage, BPF_MAP_TYPE_TASK_STORAGE.rawValue, "BPF_MAP_TYPE_TASK_STORAGE"),
    (.bloomFilter, BPF_MAP_TYPE_BLOOM_FILTER.rawValue, "BPF_MAP_TYPE_BLOOM_FILTER"),
    (.userRingBuffer, BPF_MAP_TYPE_USER_RINGBUF.rawValue, "BPF_MAP_TYPE_USER_RINGBUF"),
  ]

  static let programTypes: [(BPFProgramType, UInt32, String)] = [
    (.unspecified, BPF_PROG_TYPE_UNSPEC.rawValue, "BPF_PROG_TYPE_UNSPEC"),
    (.socketFilter, BPF_PROG_TYPE_SOCKET_FILTER.rawValue, "BPF_PROG_TYPE_SOCKET_FILTER"),
    (.kprobe, BPF_PROG_TYPE_KPROBE.rawValue, "BPF_PROG_TYPE_KPROBE"),
    (.schedClassifier, BPF_PROG_TYPE_SCHED_CLS.rawValue, "BPF_PROG_TYPE_SCHED_CLS"),
    (.schedAction, BPF_PROG_TYPE_SCHED_ACT.rawValue, "BPF_PROG_TYPE_SCHED_ACT"),
    (.tracepoint, BPF_PROG_TYPE_TRACEPOINT.rawValue, "BPF_PROG_TYPE_TRACEPOINT"),
    (.xdp, BPF_PROG_TYPE_XDP.rawValue, "BPF_PROG_TYPE_XDP"),
    (.perfEvent, BPF_PROG_TYPE_PERF_EVENT.rawValue, "BPF_PROG_TYPE_PERF_EVENT"),
    (.cgroupSKB, BPF_PROG_TYPE_CGROUP_SKB.rawValue, "BPF_PROG_TYPE_CGROUP_SKB"),
    (.cgroupSock, BPF_PROG_TYPE_CGROUP_SOCK.rawValue, "BPF_PROG_TYPE_CGROUP_SOCK"),
    (.lwtIn, BPF_PROG_TYPE_LWT_IN.rawValue, "BPF_PROG_TYPE_LWT_IN"),
    (.lwtOut, BPF_PROG_TYPE_LWT_OUT.rawValue, "BPF_PROG_TYPE_LWT_OUT"),
    (.lwtXmit, BPF_PROG_TYPE_LWT_XMIT.rawValue, "BPF_PROG_TYPE_LWT_XMIT"),
    (.sockOps, BPF_PROG_TYPE_SOCK_OPS.rawValue, "BPF_PROG_TYPE_SOCK_OPS"),
    (.skSKB, BPF_PROG_TYPE_SK_SKB.rawValue, "BPF_PROG_TYPE_SK_SKB"),
    (.cgroupDevice, BPF_PROG_TYPE_CGROUP_DEVICE.rawValue, "BPF_PROG_TYPE_CGROUP_DEVICE"),
    (.skMsg, BPF_PROG_TYPE_SK_MSG.rawValue, "BPF_PROG_TYPE_SK_MSG"),
    (.rawTracepoint, BPF_PROG_TYPE_RAW_TRACEPOINT.rawValue, "BPF_PROG_TYPE_RAW_TRACEPOINT"),
    (.cgroupSockAddr, BPF_PROG_TYPE_CGROUP_SOCK_ADDR.rawValue, "BPF_PROG_TYPE_CGROUP_SOCK_ADDR"),
    (.lwtSeg6Local, BPF_PROG_TYPE_LWT_SEG6LOCAL.rawValue, "BPF_PROG_TYPE_LWT_SEG6LOCAL"),
    (.lircMode2, BPF_PROG_TYPE_LIRC_MODE2.rawValue, "BPF_PROG_TYPE_LIRC_MODE2"),
    (.skReuseport, BPF_PROG_TYPE_SK_REUSEPORT.rawValue, "BPF_PROG_TYPE_SK_REUSEPORT"),
    (.flowDissector, BPF_PROG_TYPE_FLOW_DISSECTOR.rawValue, "BPF_PROG_TYPE_FLOW_DISSECTOR"),
    (.cgroupSysctl, BPF_PROG_TYPE_CGROUP_SYSCTL.rawValue, "BPF_PROG_TYPE_CGROUP_SYSCTL"),
    (.rawTracepointWritable, BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE.rawValue, "BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE"),
    (.cgroupSockopt, BPF_PROG_TYPE_CGROUP_SOCKOPT.rawValue, "BPF_PROG_TYPE_CGROUP_SOCKOPT"),
    (.tracing, BPF_PROG_TYPE_TRACING.rawValue, "BPF_PROG_TYPE_TRACING"),
    (.structOps, BPF_PROG_TYPE_STRUCT_OPS.rawValue, "BPF_PROG_TYPE_STRUCT_OPS"),
    (.ext, BPF_PROG_TYPE_EXT.rawValue, "BPF_PROG_TYPE_EXT"),
    (.lsm, BPF_PROG_TYPE_LSM.rawValue, "BPF_PROG_TYPE_LSM"),
    (.skLookup, BPF_PROG_TYPE_SK_LOOKUP.rawValue, "BPF_PROG_TYPE_SK_LOOKUP"),
    (.syscall, BPF_PROG_TYPE_SYSCALL.rawValue, "BPF_PROG_TYPE_SYSCALL"),
  ]

  static let attachTypes: [(BPFAttachType, UInt32, String)] = [
    (.cgroupInetIngress, BPF_CGROUP_INET_INGRESS.rawValue, "BPF_CGROUP_INET_INGRESS"),
    (.cgroupInetEgress, BPF_CGROUP_INET_EGRESS.rawValue, "BPF_CGROUP_INET_EGRESS"),
    (.cgroupInetSockCreate, BPF_CGROUP_INET_SOCK_CREATE.rawValue, "BPF_CGROUP_INET_SOCK_CREATE"),
    (.cgroupSockOps, BPF_CGROUP_SOCK_OPS.rawValue, "BPF_CGROUP_SOCK_OPS"),
    (.skSKBStreamParser, BPF_SK_SKB_STREAM_PARSER.rawValue, "BPF_SK_SKB_STREAM_PARSER"),
    (.skSKBStreamVerdict, BPF_SK_SKB_STREAM_VERDICT.rawValue, "BPF_SK_SKB_STREAM_VERDICT"),
    (.cgroupDevice, BPF_CGROUP_DEVICE.rawValue, "BPF_CGROUP_DEVICE"),
    (.skMsgVerdict, BPF_SK_MSG_VERDICT.rawValue, "BPF_SK_MSG_VERDICT"),
    (.cgroupInet4Bind, BPF_CGROUP_INET4_BIND.rawValue, "BPF_CGROUP_INET4_BIND"),
    (.cgroupInet6Bind, BPF_CGROUP_INET6_BIND.rawValue, "BPF_CGROUP_INET6_BIND"),
    (.cgroupInet4Connect, BPF_CGROUP_INET4_CONNECT.rawValue, "BPF_CGROUP_INET4_CONNECT"),
    (.cgroupInet6Connect, BPF_CGROUP_INET6_CONNECT.rawValue, "BPF_CGROUP_INET6_CONNECT"),
    (.cgroupInet4PostBind, BPF_CGROUP_INET4_POST_BIND.rawValue, "BPF_CGROUP_INET4_POST_BIND"),
    (.cgroupInet6PostBind, BPF_CGROUP_INET6_POST_BIND.rawValue, "BPF_CGROUP_INET6_POST_BIND"),
    (.cgroupUDP4SendMsg, BPF_CGROUP_UDP4_SENDMSG.rawValue, "BPF_CGROUP_UDP4_SENDMSG"),
    (.cgroupUDP6SendMsg, BPF_CGROUP_UDP6_SENDMSG.rawValue, "BPF_CGROUP_UDP6_SENDMSG"),
    (.lircMode2, BPF_LIRC_MODE2.rawValue, "BPF_LIRC_MODE2"),
    (.flowDissector, BPF_FLOW_DISSECTOR.rawValue, "BPF_FLOW_DISSECTOR"),
    (.cgroupSysctl, BPF_CGROUP_SYSCTL.rawValue, "BPF_CGROUP_SYSCTL"),
    (.cgroupUDP4RecvMsg, BPF_CGROUP_UDP4_RECVMSG.rawValue, "BPF_CGROUP_UDP4_RECVMSG"),
    (.cgroupUDP6RecvMsg, BPF_CGROUP_UDP6_RECVMSG.rawValue, "BPF_CGROUP_UDP6_RECVMSG"),
    (.cgroupGetSockopt, BPF_CGROUP_GETSOCKOPT.rawValue, "BPF_CGROUP_GETSOCKOPT"),
    (.cgroupSetSockopt, BPF_CGROUP_SETSOCKOPT.rawValue, "BPF_CGROUP_SETSOCKOPT"),
    (.traceRawTP, BPF_TRACE_RAW_TP.rawValue, "BPF_TRACE_RAW_TP"),
    (.traceFentry, BPF_TRACE_FENTRY.rawValue, "BPF_TRACE_FENTRY"),
    (.traceFexit, BPF_TRACE_FEXIT.rawValue, "BPF_TRACE_FEXIT"),
    (.modifyReturn, BPF_MODIFY_RETURN.rawValue, "BPF_MODIFY_RETURN"),
    (.lsmMAC, BPF_LSM_MAC.rawValue, "BPF_LSM_MAC"),
    (.traceIterator, BPF_TRACE_ITER.rawValue, "BPF_TRACE_ITER"),
    (.cgroupInet4GetPeerName, BPF_CGROUP_INET4_GETPEERNAME.rawValue, "BPF_CGROUP_INET4_GETPEERNAME"),
    (.cgroupInet6GetPeerName, BPF_CGROUP_INET6_GETPEERNAME.rawValue, "BPF_CGROUP_INET6_GETPEERNAME"),
    (.cgroupInet4GetSockName, BPF_CGROUP_INET4_GETSOCKNAME.rawValue, "BPF_CGROUP_INET4_GETSOCKNAME"),
    (.cgroupInet6GetSockName, BPF_CGROUP_INET6_GETSOCKNAME.rawValue, "BPF_CGROUP_INET6_GETSOCKNAME"),
    (.xdpDevMap, BPF_XDP_DEVMAP.rawValue, "BPF_XDP_DEVMAP"),
    (.cgroupInetSockRelease, BPF_CGROUP_INET_SOCK_RELEASE.rawValue, "BPF_CGROUP_INET_SOCK_RELEASE"),
    (.xdpCPUMap, BPF_XDP_CPUMAP.rawValue, "BPF_XDP_CPUMAP"),
    (.skLookup, BPF_SK_LOOKUP.rawValue, "BPF_SK_LOOKUP"),
    (.xdp, BPF_XDP.rawValue, "BPF_XDP"),
    (.skSKBVerdict, BPF_SK_SKB_VERDICT.rawValue, "BPF_SK_SKB_VERDICT"),
    (.skReuseportSelect, BPF_SK_REUSEPORT_SELECT.rawValue, "BPF_SK_REUSEPORT_SELECT"),
    (.skReuseportSelectOrMigrate, BPF_SK_REUSEPORT_SELECT_OR_MIGRATE.rawValue, "BPF_SK_REUSEPORT_SELECT_OR_MIGRATE"),
    (.perfEvent, BPF_PERF_EVENT.rawValue, "BPF_PERF_EVENT"),
    (.traceKprobeMulti, BPF_TRACE_KPROBE_MULTI.rawValue, "BPF_TRACE_KPROBE_MULTI"),
    (.lsmCgroup, BPF_LSM_CGROUP.rawValue, "BPF_LSM_CGROUP"),
    // Newer than the system's uapi headers (6.1): the values of Linux 6.4's.
    (.structOps, 44, "BPF_STRUCT_OPS"),
    (.netfilter, 45, "BPF_NETFILTER"),
  ]

  static let linkTypes: [(BPFLinkType, UInt32, String)] = [
    (.unspecified, BPF_LINK_TYPE_UNSPEC.rawValue, "BPF_LINK_TYPE_UNSPEC"),
    (.rawTracepoint, BPF_LINK_TYPE_RAW_TRACEPOINT.rawValue, "BPF_LINK_TYPE_RAW_TRACEPOINT"),
    (.tracing, BPF_LINK_TYPE_TRACING.rawValue, "BPF_LINK_TYPE_TRACING"),
    (.cgroup, BPF_LINK_TYPE_CGROUP.rawValue, "BPF_LINK_TYPE_CGROUP"),
    (.iterator, BPF_LINK_TYPE_ITER.rawValue, "BPF_LINK_TYPE_ITER"),
    (.netNS, BPF_LINK_TYPE_NETNS.rawValue, "BPF_LINK_TYPE_NETNS"),
    (.xdp, BPF_LINK_TYPE_XDP.rawValue, "BPF_LINK_TYPE_XDP"),
    (.perfEvent, BPF_LINK_TYPE_PERF_EVENT.rawValue, "BPF_LINK_TYPE_PERF_EVENT"),
    (.kprobeMulti, BPF_LINK_TYPE_KPROBE_MULTI.rawValue, "BPF_LINK_TYPE_KPROBE_MULTI"),
    (.structOps, BPF_LINK_TYPE_STRUCT_OPS.rawValue, "BPF_LINK_TYPE_STRUCT_OPS"),
  ]

}
