import XDPKit

/// One record of the EVENTS ring buffer: the C `struct drop_event` of firewall.h (32 bytes).
///
/// ```c
/// struct drop_event {
///     __u64 timestamp_ns;  __u8 family;  __u8 action;  __u8 reason;  __u8 vlan_tagged;
///     __u32 packet_length; __u8 addr[16];
/// };
/// ```
public struct DropEvent: Sendable, Equatable, CustomStringConvertible {
  /// Why a packet was dropped: `enum drop_reason`.
  public enum Reason: UInt8, Sendable {
    /// REASON_NONE.
    case none = 0
    /// REASON_EXACT4: the IPv4 source is in BLOCKLIST.
    case exact4 = 1
    /// REASON_EXACT6: the IPv6 source is in BLOCKLIST6.
    case exact6 = 2
    /// REASON_PREFIX4: the IPv4 source is inside a prefix of CIDR4.
    case prefix4 = 3
    /// REASON_PREFIX6: the IPv6 source is inside a prefix of CIDR6.
    case prefix6 = 4

    /// "exact" or "prefix" ("none" for REASON_NONE).
    public var name: String {
      switch self {
      case .none: return "none"
      case .exact4, .exact6: return "exact"
      case .prefix4, .prefix6: return "prefix"
      }
    }
  }

  /// The size of a record.
  public static let size = 32

  /// `bpf_ktime_get_ns()` when the packet was dropped (CLOCK_MONOTONIC).
  public var timestampNanoseconds: UInt64
  /// 4 or 6.
  public var family: UInt8
  /// The XDP action taken (1, XDP_DROP).
  public var action: UInt8
  /// The raw `reason` byte.
  public var reasonCode: UInt8
  /// Whether the frame carried an 802.1Q or 802.1ad VLAN tag.
  public var vlanTagged: Bool
  /// The frame's length in bytes.
  public var packetLength: UInt32
  /// The source address: IPv4 (family 4) or IPv6 (family 6) text form.
  public var source: String

  /// Decodes a record; `nil` if `bytes` is shorter than ``size``.
  public init?(bytes: some Collection<UInt8>) {
    let b = Array(bytes)
    guard b.count >= Self.size else { return nil }
    func little<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
      var value: T = 0
      for i in 0..<MemoryLayout<T>.size { value |= T(b[offset + i]) << (8 * i) }
      return value
    }
    timestampNanoseconds = little(0, UInt64.self)
    family = b[8]
    action = b[9]
    reasonCode = b[10]
    vlanTagged = b[11] != 0
    packetLength = little(12, UInt32.self)
    if family == 6 {
      source = IPv6Address(bytes: b[16..<32])!.description
    } else {
      source = IPv4Address(b[16], b[17], b[18], b[19]).description
    }
  }

  /// The reason, when the byte is a known one.
  public var reason: Reason? { Reason(rawValue: reasonCode) }

  /// The kernel's short name of the action: "drop", "pass", "aborted", "tx", "redirect".
  public var actionName: String {
    switch action {
    case 0: return "aborted"
    case 1: return "drop"
    case 2: return "pass"
    case 3: return "tx"
    case 4: return "redirect"
    default: return "unknown"
    }
  }

  /// The log line: `SRC: 192.0.2.1, ACTION: 1 (drop), REASON: exact`, with `, VLAN` for a
  /// tagged frame.
  public var description: String {
    var line = "SRC: \(source), ACTION: \(action) (\(actionName)), REASON: \(reason?.name ?? "code \(reasonCode)")"
    if vlanTagged { line += ", VLAN" }
    return line
  }
}
