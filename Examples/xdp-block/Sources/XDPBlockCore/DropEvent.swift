import XDPKit

/// One record of the EVENTS ring buffer: the C `struct drop_event` of firewall.h (32 bytes),
/// as the build generates it from the program's BTF (EVENTS names it with `__records`).
/// `DropEvent(bytes:)` decodes a record and refuses one shorter than 32 bytes.
public typealias DropEvent = XDPFirewall.DropEvent

extension XDPFirewall.DropEvent: CustomStringConvertible, Equatable {
  /// The size of a record.
  public static let size = MemoryLayout<DropEvent>.size

  /// The source address: IPv4 (family 4) or IPv6 (family 6) text form.
  public var source: String {
    let b = withUnsafeBytes(of: addr) { Array($0) }
    if family == 6 { return IPv6Address(bytes: b[0..<16])!.description }
    return IPv4Address(b[0], b[1], b[2], b[3]).description
  }

  /// The kernel's short name of the action: "drop", "pass", "aborted", "tx", "redirect".
  public var actionName: String {
    switch action {
    case .aborted: return "aborted"
    case .drop: return "drop"
    case .pass: return "pass"
    case .tx: return "tx"
    case .redirect: return "redirect"
    default: return "unknown"
    }
  }

  /// The log line: `SRC: 192.0.2.1, ACTION: 1 (drop), REASON: exact`, with `, VLAN` for a
  /// tagged frame.
  public var description: String {
    var line = "SRC: \(source), ACTION: \(action.rawValue) (\(actionName)), REASON: \(reason.name)"
    if vlanTagged { line += ", VLAN" }
    return line
  }

  /// The same 32 bytes.
  public static func == (lhs: DropEvent, rhs: DropEvent) -> Bool {
    withUnsafeBytes(of: lhs) { l in withUnsafeBytes(of: rhs) { r in l.elementsEqual(r) } }
  }
}

extension XDPFirewall.DropReason {
  /// "exact" or "prefix" ("none" for REASON_NONE, "code N" for a value firewall.h lacks).
  public var name: String {
    switch self {
    case .none: return "none"
    case .exact4, .exact6: return "exact"
    case .prefix4, .prefix6: return "prefix"
    default: return "code \(rawValue)"
    }
  }
}
