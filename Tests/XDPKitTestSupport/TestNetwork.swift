import Foundation
import Synchronization
import XDPKitSys

/// Two fresh network namespaces joined by a veth pair, for tests that attach programs and send
/// traffic without touching the host's interfaces, addresses or routes.
///
/// ```
///   netns xk-<pid>-<n>-a                      netns xk-<pid>-<n>-b
///   ┌───────────────────────┐                ┌───────────────────────┐
///   │ veth xk<pid>-<n>a     │────────────────│ veth xk<pid>-<n>b     │
///   │ 192.0.2.1/24          │                │ 192.0.2.2/24          │
///   │ 2001:db8::1/64        │                │ 2001:db8::2/64        │
///   └───────────────────────┘                └───────────────────────┘
/// ```
///
/// The veth is created directly inside the two namespaces (it never exists in the host's), both
/// ends and both loopbacks are up, IPv6 addresses skip duplicate address detection, and each
/// side has a permanent neighbour entry for the other, so the first datagrams are not queued
/// or dropped waiting for ARP / neighbour discovery. MAC addresses are fixed: 02:58:4b:00:00:0a
/// on A, 02:58:4b:00:00:0b on B (locally administered; only ever seen inside the namespaces).
///
/// ``destroy()`` (also run by `deinit`) deletes both namespaces, which removes the veth and
/// everything attached to it. It is idempotent. Namespaces left by a crashed run are removed
/// by ``sweepStaleNamespaces()``, run once per process before the first network is made.
public final class TestNetwork: Sendable {
  /// One end of the network.
  public enum Side: Sendable, Hashable, CustomStringConvertible {
    case a, b
    /// The other end.
    public var peer: Side { self == .a ? .b : .a }
    public var description: String { self == .a ? "a" : "b" }
  }

  /// The namespace name prefix this helper owns; nothing else is ever deleted.
  public static let namePrefix = "xk-"

  /// The names of the two network namespaces (under /var/run/netns).
  public let namespaceA: String, namespaceB: String
  /// The veth ends, `interfaceA` inside `namespaceA` and `interfaceB` inside `namespaceB`.
  public let interfaceA: String, interfaceB: String
  /// The ifindex of each veth end, as seen inside its own namespace.
  public let interfaceIndexA: Int32, interfaceIndexB: Int32
  /// The MAC address of each veth end.
  public let macA = "02:58:4b:00:00:0a", macB = "02:58:4b:00:00:0b"
  /// The IPv4 address of each end (192.0.2.0/24, TEST-NET-1).
  public let ipv4A = "192.0.2.1", ipv4B = "192.0.2.2"
  /// The IPv6 address of each end (2001:db8::/64, documentation range).
  public let ipv6A = "2001:db8::1", ipv6B = "2001:db8::2"

  private let ipPath: String
  private let destroyed = Mutex(false)

  private static let counter = Mutex(0)
  private static let sweep = Mutex(false)

