import Synchronization
import SystemPackage
import XDPKitObject
import XDPKitSys

/// What a feature probe found: the answer, and the errno and call that decided it.
public struct FeatureSupport: Sendable, Hashable, CustomStringConvertible {
  /// The answer.
  public enum Answer: Sendable, Hashable {
    /// The kernel has the feature.
    case supported
    /// The kernel does not have it.
    case unsupported
    /// The kernel would not say: it refused the probe for another reason (no privilege,
    /// lockdown), so the answer is unknown.
    case undetermined
  }

  /// The answer.
  public var answer: Answer
  /// The errno the probe's call returned; `nil` when the call succeeded.
  public var errno: Errno?
  /// What decided it, in words: the call and its result, or the verifier's message.
  public var detail: String

  /// Whether ``answer`` is ``Answer/supported``.
  public var isSupported: Bool { answer == .supported }

  public var description: String {
    let word = switch answer {
    case .supported: "supported"
    case .unsupported: "not supported"
    case .undetermined: "undetermined"
    }
    return "\(word) (\(detail))"
  }
}

/// Feature probes of the running kernel, each asked at most once per process, like
/// cilium/ebpf's `features` package and bpftool's `feature probe`: program types, map types,
/// helpers per program type, XDP links, the ring buffer, and BTF kinds.
///
/// Every probe makes the smallest object that tells the answer and closes it at once; nothing
/// is attached. Each answer carries the errno that decided it. The loader uses them too: for
/// the attach method's netlink fallback (``xdpLinks``), for rewriting BTF an older kernel
/// refuses (``btfKind(_:)``), for mmapping global data (``mmapableArrays``) and for loading
/// the multi-program dispatcher with fragments (``xdpFragments``).
///
/// ```swift
/// if !KernelFeatures.mapType(.ringBuffer).isSupported { … use a perf event array … }
/// print(KernelFeatures.helper(named: "bpf_xdp_adjust_tail", programType: .xdp))
/// ```
public enum KernelFeatures {
  private static let cache = Mutex<[String: FeatureSupport]>([:])

  /// The cached answer for `key`, or `probe()`'s, kept when it is not undetermined (a probe
  /// refused for lack of privilege may work later in the process).
  static func cached(_ key: String, _ probe: () -> FeatureSupport) -> FeatureSupport {
    if let known = cache.withLock({ $0[key] }) { return known }
    let answer = probe()
    if answer.answer != .undetermined { cache.withLock { $0[key] = answer } }
    return answer
  }

  /// Whether the kernel loads programs of `type`.
  ///
  /// Loads `r0 = 0; exit` as `type` (with the attach type or flags the type requires).
  /// Tracing, LSM and extension programs need a kernel function to attach to: they are
  /// loaded against BTF id 1, which is not a function, and the verifier's complaint about the
  /// target ("not a function"; for an extension without a target program, "Cannot replace
  /// kernel functions") means it knew the type. Under lockdown those three types are undetermined.
  public static func programType(_ type: BPFProgramType) -> FeatureSupport {
    cached("program \(type.rawValue)") { FeatureProbes.programType(type) }
  }

  /// The attributes ``programType(_:)`` loads `r0 = 0; exit` with: the attach type or flags
  /// programs of `type` must be loaded with (`expected_attach_type`, BPF_F_SLEEPABLE).
  public static func minimalProgramAttributes(_ type: BPFProgramType) -> ProgramLoadAttributes {
    FeatureProbes.minimalProgram(type)
  }

  /// Whether the kernel creates maps of `type`, with the key, value and flags the type
  /// requires (and a BTF for the local-storage types).
  public static func mapType(_ type: BPFMapType) -> FeatureSupport {
    cached("map \(type.rawValue)") { FeatureProbes.mapType(type) }
  }

  /// Whether programs of `programType` may call the helper with number `id`
  /// (`enum bpf_func_id`): the verifier's "unknown func"/"invalid func" says no; any other
  /// outcome (arguments refused, say) means it knew the helper.
  public static func helper(_ id: UInt32, programType: BPFProgramType) -> FeatureSupport {
    cached("helper \(id) \(programType.rawValue)") { FeatureProbes.helper(id, programType: programType) }
  }

  /// ``helper(_:programType:)`` by the helper's name (`bpf_map_lookup_elem`), numbered by the
  /// kernel's BTF (`enum bpf_func_id`). `nil` when the kernel has no BTF or no such helper.
  public static func helper(named name: String, programType: BPFProgramType) -> FeatureSupport? {
    guard let id = helperNumbers()[name] else { return nil }
    return helper(id, programType: programType)
  }

  /// The helpers the kernel's BTF knows (`enum bpf_func_id`), by name (`bpf_map_lookup_elem`),
  /// with their numbers; empty when the kernel has no BTF.
  public static func helperNumbers() -> [String: UInt32] {
    FeatureProbes.helperNumbers.withLock { numbers in
      if let numbers { return numbers }
      let found = FeatureProbes.readHelperNumbers()
      numbers = found
      return found
    }
  }

  /// Whether XDP programs attach through bpf_link (Linux 5.9+), by `BPF.supportsXDPLinks()`.
  public static var xdpLinks: FeatureSupport {
    cached("xdp links") {
      do throws(SyscallError) {
        return try BPF.supportsXDPLinks()
          ? FeatureSupport(answer: .supported, errno: .badFileDescriptor,
                           detail: "BPF_LINK_CREATE for XDP looked the program up: EBADF")
          : FeatureSupport(answer: .unsupported, errno: .invalidArgument,
                           detail: "BPF_LINK_CREATE refused the XDP attach type: EINVAL")
      } catch {
        return FeatureSupport(answer: .undetermined, errno: error.errno, detail: "\(error)")
      }
    }
  }

  /// Whether XDP programs may be loaded with BPF_F_XDP_HAS_FRAGS, i.e. see multi-buffer
  /// packets (Linux 5.18+): loads `r0 = 0; exit` as XDP with the flag.
  public static var xdpFragments: FeatureSupport {
    cached("xdp fragments") {
      var attributes = FeatureProbes.minimalProgram(.xdp)
      attributes.flags = .xdpHasFragments
      let (result, log) = FeatureProbes.load(attributes)
      switch result {
      case .success:
        return FeatureSupport(answer: .supported, errno: nil, detail: "BPF_PROG_LOAD of XDP with BPF_F_XDP_HAS_FRAGS succeeded")
      case .failure(let error):
        let detail = "BPF_PROG_LOAD of XDP with BPF_F_XDP_HAS_FRAGS: \(error.errno)" + (log.isEmpty ? "" : ": \(FeatureProbes.lastLine(log))")
        return FeatureSupport(answer: error.errno == .invalidArgument ? .unsupported : .undetermined, errno: error.errno, detail: detail)
      }
    }
  }

  /// Whether the kernel has BPF ring buffers (Linux 5.8+): ``mapType(_:)`` of
  /// `BPF_MAP_TYPE_RINGBUF`.
  public static var ringBuffer: FeatureSupport { mapType(.ringBuffer) }

  /// Whether the kernel loads BTF that uses `kind` (one of ``BTFKernelFeatures``' members:
  /// global functions, FLOAT, DECL_TAG, TYPE_TAG, ENUM64).
  public static func btfKind(_ kind: BTFKernelFeatures) -> FeatureSupport {
    cached("btf \(kind.rawValue)") { FeatureProbes.btfKind(kind) }
  }
}
