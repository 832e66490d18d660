import Glibc

/// Who a pinned state belongs to, and how its firewall was configured: kept with the state
/// (as the text of the `record` symbolic link, since bpffs holds no regular files) and checked
/// by every command before it acts.
///
/// The text is one line of `key=value` words after a version tag:
/// `xdp-block-state-v1 ifindex=5 ifname=veth0 netns-inode=4026532288 events=0 events-per-second=100`,
/// and, for a firewall running behind a multi-program dispatcher,
/// `hook=dispatcher dispatcher-id=40 program-id=42` (without `hook`, the firewall is attached
/// alone through the pinned link, as states written before dispatchers were supported are).
public struct StateRecord: Sendable, Equatable {
  /// How the firewall is attached to the interface.
  public enum Hook: Sendable, Equatable {
    /// Alone, through the bpf_link pinned as `link` in the state directory.
    case link
    /// As one program of the interface's multi-program dispatcher (libxdp's protocol): the
    /// dispatcher's id when the firewall was added (a later change of the dispatcher's
    /// programs replaces the dispatcher) and the firewall's program id, by which it is found
    /// and removed.
    case dispatcher(dispatcherID: UInt32, programID: UInt32)
  }

  /// The interface's index when the state was made.
  public var interfaceIndex: Int32
  /// The interface's name when the state was made.
  public var interfaceName: String
  /// The inode of the interface's network namespace (nsfs), which tells a namespace from a
  /// later one of the same name.
  public var namespaceInode: UInt64
  /// The configuration the firewall was loaded with.
  public var configuration: FirewallConfiguration
  /// How it is attached.
  public var hook: Hook

  static let versionTag = "xdp-block-state-v1"

  /// A record with the given values.
  public init(
    interfaceIndex: Int32, interfaceName: String, namespaceInode: UInt64, configuration: FirewallConfiguration,
    hook: Hook = .link
  ) {
    self.interfaceIndex = interfaceIndex
    self.interfaceName = interfaceName
    self.namespaceInode = namespaceInode
    self.configuration = configuration
    self.hook = hook
  }

  /// The record as the text of the symbolic link.
  public var text: String {
    var words = [
      Self.versionTag, "ifindex=\(interfaceIndex)", "ifname=\(interfaceName)", "netns-inode=\(namespaceInode)",
      "events=\(configuration.eventsEnabled ? 1 : 0)",
    ]
    if let perSecond = configuration.eventsPerSecond { words.append("events-per-second=\(perSecond)") }
    if case .dispatcher(let dispatcherID, let programID) = hook {
      words += ["hook=dispatcher", "dispatcher-id=\(dispatcherID)", "program-id=\(programID)"]
    }
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
    var hook = Hook.link
    switch values["hook"] {
    case nil, "link": break
    case "dispatcher":
      guard let dispatcherID = values["dispatcher-id"].flatMap({ UInt32($0) }),
        let programID = values["program-id"].flatMap({ UInt32($0) })
      else { return nil }
      hook = .dispatcher(dispatcherID: dispatcherID, programID: programID)
    default: return nil
    }
    self.init(
      interfaceIndex: index, interfaceName: String(name), namespaceInode: inode, configuration: configuration,
      hook: hook)
  }
}

/// What a component attach is about to do, pinned (as the text of the `intent` symbolic link)
/// in the new state directory before the firewall is added to the interface's dispatcher: if
/// the process dies before the program is pinned, the next command finds the program it added
/// by name and load time and removes it.
///
/// Text: `xdp-block-intent-v1 ifindex=5 since=123456789` (CLOCK_BOOTTIME nanoseconds, the
/// clock of a program's load time).
struct AttachIntent: Sendable, Equatable {
  var interfaceIndex: Int32
  /// CLOCK_BOOTTIME, in nanoseconds, before the firewall was loaded.
  var since: UInt64

  static let versionTag = "xdp-block-intent-v1"

  init(interfaceIndex: Int32, since: UInt64) {
    self.interfaceIndex = interfaceIndex
    self.since = since
  }

  /// An intent for `interfaceIndex` starting now.
  static func now(interfaceIndex: Int32) -> AttachIntent {
    var time = timespec()
    clock_gettime(CLOCK_BOOTTIME, &time)
    return AttachIntent(interfaceIndex: interfaceIndex, since: UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec))
  }

  var text: String { "\(Self.versionTag) ifindex=\(interfaceIndex) since=\(since)" }

  init?(text: String) {
    let words = text.split(separator: " ")
    guard words.count == 3, words[0] == Substring(Self.versionTag), words[1].hasPrefix("ifindex="),
      words[2].hasPrefix("since="), let index = Int32(words[1].dropFirst(8)), let since = UInt64(words[2].dropFirst(6))
    else { return nil }
    self.init(interfaceIndex: index, since: since)
  }
}
