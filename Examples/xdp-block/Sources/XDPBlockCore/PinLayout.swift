import Glibc

/// Where `xdp-block attach` keeps an interface's state in bpffs, so that later commands —
/// separate processes — find it:
///
/// ```
/// /sys/fs/bpf/xdp-block/                        0700, owned by the user running xdp-block
///     host/<iface>/                             an interface of the host (the tool's namespace)
///     netns/<NAME>/<iface>/                     an interface in network namespace NAME (--netns)
///         current -> state-…                    symbolic link to the published state
///         state-…/                              one generation of the state
///             link       the bpf_link attaching xdp_firewall; unpinning it detaches the program
///             program    the xdp_firewall program the link runs
///             BLOCKLIST  BLOCKLIST6  CIDR4  CIDR6  STATS  EVENTS   its maps
///             bss        its .bss, the skip words (``SkipWords``)
///             record -> "…"                    who the state belongs to: interface index and
///                                               name, network namespace inode, configuration
/// ```
///
/// Host interfaces and namespaces have separate subtrees, so no interface name can collide
/// with a namespace's directory. The interface directory is stable and is what commands lock;
/// the state inside it is replaced as a whole by re-pointing `current` (see ``StateStore``).
///
/// Pins of a namespace's interfaces stay in the host's bpffs: `ip netns exec` mounts a fresh
/// /sys without bpffs, and bpf objects are not tied to a network namespace anyway.
///
/// bpffs refuses names with a dot (reserved by the kernel), so in the interface and namespace
/// components "." is written "%2e" and "%" is written "%25": `eth0.100` (a VLAN interface) is
/// kept in `host/eth0%2e100/`.
///
/// The root is `/sys/fs/bpf/xdp-block`, or the value of the environment variable
/// `XDP_BLOCK_BPFFS_ROOT` when it is set (an absolute path in a bpf file system).
public struct PinLayout: Sendable, Equatable {
  /// The default root directory, `/sys/fs/bpf/xdp-block`.
  public static let defaultRoot = "/sys/fs/bpf/xdp-block"

  /// The root for this process: `XDP_BLOCK_BPFFS_ROOT` when set and not empty, otherwise
  /// ``defaultRoot``.
  public static var configuredRoot: String {
    if let value = getenv("XDP_BLOCK_BPFFS_ROOT"), value.pointee != 0 { return String(cString: value) }
    return defaultRoot
  }

  /// The root all interfaces' directories are under.
  public var root: String
  /// The interface name.
  public var interface: String
  /// The network namespace the interface is in, or `nil` for the host's.
  public var namespace: String?

  /// The layout for `interface` (in `namespace`) under `root`.
  ///
  /// Throws ``XDPBlockError/invalidInterfaceName(_:)`` or
  /// ``XDPBlockError/invalidNamespaceName(_:)`` for names that cannot be what they claim.
  public init(interface: String, namespace: String? = nil, root: String = PinLayout.configuredRoot)
    throws(XDPBlockError)
  {
    guard Self.isValidInterfaceName(interface) else { throw .invalidInterfaceName(interface) }
    if let namespace, !Self.isValidComponent(namespace) { throw .invalidNamespaceName(namespace) }
    self.root = root
    self.interface = interface
    self.namespace = namespace
  }

  /// Whether `name` is usable as one path component: not empty, no "/", not "." or "..",
  /// and no NUL.
  static func isValidComponent(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.utf8.contains(0)
  }

  /// Whether `name` can be a Linux interface name (dev_valid_name): 1 to 15 bytes, not "."
  /// or "..", no "/", ":" or white space.
  static func isValidInterfaceName(_ name: String) -> Bool {
    isValidComponent(name) && name.utf8.count <= 15
      && !name.utf8.contains { $0 == UInt8(ascii: ":") || $0 == 0x20 || (0x09...0x0d).contains($0) }
  }

  /// The directory components under the root: `["host", IFACE]` or
  /// `["netns", NAME, IFACE]`, escaped for bpffs.
  public var components: [String] {
    if let namespace { return ["netns", Self.escape(namespace), Self.escape(interface)] }
    return ["host", Self.escape(interface)]
  }

  /// The interface's directory.
  public var directory: String { ([root] + components).joined(separator: "/") }

  /// The published state directory, through the `current` link (for messages).
  public var currentDirectory: String { directory + "/current" }

  /// `name` with "%" written "%25" and "." written "%2e", for bpffs, which refuses dots.
  public static func escape(_ name: String) -> String {
    var result = ""
    for character in name {
      switch character {
      case "%": result += "%25"
      case ".": result += "%2e"
      default: result.append(character)
      }
    }
    return result
  }

  /// The interface as the tool names it in messages: "veth0" or "veth0 (netns blue)".
  public var interfaceDescription: String {
    namespace.map { "\(interface) (netns \($0))" } ?? interface
  }

  /// The options that name this interface on the command line: "veth0" or
  /// "veth0 --netns blue".
  public var commandLineArguments: String {
    interface + (namespace.map { " --netns \($0)" } ?? "")
  }
}