  /// Creates both namespaces, the veth pair and the addresses.
  ///
  /// If any step fails, whatever was created is deleted before the error is thrown.
  public init() throws {
    let ip = try Command.ipPath()
    Self.sweepStaleNamespacesOnce(ip: ip)
    let pid = getpid()
    let n = Self.counter.withLock { value -> Int in
      value += 1
      return value
    }
    let a = "\(Self.namePrefix)\(pid)-\(n)-a", b = "\(Self.namePrefix)\(pid)-\(n)-b"
    // Interface names must fit IFNAMSIZ - 1 = 15 bytes: pid and counter in base 36.
    let stem = "xk\(String(pid, radix: 36))-\(String(n, radix: 36))"
    let vethA = stem + "a", vethB = stem + "b"
    precondition(vethA.utf8.count <= 15, "veth name \(vethA) is longer than 15 bytes")

    ipPath = ip
    namespaceA = a
    namespaceB = b
    interfaceA = vethA
    interfaceB = vethB

    var created: [String] = []
    do {
      for name in [a, b] {
        try Command.check(ip, ["netns", "add", name])
        created.append(name)
      }
      try Command.check(ip, [
        "-n", a, "link", "add", vethA, "address", macA, "type", "veth",
        "peer", "name", vethB, "address", macB, "netns", b,
      ])
      for (ns, veth, v4, v6, peerV4, peerV6, peerMAC) in [
        (a, vethA, ipv4A, ipv6A, ipv4B, ipv6B, macB), (b, vethB, ipv4B, ipv6B, ipv4A, ipv6A, macA),
      ] {
        // The loopback of the namespace this helper just created (`-n ns`), never the host's.
        try Command.check(ip, ["-n", ns, "link", "set", "lo", "up"])
        try Command.check(ip, ["-n", ns, "addr", "add", "\(v4)/24", "dev", veth])
        try Command.check(ip, ["-n", ns, "-6", "addr", "add", "\(v6)/64", "dev", veth, "nodad"])
        try Command.check(ip, ["-n", ns, "link", "set", veth, "up"])
        try Command.check(ip, [
          "-n", ns, "neigh", "replace", peerV4, "lladdr", peerMAC, "dev", veth, "nud", "permanent",
        ])
        try Command.check(ip, [
          "-n", ns, "-6", "neigh", "replace", peerV6, "lladdr", peerMAC, "dev", veth, "nud",
          "permanent",
        ])
      }
      interfaceIndexA = try withNetworkNamespace(named: a) { try XDPKitSys.interfaceIndex(named: vethA) }
      interfaceIndexB = try withNetworkNamespace(named: b) { try XDPKitSys.interfaceIndex(named: vethB) }
      try Self.waitForCarrier(ip: ip, namespace: a, interface: vethA)
      try Self.waitForCarrier(ip: ip, namespace: b, interface: vethB)
    } catch {
      for name in created { _ = try? Command.run(ip, ["netns", "delete", name]) }
      throw error
    }
  }

  deinit { destroy() }

  /// Deletes both namespaces (and so the veth pair, its addresses and any XDP program on it).
  /// Safe to call more than once, and from `deinit`.
  public func destroy() {
    let already = destroyed.withLock { value -> Bool in
      defer { value = true }
      return value
    }
    if already { return }
    for name in [namespaceA, namespaceB] {
      _ = try? Command.run(ipPath, ["netns", "delete", name])
    }
  }

  /// Whether ``destroy()`` has run.
  public var isDestroyed: Bool { destroyed.withLock { $0 } }

  // MARK: - Per side

  /// The namespace name of `side`.
  public func namespace(_ side: Side) -> String { side == .a ? namespaceA : namespaceB }
  /// The veth end inside `side`'s namespace.
  public func interfaceName(_ side: Side) -> String { side == .a ? interfaceA : interfaceB }
  /// The ifindex of the veth end of `side`, inside its namespace.
  public func interfaceIndex(_ side: Side) -> Int32 {
    side == .a ? interfaceIndexA : interfaceIndexB
  }
  /// The IPv4 address of `side`.
  public func ipv4(_ side: Side) -> String { side == .a ? ipv4A : ipv4B }
  /// The IPv6 address of `side`.
  public func ipv6(_ side: Side) -> String { side == .a ? ipv6A : ipv6B }

  /// Runs `body` on this thread inside `side`'s namespace; see `withNetworkNamespace(named:_:)`.
  /// Create sockets, look up interfaces and attach XDP programs to them inside `body`.
  public func withNamespace<R>(_ side: Side, _ body: () throws -> R) throws -> R {
    try withNetworkNamespace(named: namespace(side), body)
  }

  /// Runs `command arguments…` inside `side`'s namespace (`ip netns exec NS command …`) and
  /// returns its output and exit status without throwing on a non-zero status.
  @discardableResult
  public func run(
    in side: Side, _ command: String, _ arguments: String..., timeout: Duration = .seconds(30)
  ) throws -> CommandResult {
    try Command.run(ipPath, ["netns", "exec", namespace(side), command] + arguments,
                    timeout: timeout)
  }

