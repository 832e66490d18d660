/// What a program's ELF section name says about how it loads: the program type, the expected
/// attach type, flags and the attach target encoded after the `/`.
///
/// Section names follow the conventions clang users write with `SEC("…")`: `xdp`,
/// `xdp.frags`, `xdp/devmap`, `tc`, `kprobe/do_unlinkat`, … Legacy XDP names accepted by older
/// tools (`xdp_*`, `xdp/*` other than devmap/cpumap) are recognised as XDP too.
public struct ProgramSectionKind: Sendable, Equatable {
  /// The program type, or `nil` when the section name is not recognised.
  public var programType: BPFProgramType?
  /// The expected attach type passed to BPF_PROG_LOAD, when the program type needs one.
  public var expectedAttachType: BPFAttachType?
  /// Whether the program declares multi-buffer ("frags") support (`BPF_F_XDP_HAS_FRAGS`).
  public var allowsFragments: Bool
  /// What follows the first `/` (a tracepoint `category/name`, a kprobe function), if any.
  public var attachTarget: String?
  /// Whether the name uses a legacy form (`xdp_foo`, `xdp/foo`).
  public var isLegacyName: Bool
  /// Whether the program may sleep (`fentry.s/…`, `lsm.s/…`, …, and every `syscall`
  /// program, which the kernel accepts only sleepable: `BPF_F_SLEEPABLE`).
  public var isSleepable: Bool
  /// Whether a load of the whole object loads the program: `false` for a section name that
  /// starts with `?` (`SEC("?xdp")`, as libbpf reads it), which is loaded only when named in
  /// `LoadOptions.programs`. The rest of the name is classified as without the `?`.
  public var loadsByDefault: Bool

  /// Classifies `sectionName`.
  public init(sectionName: String) {
    if sectionName.utf8.first == UInt8(ascii: "?") {
      self.init(classifying: String(sectionName.dropFirst()))
      loadsByDefault = false
    } else {
      self.init(classifying: sectionName)
    }
  }

