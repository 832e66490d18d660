/// Who a pinned state belongs to, and how its firewall was configured: kept with the state
/// (as the text of the `record` symbolic link, since bpffs holds no regular files) and checked
/// by every command before it acts.
///
/// The text is one line of `key=value` words after a version tag:
/// `xdp-block-state-v1 ifindex=5 ifname=veth0 netns-inode=4026532288 events=0 events-per-second=100`.
public struct StateRecord: Sendable, Equatable {
  /// The interface's index when the state was made.
  public var interfaceIndex: Int32
  /// The interface's name when the state was made.
  public var interfaceName: String
  /// The inode of the interface's network namespace (nsfs), which tells a namespace from a
  /// later one of the same name.
  public var namespaceInode: UInt64
  /// The configuration the firewall was loaded with.
  public var configuration: FirewallConfiguration

  static let versionTag = "xdp-block-state-v1"

  /// A record with the given values.
  public init(interfaceIndex: Int32, interfaceName: String, namespaceInode: UInt64, configuration: FirewallConfiguration) {
    self.interfaceIndex = interfaceIndex
    self.interfaceName = interfaceName
    self.namespaceInode = namespaceInode
    self.configuration = configuration
  }

  /// The record as the text of the symbolic link.
  public var text: String {
    var words = [
      Self.versionTag, "ifindex=\(interfaceIndex)", "ifname=\(interfaceName)", "netns-inode=\(namespaceInode)",
      "events=\(configuration.eventsEnabled ? 1 : 0)",
    ]
    if let perSecond = configuration.eventsPerSecond { words.append("events-per-second=\(perSecond)") }
    return words.joined(separator: " ")
  }

  /// Parses `text`; `nil` unless it is a complete record of this version.
  public init?(text: String) {
    let words = text.split(separator: " ")
    guard words.first == Substring(Self.versionTag) else { return nil }
    var values: [Substring: Substring] = [:]
    for word in words.dropFirst() {
      guard let equals = word.firstIndex(of: "=") else { return nil }
      values[word[..<equals]] = word[word.index(after: equals)...]
    }
    guard let index = values["ifindex"].flatMap({ Int32($0) }), let name = values["ifname"], !name.isEmpty,
      let inode = values["netns-inode"].flatMap({ UInt64($0) }), let events = values["events"], events == "0" || events == "1"
    else { return nil }
    var configuration = FirewallConfiguration(eventsEnabled: events == "1")
    if let perSecond = values["events-per-second"] {
      guard let value = UInt32(perSecond) else { return nil }
      configuration.eventsPerSecond = value
    }
    self.init(interfaceIndex: index, interfaceName: String(name), namespaceInode: inode, configuration: configuration)
  }
}
