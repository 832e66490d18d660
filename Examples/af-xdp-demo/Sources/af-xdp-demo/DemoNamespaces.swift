import Foundation
import Glibc
import XDPKit

/// The demo's private network, made with iproute2 and deleted again by ``destroy()``:
///
/// ```
///   netns xa-demo-<pid>-a (sender, UDP :7777)     netns xa-demo-<pid>-b (AF_XDP echo)
///   veth xad<pid>a 192.0.2.1/24  ───────────────  veth xad<pid>b 192.0.2.2/24, queue 0
/// ```
///
/// Documentation addresses only, inside the two namespaces only; IPv6 is off in both (no
/// stray neighbour discovery), and static neighbour entries make ARP unnecessary.
final class DemoNamespaces {
  let sender: String, receiver: String
  let senderInterface: String, receiverInterface: String
  let senderAddress = "192.0.2.1", receiverAddress = "192.0.2.2"
  let senderMAC = "02:78:61:00:00:0a", receiverMAC = "02:78:61:00:00:0b"
  private let ip: String
  private var made: [String] = []

  init() throws {
    guard let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
      .first(where: { FileManager.default.isExecutableFile(atPath: $0) })
    else { throw DemoError("the demo needs iproute2's `ip`") }
    self.ip = ip
    let pid = getpid()
    sender = "xa-demo-\(pid)-a"
    receiver = "xa-demo-\(pid)-b"
    senderInterface = "xad\(String(pid, radix: 36))a"
    receiverInterface = "xad\(String(pid, radix: 36))b"
    do { try build() } catch {
      destroy()
      throw error
    }
  }

  deinit { destroy() }

  private func build() throws {
    for name in [sender, receiver] {
      try ip("netns", "add", name)
      made.append(name)
      try withNetworkNamespace(named: name) {
        for key in ["default", "all"] {
          try "1".write(toFile: "/proc/sys/net/ipv6/conf/\(key)/disable_ipv6", atomically: false, encoding: .utf8)
        }
      }
    }
    try ip("-n", sender, "link", "add", senderInterface, "address", senderMAC, "type", "veth",
           "peer", "name", receiverInterface, "address", receiverMAC, "netns", receiver)
    try ip("-n", sender, "addr", "add", "\(senderAddress)/24", "dev", senderInterface)
    try ip("-n", receiver, "addr", "add", "\(receiverAddress)/24", "dev", receiverInterface)
    try ip("-n", sender, "neigh", "replace", receiverAddress, "lladdr", receiverMAC, "dev",
           senderInterface, "nud", "permanent")
    try ip("-n", receiver, "neigh", "replace", senderAddress, "lladdr", senderMAC, "dev",
           receiverInterface, "nud", "permanent")
    for (namespace, interface) in [(sender, senderInterface), (receiver, receiverInterface)] {
      try ip("-n", namespace, "link", "set", interface, "up")
    }
    // Carrier: both ends up.
    for _ in 0..<500 {
      let process = try launch(["-n", receiver, "link", "show", "dev", receiverInterface], capture: true)
      if process.output.contains("LOWER_UP") { return }
      usleep(10_000)
    }
    throw DemoError("\(receiverInterface) did not come up within 5 s")
  }

  /// Deletes both namespaces and with them the veth pair and the XDP program. Idempotent.
  func destroy() {
    for name in made.reversed() { _ = try? launch(["netns", "delete", name], capture: false) }
    made.removeAll()
  }

  private func ip(_ arguments: String...) throws {
    let result = try launch(arguments, capture: true)
    guard result.status == 0 else {
      throw DemoError("`ip \(arguments.joined(separator: " "))` failed: \(result.output)")
    }
  }

  private func launch(_ arguments: [String], capture: Bool) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: ip)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, capture ? String(decoding: data, as: UTF8.self) : "")
  }
}

/// A failure of the demo's own steps, with what went wrong.
struct DemoError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
