import XDPKitObject
import CXDPKit

// BPFMapType, BPFProgramType and BPFAttachType live in XDPKitObject (the reader needs them and
// imports no C); XDPKitSysTests checks their values against the uapi constants. The link type
// is only ever reported by the kernel, so it lives here, with values taken from the headers.
// It is an open struct: a kernel newer than the headers can report types they do not name.

/// A BPF link type: a value of `enum bpf_link_type`,
/// the `type` of `struct bpf_link_info`.
///
/// The description is the kernel's name ("BPF_LINK_TYPE_XDP"); a value the headers do not
/// name prints as "BPF_LINK_TYPE(<number>)".
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
