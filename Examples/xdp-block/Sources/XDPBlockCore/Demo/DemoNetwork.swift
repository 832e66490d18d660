import Foundation
import Glibc
import XDPKit

/// The demo's private network: two fresh network namespaces joined by a veth pair, made with
/// iproute2 and deleted again by ``destroy()`` (and by `deinit`).
///
/// ```
///   netns xb-demo-<pid>-a (sender)             netns xb-demo-<pid>-b (receiver)
///   veth xbd<pid>a  192.0.2.1/24 (blocked)  ── veth xbd<pid>b  192.0.2.2/24
///                   192.0.2.3/24 (allowed)                    xdp_firewall attached here
/// ```
///
/// Only documentation addresses (192.0.2.0/24), only inside the two namespaces; IPv6 is
/// disabled in both so that no neighbour discovery or router solicitation adds packets to
/// the counts, and static neighbour entries make ARP unnecessary. The host's interfaces,
/// addresses and routes are never touched. Namespaces left by a demo that was killed are
/// removed by the next demo (``sweepStale()``), by the pid in their name.
public final class DemoNetwork {
  /// The namespace name prefix the demo owns.
  public static let namePrefix = "xb-demo-"

  /// The sender's namespace.
  public let senderNamespace: String
  /// The receiver's namespace.
  public let receiverNamespace: String
  /// The sender's veth end.
  public let senderInterface: String
  /// The receiver's veth end, where the firewall is attached.
  public let receiverInterface: String
  /// The sender's address that the demo blocks.
  public let blockedAddress = "192.0.2.1"
  /// The sender's address that stays allowed.
  public let allowedAddress = "192.0.2.3"
  /// The receiver's address.
  public let receiverAddress = "192.0.2.2"
  /// The MAC addresses (locally administered; only ever seen inside the namespaces).
  public let senderMAC = "02:78:62:00:00:0a", receiverMAC = "02:78:62:00:00:0b"

  private let ip: String
  private var created: [String] = []
  private var destroyed = false

  /// Creates the namespaces, the veth pair, addresses and neighbour entries. Whatever was
  /// created is deleted again if a step fails.
  public init() throws(XDPBlockError) {
    ip = try Self.locateIP()
    Self.sweepStale(ip: ip)
    let pid = getpid()
    senderNamespace = "\(Self.namePrefix)\(pid)-a"
    receiverNamespace = "\(Self.namePrefix)\(pid)-b"
    let stem = "xbd\(String(pid, radix: 36))"
    senderInterface = stem + "a"
    receiverInterface = stem + "b"
    do {
      try build()
    } catch {
      destroy()
      throw error
    }
  }

  deinit { destroy() }

  private func build() throws(XDPBlockError) {
    for name in [senderNamespace, receiverNamespace] {
      if FileManager.default.fileExists(atPath: "\(namedNetworkNamespaceDirectory)/\(name)") {
        throw .failed("network namespace \(name) exists already; another demo of this process is running")
      }
      try run(["netns", "add", name])
      created.append(name)
      // New interfaces in the namespace get IPv6 disabled: no stray ND/MLD/RS packets.
      try setSysctl("net/ipv6/conf/default/disable_ipv6", "1", in: name)
      try setSysctl("net/ipv6/conf/all/disable_ipv6", "1", in: name)
    }
    let a = senderNamespace, b = receiverNamespace
    try run(["-n", a, "link", "add", senderInterface, "address", senderMAC, "type", "veth",
             "peer", "name", receiverInterface, "address", receiverMAC, "netns", b])
    try run(["-n", a, "addr", "add", "\(blockedAddress)/24", "dev", senderInterface])
    try run(["-n", a, "addr", "add", "\(allowedAddress)/24", "dev", senderInterface])
    try run(["-n", b, "addr", "add", "\(receiverAddress)/24", "dev", receiverInterface])
    try run(["-n", a, "neigh", "replace", receiverAddress, "lladdr", receiverMAC, "dev", senderInterface, "nud", "permanent"])
    for address in [blockedAddress, allowedAddress] {
      try run(["-n", b, "neigh", "replace", address, "lladdr", senderMAC, "dev", receiverInterface, "nud", "permanent"])
    }
    for (namespace, interface) in [(a, senderInterface), (b, receiverInterface)] {
      try run(["-n", namespace, "link", "set", "lo", "up"])
      try run(["-n", namespace, "link", "set", interface, "up"])
    }
    try waitForCarrier(namespace: a, interface: senderInterface)
    try waitForCarrier(namespace: b, interface: receiverInterface)
  }

