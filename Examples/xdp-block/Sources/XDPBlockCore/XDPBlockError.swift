import XDPKit

/// What went wrong, worded for the person at the terminal: each case says what failed and,
/// where there is one, what to do about it. The tool prints ``description`` and exits non-zero.
public enum XDPBlockError: Error, Sendable, CustomStringConvertible {
  /// The process lacks root or one of the capabilities `command` needs.
  case needsRoot(command: String, missing: [String])
  /// No network namespace is named `name` (nothing at /var/run/netns/NAME).
  case noSuchNamespace(String)
  /// `name` is not a single name under /var/run/netns (it has a "/", or is "." or "..").
  case invalidNamespaceName(String)
  /// /var/run/netns/NAME exists but is not a network namespace; `reason` says what it is.
  case notANamespace(String, reason: String)
  /// `name` cannot be an interface name (1 to 15 bytes, no "/", ":" or white space).
  case invalidInterfaceName(String)
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
  /// xdp-block itself is attached to the interface already (persistently, by `attach`).
  case alreadyManaged(PinLayout)
  /// A directory on the way to xdp-block's state, or a pin in it, failed a check: a symbolic
  /// link, a directory another user owns or can write, not bpffs.
  case unsafeState(BPFFSError)
  /// Another xdp-block holds the interface's lock (it is changing the interface's state).
  case busy(PinLayout)
  /// The interface's pinned state does not tell the truth any more; `detach` removes it.
  case brokenState(PinLayout, StateProblem)
  /// Pins made under `path` would not outlive this process (a private mount namespace).
  case bpffsNotPersistent(path: String, reason: String)
  /// The interface's firewall was attached without drop events (`log` has nothing to read).
  case eventsDisabled(PinLayout)
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
    case .invalidNamespaceName(let name):
      return "invalid network namespace name \"\(name)\": --netns takes a name under /var/run/netns, as `ip netns list` shows, not a path"
    case .notANamespace(let name, let reason):
      return "/var/run/netns/\(name) is not a network namespace: \(reason)"
    case .invalidInterfaceName(let name):
      return "invalid interface name \"\(name)\": an interface name has 1 to 15 bytes and no \"/\", \":\" or spaces"
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
    case .alreadyManaged(let layout):
      return "xdp-block is already attached to \(layout.interfaceDescription) (state in \(layout.directory)); "
        + "use `xdp-block add`/`remove`, or `xdp-block attach \(layout.commandLineArguments) --replace` to reload it keeping its entries"
    case .unsafeState(let error):
      return "refusing to use xdp-block's state: \(error)"
    case .busy(let layout):
      return "another xdp-block is changing \(layout.interfaceDescription) (it holds the lock on \(layout.directory)); try again when it is done"
    case .brokenState(let layout, let problem):
      return "the pinned state of \(layout.interfaceDescription) is stale: \(problem); "
        + "run `xdp-block detach \(layout.commandLineArguments)` to remove it, then attach again"
    case .bpffsNotPersistent(let path, let reason):
      return "pins under \(path) would not outlive this command: \(reason); "
        + "run xdp-block in the host's mount namespace, or mount bpffs there (`mount -t bpf -o mode=0700 bpf \(path)`)"
    case .eventsDisabled(let layout):
      return "drop events are off on \(layout.interfaceDescription): it was attached without --log-events; "
        + "turn them on with `xdp-block attach \(layout.commandLineArguments) --replace --log-events`"
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
