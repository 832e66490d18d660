import XDPKit

/// What went wrong, worded for the person at the terminal: each case says what failed and,
/// where there is one, what to do about it. The tool prints ``description`` and exits non-zero.
public enum XDPBlockError: Error, Sendable, CustomStringConvertible {
  /// The process lacks root or one of the capabilities `command` needs.
  case needsRoot(command: String, missing: [String])
  /// No network namespace is named `name` (nothing at /var/run/netns/NAME).
  case noSuchNamespace(String)
  /// No interface is called `interface` (in `namespace`, when given).
  case noSuchInterface(interface: String, namespace: String?)
  /// `text` is not an address or a CIDR prefix; `reason` says why.
  case invalidEntry(_ text: String, _ reason: AddressParseError)
  /// An exact map (BLOCKLIST or BLOCKLIST6) holds `capacity` entries already.
  case blocklistFull(map: String, capacity: Int)
  /// A prefix trie (CIDR4 or CIDR6) holds `capacity` prefixes already.
  case prefixListFull(map: String, capacity: Int)
  /// Another XDP program (not xdp-block's) is attached to the interface; `mode` is "native",
  /// "generic", … as far as known.
  case alreadyAttached(interface: String, namespace: String?, programID: UInt32?, mode: String?)
  /// xdp-block itself is attached to the interface already, with its state in `directory`.
  case alreadyManaged(interface: String, directory: String)
  /// The program attached to the interface was attached through a bpf_link owned by
  /// another process, which netlink cannot remove.
  case attachedByLink(interface: String, programID: UInt32?)
  /// The driver does not run XDP in `mode`.
  case modeNotSupported(interface: String, mode: XDPAttachMode, detail: String)
  /// The kernel refused for lack of privilege.
  case permissionDenied(operation: String, detail: String)
  /// xdp-block is not attached to the layout's interface: nothing is pinned in its directory.
  case notAttached(PinLayout)
  /// The firewall object could not be read or loaded.
  case load(String)
  /// A map operation failed for a reason other than the ones above.
  case map(operation: String, MapError)
  /// Anything else, already worded.
  case failed(String)

  /// The message the tool prints (after "xdp-block: error: ").
  public var description: String {
    switch self {
    case .needsRoot(let command, let missing):
      let detail = missing.isEmpty ? "" : " — missing \(missing.joined(separator: ", "))"
      return "xdp-block \(command) needs root (CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN)\(detail)"
    case .noSuchNamespace(let name):
      return "no network namespace named \(name) (nothing at /var/run/netns/\(name)); create it with `ip netns add \(name)`"
    case .noSuchInterface(let interface, let namespace):
      let place = namespace.map { " in network namespace \($0)" } ?? ""
      return "interface \(interface) not found\(place)"
    case .invalidEntry(let text, let reason):
      return "invalid address or prefix \"\(text)\": \(reason)"
    case .blocklistFull(let map, let capacity):
      return "blocklist full (\(capacity) entries in \(map)); remove entries or block a prefix instead"
    case .prefixListFull(let map, let capacity):
      return "prefix blocklist full (\(capacity) prefixes in \(map)); remove or merge prefixes"
    case .alreadyAttached(let interface, let namespace, let programID, let mode):
      let details = [programID.map { "program id \($0)" }, mode.map { "\($0) mode" }].compactMap { $0 }
      let place = namespace.map { " in network namespace \($0)" } ?? ""
      let netns = namespace.map { " --netns \($0)" } ?? ""
      return "another XDP program is already attached to \(interface)\(place)"
        + (details.isEmpty ? "" : " (\(details.joined(separator: ", ")))")
        + "; to put xdp-block in its place, run `xdp-block attach \(interface)\(netns) --replace`"
    case .alreadyManaged(let interface, let directory):
      return "xdp-block is already attached to \(interface) (state in \(directory)); "
        + "use `xdp-block add`/`remove`, or `xdp-block attach --replace` to reload it keeping its entries"
    case .attachedByLink(let interface, let programID):
      let id = programID.map { " (program id \($0))" } ?? ""
      return "the XDP program on \(interface)\(id) was attached through a bpf_link by another program; "
        + "netlink cannot remove it — stop or detach its owner first"
    case .modeNotSupported(let interface, let mode, let detail):
      let hint = mode == .generic ? "" : "; try --mode generic"
      return "\(interface) does not support \(mode) XDP (\(detail))\(hint)"
    case .permissionDenied(let operation, let detail):
      return "\(operation): permission denied (\(detail)); run as root (CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN)"
    case .notAttached(let layout):
      let netns = layout.namespace.map { " --netns \($0)" } ?? ""
      return "xdp-block is not attached to \(layout.interfaceDescription) (nothing pinned in \(layout.directory)); "
        + "run `xdp-block attach \(layout.interface)\(netns)` first"
    case .load(let detail):
      return "loading the firewall failed: \(detail)"
    case .map(let operation, let error):
      return "\(operation): \(error)"
    case .failed(let detail):
      return detail
    }
  }
}

extension XDPBlockError {
  /// Words an attach error for `interface` as the tool reports it.
  static func attach(_ error: AttachError, interface: String, namespace: String?, mode: XDPAttachMode) -> XDPBlockError {
    switch error {
    case .noSuchInterface:
      return .noSuchInterface(interface: interface, namespace: namespace)
    case .modeNotSupported(let failedMode, _, let detail):
      return .modeNotSupported(interface: interface, mode: failedMode, detail: detail)
    case .alreadyAttached:
      return .alreadyAttached(interface: interface, namespace: namespace, programID: nil, mode: nil)
    case .permissionDenied(_, let detail):
      return .permissionDenied(operation: "attach to \(interface)", detail: detail)
    default:
      return .failed("attach to \(interface): \(error)")
    }
  }

  /// Words a failed insert of `entry` into its map of `capacity` entries: a full map
  /// (`E2BIG` from a hash map, `ENOSPC` from an LPM trie) becomes
  /// ``blocklistFull(map:capacity:)`` or ``prefixListFull(map:capacity:)``.
  public static func insertError(_ error: MapError, entry: BlockEntry, capacity: Int) -> XDPBlockError {
    switch error {
    case .full(let map):
      return entry.isExact ? .blocklistFull(map: map, capacity: capacity) : .prefixListFull(map: map, capacity: capacity)
    case .syscall(let map, let e) where e.errno == .noSpace:
      // LPM tries answer a full trie with ENOSPC rather than E2BIG.
      return entry.isExact ? .blocklistFull(map: map, capacity: capacity) : .prefixListFull(map: map, capacity: capacity)
    case .syscall(_, let e) where e.errno == .notPermitted || e.errno == .permissionDenied:
      return .permissionDenied(operation: "add \(entry)", detail: "\(e)")
    default:
      return .map(operation: "add \(entry)", error)
    }
  }
}