  /// Deletes both namespaces, which removes the veth pair and anything attached to it.
  /// Idempotent.
  public func destroy() {
    if destroyed { return }
    destroyed = true
    for name in created.reversed() { _ = try? Shell.run(ip, ["netns", "delete", name]) }
    created.removeAll()
  }

  /// Whether the namespaces exist (not yet destroyed).
  public var exists: Bool { !destroyed && !created.isEmpty }

  private func run(_ arguments: [String]) throws(XDPBlockError) {
    let result = try Shell.run(ip, arguments)
    guard result.status == 0 else {
      throw .failed("`ip \(arguments.joined(separator: " "))` failed (exit \(result.status)): \(result.errorText)")
    }
  }

  /// Writes `value` to /proc/sys/`key` as seen from inside `namespace` (net.* sysctls are
  /// per network namespace, resolved for the calling thread).
  private func setSysctl(_ key: String, _ value: String, in namespace: String) throws(XDPBlockError) {
    do {
      try withNetworkNamespace(named: namespace) {
        try value.write(toFile: "/proc/sys/\(key)", atomically: false, encoding: .utf8)
      }
    } catch {
      throw .failed("set \(key) = \(value) in \(namespace): \(error)")
    }
  }

  private func waitForCarrier(namespace: String, interface: String) throws(XDPBlockError) {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .seconds(5))
    while clock.now < deadline {
      let result = try Shell.run(ip, ["-n", namespace, "link", "show", "dev", interface])
      if result.output.contains("LOWER_UP") { return }
      usleep(10_000)
    }
    throw .failed("\(interface) in \(namespace) did not come up within 5 s")
  }

  static func locateIP() throws(XDPBlockError) -> String {
    for path in ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
    where FileManager.default.isExecutableFile(atPath: path) {
      return path
    }
    throw .failed("the demo needs iproute2's `ip` (apt-get install iproute2)")
  }

  /// Deletes namespaces named `xb-demo-<pid>-a|b` whose process is gone — left by a demo that
  /// was killed before it could clean up. Returns the names deleted.
  @discardableResult
  static func sweepStale(ip: String) -> [String] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: namedNetworkNamespaceDirectory) else {
      return []
    }
    var removed: [String] = []
    for name in names.sorted() {
      guard let pid = ownerPID(ofNamespace: name), pid != getpid(),
        !FileManager.default.fileExists(atPath: "/proc/\(pid)")
      else { continue }
      if (try? Shell.run(ip, ["netns", "delete", name]))?.status == 0 { removed.append(name) }
    }
    return removed
  }

  /// The pid in a name of the form `xb-demo-<pid>-a` or `xb-demo-<pid>-b`, else `nil`.
  public static func ownerPID(ofNamespace name: String) -> Int32? {
    guard name.hasPrefix(namePrefix) else { return nil }
    let parts = name.dropFirst(namePrefix.count).split(separator: "-", omittingEmptySubsequences: false)
    guard parts.count == 2, parts[1] == "a" || parts[1] == "b", let pid = Int32(parts[0]), pid > 0 else {
      return nil
    }
    return pid
  }
}

/// Runs a tool and collects what it printed.
enum Shell {
  struct Result {
    var status: Int32
    var output: String
    var errorText: String
  }

  static func run(_ executable: String, _ arguments: [String]) throws(XDPBlockError) -> Result {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    do { try process.run() } catch { throw .failed("run \(executable): \(error)") }
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Result(
      status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
      errorText: String(decoding: errors, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
  }
}
