import Foundation
import Glibc

extension PinLayout {
  /// The interfaces xdp-block's persistent firewall is attached to: every interface directory
  /// under `root` (`host/IFACE`, `netns/NAME/IFACE`) that has published state (a `current`
  /// entry), in `namespace` only when it is given (`""` for the host's). Sorted: the host's
  /// interfaces first, then by namespace and name.
  ///
  /// Used when a command's `--iface` is omitted (``resolve(interface:namespace:root:)``).
  /// A directory that cannot be read counts as holding nothing; the command that then opens
  /// the state checks it as it always does (owner, mode, symbolic links).
  public static func attached(namespace: String? = nil, root: String = PinLayout.configuredRoot) -> [PinLayout] {
    var found: [PinLayout] = []
    func add(_ directory: String, namespace: String?) {
      for name in entries(of: directory) {
        let interface = unescape(name)
        guard isPublished(directory + "/" + name),
          let layout = try? PinLayout(interface: interface, namespace: namespace, root: root)
        else { continue }
        found.append(layout)
      }
    }
    if namespace == nil || namespace == "" { add(root + "/host", namespace: nil) }
    for name in entries(of: root + "/netns") {
      let space = unescape(name)
      if let namespace, namespace != space { continue }
      add(root + "/netns/" + name, namespace: space)
    }
    return found.sorted {
      ($0.namespace ?? "", $0.interface) < ($1.namespace ?? "", $1.interface)
    }
  }

  /// The layout a command works on: `interface` (in `namespace`) when given; otherwise the
  /// one interface xdp-block is attached to (in `namespace`, when given).
  ///
  /// Throws ``XDPBlockError/noInterfaceAttached(root:namespace:)`` when there is none and
  /// ``XDPBlockError/severalInterfacesAttached(_:)`` (naming them) when there are several.
  public static func resolve(interface: String?, namespace: String?, root: String = PinLayout.configuredRoot)
    throws(XDPBlockError) -> PinLayout
  {
    if let interface { return try PinLayout(interface: interface, namespace: namespace, root: root) }
    let candidates = attached(namespace: namespace, root: root)
    switch candidates.count {
    case 0: throw .noInterfaceAttached(root: root, namespace: namespace)
    case 1: return candidates[0]
    default: throw .severalInterfacesAttached(candidates)
    }
  }

  /// `name` with the escapes of ``escape(_:)`` undone.
  static func unescape(_ name: String) -> String {
    name.replacingOccurrences(of: "%2e", with: ".").replacingOccurrences(of: "%25", with: "%")
  }

  /// The names in `directory`, without "." and ".."; none when it cannot be read.
  private static func entries(of directory: String) -> [String] {
    guard let stream = opendir(directory) else { return [] }
    defer { closedir(stream) }
    var names: [String] = []
    while let entry = readdir(stream) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  /// Whether the interface directory `path` has a `current` entry (published state).
  private static func isPublished(_ path: String) -> Bool {
    var info = stat()
    return lstat(path + "/current", &info) == 0
  }
}
