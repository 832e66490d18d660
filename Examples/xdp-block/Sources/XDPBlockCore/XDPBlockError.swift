import XDPKit

/// What went wrong, worded for the person at the terminal. The tool prints
/// `error: <description>` and, where there is a known fix, `hint: <hint>`, and exits non-zero.
public enum XDPBlockError: Error, Sendable, CustomStringConvertible {
  /// The process lacks root or one of the capabilities `command` needs.
  case needsRoot(command: String, missing: [String])
  /// No network namespace is named `name` (nothing at /var/run/netns/NAME).
  case noSuchNamespace(String)
  /// No interface is called `interface` (in `namespace`, when given).
  case noSuchInterface(interface: String, namespace: String?)
  /// `text` is not an address or a CIDR prefix; `reason` says why.
  case invalidEntry(_ text: String, _ reason: AddressParseError)
  /// Line `line` of `source` (a file, or "standard input") holds `text`, which is not an
  /// address or a CIDR prefix.
  case invalidLine(source: String, line: Int, text: String, reason: AddressParseError)
  /// A file of entries (`--file`) could not be read.
  case unreadableInput(FileReadError)
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

  /// What failed and why, in the form `<what>: <why>` (the tool prints it after "error: ").
  public var description: String {
    switch self {
    case .needsRoot(let command, let missing):
      let detail = missing.isEmpty ? "" : ": missing \(missing.joined(separator: ", "))"
      return "xdp-block \(command) needs root (CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN)\(detail)"
    case .noSuchNamespace(let name):
      return "no network namespace named \(name): nothing at /var/run/netns/\(name)"
    case .noSuchInterface(let interface, let namespace):
      let place = namespace.map { " in network namespace \($0)" } ?? ""
      return "interface \(interface) not found\(place)"
    case .invalidEntry(let text, let reason):
      return "invalid address or prefix \"\(text)\": \(reason)"
    case .invalidLine(let source, let line, let text, let reason):
      return "\(source):\(line): invalid address or prefix \"\(text)\": \(reason)"
    case .unreadableInput(let error):
      return "cannot read \(error.path): \(error.reason)"
    case .blocklistFull(let map, let capacity):
      return "blocklist full (\(capacity) entries in \(map))"
    case .prefixListFull(let map, let capacity):
      return "prefix blocklist full (\(capacity) prefixes in \(map))"
    case .alreadyAttached(let interface, let namespace, let programID, let mode):
      let details = [programID.map { "program id \($0)" }, mode.map { "\($0) mode" }].compactMap { $0 }
      let place = namespace.map { " in network namespace \($0)" } ?? ""
      return "another XDP program is already attached to \(interface)\(place)"
        + (details.isEmpty ? "" : " (\(details.joined(separator: ", ")))")
    case .alreadyManaged(let interface, let directory):
      return "xdp-block is already attached to \(interface) (state in \(directory))"
    case .attachedByLink(let interface, let programID):
      let id = programID.map { " (program id \($0))" } ?? ""
      return "the XDP program on \(interface)\(id) was attached through a bpf_link by another program: "
        + "netlink cannot remove it"
    case .modeNotSupported(let interface, let mode, let detail):
      return "\(interface) does not support \(mode) XDP: \(detail)"
    case .permissionDenied(let operation, let detail):
      return "\(operation): permission denied (\(detail))"
    case .notAttached(let layout):
      return "xdp-block is not attached to \(layout.interfaceDescription): nothing pinned in \(layout.directory)"
    case .load(let detail):
      return "loading the firewall failed: \(detail)"
    case .map(let operation, let error):
      return "\(operation): \(error)"
    case .failed(let detail):
      return detail
    }
  }

  /// What to do about it, when there is a known fix (the tool prints it after "hint: ").
  public var hint: String? {
    switch self {
    case .needsRoot:
      return "run it as root, for example with sudo"
    case .noSuchNamespace(let name):
      return "create it with `ip netns add \(name)`"
    case .noSuchInterface(_, let namespace):
      return "`ip\(namespace.map { " -n \($0)" } ?? "") link` lists the interfaces"
    case .invalidEntry, .invalidLine:
      return "write an address (192.0.2.1, 2001:db8::1) or a prefix with no bits set after its length (198.51.100.0/24)"
    case .unreadableInput:
      return nil
    case .blocklistFull:
      return "remove entries, or block a prefix instead"
    case .prefixListFull:
      return "remove or merge prefixes"
    case .alreadyAttached(let interface, let namespace, _, _):
      let netns = namespace.map { " --netns \($0)" } ?? ""
      return "to put xdp-block in its place, run `xdp-block attach \(interface)\(netns) --replace`"
    case .alreadyManaged(let interface, _):
      return "use `xdp-block add`/`remove`, or `xdp-block attach \(interface) --replace` to reload it keeping its entries"
    case .attachedByLink:
      return "stop or detach its owner first"
    case .modeNotSupported(_, let mode, _):
      return mode == .generic ? nil : "try --mode generic"
    case .permissionDenied:
      return "run as root (CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN)"
    case .notAttached(let layout):
      let netns = layout.namespace.map { " --netns \($0)" } ?? ""
      return "run `xdp-block attach \(layout.interface)\(netns)` first"
    case .load, .map, .failed:
      return nil
    }
  }

  /// The lines the tool prints on standard error: `error: …` and, if there is one, `hint: …`.
  public var report: String {
    "error: \(description)" + (hint.map { "\nhint: \($0)" } ?? "")
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