  /// Classifies a section name without the `?` prefix.
  private init(classifying sectionName: String) {
    programType = nil
    expectedAttachType = nil
    allowsFragments = false
    attachTarget = nil
    isLegacyName = false
    isSleepable = false
    loadsByDefault = true

    // The common names, answered without splitting the name into new strings: as below.
    if sectionName == "xdp" || sectionName == "xdp.frags" {
      programType = .xdp
      expectedAttachType = .xdp
      allowsFragments = sectionName == "xdp.frags"
      return
    }

    let (head, tail) = Self.split(sectionName)
    isSleepable = head.hasSuffix(".s")
    attachTarget = tail
    switch head {
    case "xdp", "xdp.frags":
      programType = .xdp
      allowsFragments = head == "xdp.frags"
      switch tail {
      case nil: expectedAttachType = .xdp
      case "devmap": expectedAttachType = .xdpDevMap; attachTarget = nil
      case "cpumap": expectedAttachType = .xdpCPUMap; attachTarget = nil
      case .some:
        // `xdp/anything`: a legacy name; loads as a plain XDP program.
        expectedAttachType = .xdp
        isLegacyName = true
      }
    case "tc", "classifier", "tcx":
      programType = .schedClassifier
    case "action":
      programType = .schedAction
    case "socket":
      programType = .socketFilter
    case "tracepoint", "tp":
      programType = .tracepoint
    case "raw_tracepoint", "raw_tp":
      programType = .rawTracepoint
    case "raw_tracepoint.w", "raw_tp.w":
      programType = .rawTracepointWritable
    case "kprobe", "kretprobe", "uprobe", "uretprobe", "uprobe.s", "uretprobe.s", "ksyscall", "kretsyscall", "usdt":
      programType = .kprobe
    case "kprobe.multi", "kretprobe.multi":
      programType = .kprobe; expectedAttachType = .traceKprobeMulti
    case "perf_event":
      programType = .perfEvent
    case "fentry", "fentry.s":
      programType = .tracing; expectedAttachType = .traceFentry
    case "fexit", "fexit.s":
      programType = .tracing; expectedAttachType = .traceFexit
    case "fmod_ret", "fmod_ret.s":
      programType = .tracing; expectedAttachType = .modifyReturn
    case "tp_btf":
      programType = .tracing; expectedAttachType = .traceRawTP
    case "iter", "iter.s":
      programType = .tracing; expectedAttachType = .traceIterator
    case "lsm", "lsm.s":
      programType = .lsm; expectedAttachType = .lsmMAC
    case "cgroup_skb":
      programType = .cgroupSKB
      switch tail {
      case "ingress": expectedAttachType = .cgroupInetIngress
      case "egress": expectedAttachType = .cgroupInetEgress
      default: break
      }
    case "cgroup":
      // cgroup/<hook>, as libbpf names the hooks.
      switch tail {
      case "skb": programType = .cgroupSKB
      case "sock", "sock_create": programType = .cgroupSock; expectedAttachType = .cgroupInetSockCreate
      case "sock_release": programType = .cgroupSock; expectedAttachType = .cgroupInetSockRelease
      case "post_bind4": programType = .cgroupSock; expectedAttachType = .cgroupInet4PostBind
      case "post_bind6": programType = .cgroupSock; expectedAttachType = .cgroupInet6PostBind
      case "dev": programType = .cgroupDevice; expectedAttachType = .cgroupDevice
      case "sysctl": programType = .cgroupSysctl; expectedAttachType = .cgroupSysctl
      case "getsockopt": programType = .cgroupSockopt; expectedAttachType = .cgroupGetSockopt
      case "setsockopt": programType = .cgroupSockopt; expectedAttachType = .cgroupSetSockopt
      case "connect4": programType = .cgroupSockAddr; expectedAttachType = .cgroupInet4Connect
      case "connect6": programType = .cgroupSockAddr; expectedAttachType = .cgroupInet6Connect
      case "bind4": programType = .cgroupSockAddr; expectedAttachType = .cgroupInet4Bind
      case "bind6": programType = .cgroupSockAddr; expectedAttachType = .cgroupInet6Bind
      case "sendmsg4": programType = .cgroupSockAddr; expectedAttachType = .cgroupUDP4SendMsg
      case "sendmsg6": programType = .cgroupSockAddr; expectedAttachType = .cgroupUDP6SendMsg
      case "recvmsg4": programType = .cgroupSockAddr; expectedAttachType = .cgroupUDP4RecvMsg
      case "recvmsg6": programType = .cgroupSockAddr; expectedAttachType = .cgroupUDP6RecvMsg
      case "getpeername4": programType = .cgroupSockAddr; expectedAttachType = .cgroupInet4GetPeerName
      case "getpeername6": programType = .cgroupSockAddr; expectedAttachType = .cgroupInet6GetPeerName
      case "getsockname4": programType = .cgroupSockAddr; expectedAttachType = .cgroupInet4GetSockName
      case "getsockname6": programType = .cgroupSockAddr; expectedAttachType = .cgroupInet6GetSockName
      default: break
      }
    case "sockops":
      programType = .sockOps; expectedAttachType = .cgroupSockOps
    case "sk_skb":
      programType = .skSKB
      switch tail {
      case "stream_parser": expectedAttachType = .skSKBStreamParser
      case "stream_verdict": expectedAttachType = .skSKBStreamVerdict
      default: break
      }
    case "sk_msg":
      programType = .skMsg; expectedAttachType = .skMsgVerdict
    case "sk_lookup":
      programType = .skLookup; expectedAttachType = .skLookup
    case "flow_dissector":
      programType = .flowDissector; expectedAttachType = .flowDissector
    case "sk_reuseport":
      programType = .skReuseport
      expectedAttachType = tail == "migrate" ? .skReuseportSelectOrMigrate : .skReuseportSelect
    case "lwt_seg6local": programType = .lwtSeg6Local
    case "lwt_in": programType = .lwtIn
    case "lwt_out": programType = .lwtOut
    case "lwt_xmit": programType = .lwtXmit
    case "struct_ops", "struct_ops.s": programType = .structOps
    case "syscall": programType = .syscall; isSleepable = true
    case "freplace": programType = .ext
    case "netfilter": programType = .netfilter; expectedAttachType = .netfilter
    default:
      if head.hasPrefix("xdp_") {
        programType = .xdp
        expectedAttachType = .xdp
        isLegacyName = true
      }
    }
  }

  private static func split(_ name: String) -> (head: String, tail: String?) {
    if let slash = name.firstIndex(of: "/") {
      let tail = String(name[name.index(after: slash)...])
      return (String(name[..<slash]), tail.isEmpty ? nil : tail)
    }
    return (name, nil)
  }
}
