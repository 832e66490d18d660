import XDPKit

/// What went wrong, worded for the person at the terminal. The tool prints
/// `error: <description>` and, where there is a known fix, `hint: <hint>`, and exits non-zero.
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
  case invalidEntry(_ text: String, _ reason: EntryParseError)
  /// Line `line` of `source` (a file, or "standard input") holds `text`, which is not an
  /// address or a CIDR prefix.
  case invalidLine(source: String, line: Int, text: String, reason: EntryParseError)
  /// A file of entries (`--file`) could not be read.
  case unreadableInput(FileReadError)
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
  /// Reading, joining or leaving the multi-program dispatcher on `interface` failed: a
  /// dispatcher of another protocol version, another mode, no free slot, …
  case dispatcher(MultiProgramError, interface: String)
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
  /// The work was cancelled (Ctrl-C or SIGTERM) before it finished; it cleaned up.
  case interrupted
  /// `--iface` was omitted, and xdp-block is attached to no interface (under `root`; in
  /// `namespace` when `--netns` was given).
  case noInterfaceAttached(root: String, namespace: String?)
  /// `--iface` was omitted, and xdp-block is attached to several interfaces: the candidates.
  case severalInterfacesAttached([PinLayout])

  /// What failed and why, in the form `<what>: <why>` (the tool prints it after "error: ").
  public var description: String {
    switch self {
    case .needsRoot(let command, let missing):
      let detail = missing.isEmpty ? "" : ": missing \(missing.joined(separator: ", "))"
      return "xdp-block \(command) needs root (CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN)\(detail)"
    case .noSuchNamespace(let name):
      return "no network namespace named \(name): nothing at /var/run/netns/\(name)"
    case .invalidNamespaceName(let name):
      return "invalid network namespace name \"\(name)\": --netns takes a name under /var/run/netns, not a path"
    case .notANamespace(let name, let reason):
      return "/var/run/netns/\(name) is not a network namespace: \(reason)"
    case .invalidInterfaceName(let name):
      return "invalid interface name \"\(name)\": an interface name has 1 to 15 bytes and no \"/\", \":\" or spaces"
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
    case .alreadyManaged(let layout):
      return "xdp-block is already attached to \(layout.interfaceDescription) (state in \(layout.directory))"
    case .unsafeState(let error):
      return "refusing to use xdp-block's state: \(error)"
    case .busy(let layout):
      return "another xdp-block is changing \(layout.interfaceDescription): it holds the lock on \(layout.directory)"
    case .brokenState(let layout, let problem):
      return "the pinned state of \(layout.interfaceDescription) is stale: \(problem)"
    case .bpffsNotPersistent(let path, let reason):
      return "pins under \(path) would not outlive this command: \(reason)"
    case .eventsDisabled(let layout):
      return "drop events are off on \(layout.interfaceDescription): it was attached without --log-events"
    case .attachedByLink(let interface, let programID):
      let id = programID.map { " (program id \($0))" } ?? ""
      return "the XDP program on \(interface)\(id) was attached through a bpf_link by another program: "
        + "netlink cannot remove it"
    case .dispatcher(let error, let interface):
      return "the multi-program dispatcher on \(interface): \(error)"
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
    case .interrupted:
      return "interrupted; cleaned up"
    case .noInterfaceAttached(let root, let namespace):
      let where_ = namespace.map { " in network namespace \($0)" } ?? ""
      return "no --iface given, and xdp-block is attached to no interface\(where_): nothing pinned under \(root)"
    case .severalInterfacesAttached(let layouts):
      return "no --iface given, and xdp-block is attached to \(layouts.count) interfaces: "
        + layouts.map(\.interfaceDescription).joined(separator: ", ")
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
    case .invalidEntry(_, .ipv4Mapped), .invalidLine(_, _, _, .ipv4Mapped):
      return "the firewall matches IPv4 packets by their IPv4 source, never by a mapped IPv6 form"
    case .invalidEntry, .invalidLine:
      return "write an address (192.0.2.1, 2001:db8::1) or a prefix with no bits set after its length (198.51.100.0/24)"
    case .unreadableInput(.tooLarge):
      return "split it into files of at most 256 MiB (--file is repeatable)"
    case .unreadableInput:
      return nil
    case .blocklistFull:
      return "remove entries, or block a prefix instead"
    case .prefixListFull:
      return "remove or merge prefixes"
    case .alreadyAttached(let interface, let namespace, _, _):
      let netns = namespace.map { " --netns \($0)" } ?? ""
      return "to put xdp-block in its place, run `xdp-block attach \(interface)\(netns) --replace`"
    case .alreadyManaged(let layout):
      return "use `xdp-block add`/`remove`, or `xdp-block attach \(layout.commandLineArguments) --replace` to reload it keeping its entries"
    case .invalidNamespaceName:
      return "`ip netns list` shows the names"
    case .notANamespace(let name, _):
      return "make it with `ip netns add \(name)` after removing what is there"
    case .invalidInterfaceName:
      return nil
    case .unsafeState(let error):
      switch error {
      case .untrustedOwner, .writableByOthers, .symbolicLink:
        return "remove \(error.path) (someone else made or can change it); mount bpffs with `-o mode=0700` so others cannot create names there"
      case .notInBPFFS:
        return "mount bpffs: `mount -t bpf -o mode=0700 bpf /sys/fs/bpf`"
      default:
        return nil
      }
    case .busy:
      return "try again when it is done"
    case .brokenState(let layout, _):
      return "run `xdp-block detach \(layout.commandLineArguments)` to remove it, then attach again"
    case .bpffsNotPersistent:
      return "run xdp-block in the host's mount namespace (for an interface in a network namespace, use --netns NAME "
        + "rather than `ip netns exec`), with XDP_BLOCK_BPFFS_ROOT and LIBXDP_BPFFS in the host's bpffs"
    case .eventsDisabled(let layout):
      return "turn them on with `xdp-block attach \(layout.commandLineArguments) --replace --log-events`"
    case .attachedByLink:
      return "stop or detach its owner first"
    case .dispatcher(let error, _):
      switch error {
      case .olderDispatcher, .newerDispatcher, .tooManyPrograms:
        return "`xdp-loader status` lists its programs; `xdp-loader unload` removes them"
      case .modeMismatch(_, let attached):
        return "attach with --mode \(attached.wording), or without --mode"
      case .pins(.untrustedOwner(let path, _, _)), .pins(.writableByOthers(let path, _)), .pins(.symbolicLink(let path)):
        return "\(path) holds the pins of every multi-program dispatcher (libxdp's protocol): if no loader of yours "
          + "made it, remove it (another user may have, to stop you); or attach with --direct to use a bpf_link of "
          + "xdp-block's own instead"
      default:
        return nil
      }
    case .modeNotSupported(_, let mode, _):
      return mode == .generic ? nil : "try --mode generic"
    case .permissionDenied:
      return "run as root (CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN)"
    case .notAttached(let layout):
      return "run `xdp-block attach \(layout.commandLineArguments)` first"
    case .load, .map, .failed, .interrupted:
      return nil
    case .noInterfaceAttached:
      return "attach it with `xdp-block attach IFACE`, or name the interface with --iface"
    case .severalInterfacesAttached(let layouts):
      return "name one: " + layouts.map { "--iface \($0.interface)" + ($0.namespace.map { " --netns \($0)" } ?? "") }
        .joined(separator: ", or ")
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
    case .modeNotSupported(let failedMode, _, let cause):
      return .modeNotSupported(interface: interface, mode: failedMode, detail: "\(cause)")
    case .alreadyAttached:
      return .alreadyAttached(interface: interface, namespace: namespace, programID: nil, mode: nil)
    case .permissionDenied(_, let cause):
      return .permissionDenied(operation: "attach to \(interface)", detail: "\(cause)")
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
