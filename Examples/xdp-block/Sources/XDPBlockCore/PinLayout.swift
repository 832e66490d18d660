import Foundation

/// Where `xdp-block attach` keeps an interface's state in bpffs, so that later commands —
/// separate processes — find it:
///
/// ```
/// /sys/fs/bpf/xdp-block/<iface>/                 (host interface)
/// /sys/fs/bpf/xdp-block/netns-<NAME>/<iface>/    (--netns NAME)
///     link          the bpf_link attaching xdp_firewall; unpinning it detaches the program
///     BLOCKLIST  BLOCKLIST6  CIDR4  CIDR6  STATS  EVENTS   the firewall's maps
/// ```
///
/// Pins of a namespace's interfaces stay in the host's bpffs: `ip netns exec` mounts a fresh
/// /sys without bpffs, and bpf objects are not tied to a network namespace anyway.
///
/// bpffs refuses names with a dot (reserved by the kernel), so in the interface and namespace
/// components "." is written "%2e" and "%" is written "%25": `eth0.100` (a VLAN interface) is
/// kept in `/sys/fs/bpf/xdp-block/eth0%2e100/`.
public struct PinLayout: Sendable, Equatable {
  /// The default root directory, `/sys/fs/bpf/xdp-block`.
  public static let defaultRoot = "/sys/fs/bpf/xdp-block"

  /// The root all interfaces' directories are under.
  public var root: String
  /// The interface name.
  public var interface: String
  /// The network namespace the interface is in, or `nil` for the host's.
  public var namespace: String?

  /// The layout for `interface` (in `namespace`) under `root`.
  ///
  /// Throws ``XDPBlockError/failed(_:)`` for names that cannot be path components.
  public init(interface: String, namespace: String? = nil, root: String = PinLayout.defaultRoot) throws(XDPBlockError) {
    guard Self.isValidComponent(interface), interface.utf8.count <= 15 else {
      throw .noSuchInterface(interface: interface, namespace: namespace)
    }
    if let namespace, !Self.isValidComponent(namespace) { throw .noSuchNamespace(namespace) }
    self.root = root
    self.interface = interface
    self.namespace = namespace
  }

  /// Whether `name` is usable as one path component: not empty, no "/", not "." or "..",
  /// and no NUL.
  static func isValidComponent(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.utf8.contains(0)
  }

  /// The directory of the namespace's interfaces (the root for the host's).
  public var namespaceDirectory: String {
    namespace.map { "\(root)/netns-\(Self.escape($0))" } ?? root
  }

  /// The interface's directory.
  public var directory: String { "\(namespaceDirectory)/\(Self.escape(interface))" }

  /// `name` with "%" written "%25" and "." written "%2e", for bpffs, which refuses dots.
  public static func escape(_ name: String) -> String {
    name.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: ".", with: "%2e")
  }

  /// The pinned link.
  public var linkPath: String { "\(directory)/link" }

  /// The pinned map `name`.
  public func mapPath(_ name: String) -> String { "\(directory)/\(name)" }

  /// The interface as the tool names it in messages: "veth0" or "veth0 (netns blue)".
  public var interfaceDescription: String {
    namespace.map { "\(interface) (netns \($0))" } ?? interface
  }
}