  /// Runs `ip -n NS arguments…` for `side` and throws unless it succeeds.
  @discardableResult
  public func ip(_ side: Side, _ arguments: String...) throws -> CommandResult {
    try Command.check(ipPath, ["-n", namespace(side)] + arguments)
  }

  /// Creates an up bridge named `name` inside `side`'s namespace: an interface the test owns
  /// whose driver has no native XDP (no ndo_bpf), for the generic-mode fallback paths.
  /// It goes away with the namespace.
  public func addBridge(_ name: String, on side: Side) throws {
    try ip(side, "link", "add", name, "type", "bridge")
    try ip(side, "link", "set", name, "up")
  }

  /// Adds another address (e.g. "198.51.100.1/24" or "2001:db8:1::1/64") to `side`'s veth end;
  /// IPv6 addresses skip duplicate address detection. Use documentation ranges only.
  public func addAddress(_ cidr: String, on side: Side) throws {
    if cidr.contains(":") {
      try ip(side, "-6", "addr", "add", cidr, "dev", interfaceName(side), "nodad")
    } else {
      try ip(side, "addr", "add", cidr, "dev", interfaceName(side))
    }
  }

  /// Adds a permanent neighbour entry on `side` for `address`, pointing at the peer's MAC, so
  /// traffic to an extra address on the peer needs no ARP / neighbour discovery.
  public func addPeerNeighbour(_ address: String, on side: Side) throws {
    let mac = side == .a ? macB : macA
    try ip(side, address.contains(":") ? "-6" : "-4", "neigh", "replace", address, "lladdr", mac,
           "dev", interfaceName(side), "nud", "permanent")
  }

  // MARK: - Housekeeping

  /// Deletes namespaces named `xk-<pid>-<n>-a|b` whose `<pid>` is not a running process —
  /// left behind by a test run that crashed. Namespaces of live processes (other test runs in
  /// parallel) and all other namespaces are left alone. Returns the names deleted.
  @discardableResult
  public static func sweepStaleNamespaces() -> [String] {
    guard let ip = try? Command.ipPath(),
      let names = try? FileManager.default.contentsOfDirectory(atPath: namedNetworkNamespaceDirectory)
    else { return [] }
    var removed: [String] = []
    for name in names.sorted() {
      guard let pid = ownerPID(ofNamespace: name), pid != getpid(),
        !FileManager.default.fileExists(atPath: "/proc/\(pid)")
      else { continue }
      if (try? Command.run(ip, ["netns", "delete", name]))?.succeeded == true {
        removed.append(name)
      }
    }
    return removed
  }

  /// The pid in a name of the form `xk-<pid>-<n>-a` or `xk-<pid>-<n>-b`, else `nil`.
  public static func ownerPID(ofNamespace name: String) -> Int32? {
    guard name.hasPrefix(namePrefix) else { return nil }
    let parts = name.dropFirst(namePrefix.count).split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count == 3, parts[2] == "a" || parts[2] == "b",
      let pid = Int32(parts[0]), pid > 0, Int(parts[1]) != nil
    else { return nil }
    return pid
  }

  private static func sweepStaleNamespacesOnce(ip: String) {
    let first = sweep.withLock { done -> Bool in
      defer { done = true }
      return !done
    }
    if first { sweepStaleNamespaces() }
  }

  private static func waitForCarrier(ip: String, namespace: String, interface: String) throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .seconds(5))
    while clock.now < deadline {
      let result = try Command.check(ip, ["-n", namespace, "link", "show", "dev", interface])
      if result.standardOutput.contains("LOWER_UP") { return }
      usleep(10_000)
    }
    throw TestSupportError.timedOut("carrier on \(interface) in \(namespace)")
  }
}
