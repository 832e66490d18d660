import Testing
import XDPBlockCore
import XDPKit

@Suite("Drop events, statistics, pin layout and error messages")
struct FormattingTests {
  /// A `struct drop_event` as the program writes it.
  static func eventBytes(family: UInt8, reason: UInt8, vlan: Bool, length: UInt32, address: [UInt8]) -> [UInt8] {
    var bytes: [UInt8] = []
    withUnsafeBytes(of: UInt64(123_456_789).littleEndian) { bytes += $0 }
    bytes += [family, 1, reason, vlan ? 1 : 0]
    withUnsafeBytes(of: length.littleEndian) { bytes += $0 }
    bytes += address + [UInt8](repeating: 0, count: 16 - address.count)
    return bytes
  }

  @Test("an IPv4 drop event decodes to the seeds' log line")
  func ipv4Event() throws {
    let event = try #require(DropEvent(bytes: Self.eventBytes(family: 4, reason: 1, vlan: false, length: 74, address: [192, 0, 2, 1])))
    #expect(event.timestampNs == 123_456_789)
    #expect(event.family == 4)
    #expect(event.action == .drop && event.action.rawValue == 1)
    #expect(event.reason == .exact4)
    #expect(!event.vlanTagged)
    #expect(event.packetLength == 74)
    #expect(event.source == "192.0.2.1")
    #expect(event.description == "SRC: 192.0.2.1, ACTION: 1 (drop), REASON: exact")
  }

  @Test("an IPv6 prefix drop event in a VLAN")
  func ipv6Event() throws {
    let address = try IPv6Address(parsing: "2001:db8::1:5").bytes
    let event = try #require(DropEvent(bytes: Self.eventBytes(family: 6, reason: 4, vlan: true, length: 110, address: address)))
    #expect(event.source == "2001:db8::1:5")
    #expect(event.reason == .prefix6)
    #expect(event.description == "SRC: 2001:db8::1:5, ACTION: 1 (drop), REASON: prefix, VLAN")
  }

  @Test("a short record is not an event")
  func shortEvent() {
    #expect(DropEvent(bytes: [UInt8](repeating: 0, count: 31)) == nil)
    #expect(DropEvent.size == 32 && XDPFirewall.layoutMismatches.isEmpty)
    #expect(MemoryLayout<ActionStats>.stride == 16)
  }

  @Test("the stats table lists every action with packets and bytes")
  func table() {
    let stats = FirewallStatistics(perAction: [
      .zero, ActionStats(packets: 100, bytes: 7400), ActionStats(packets: 12, bytes: 888),
    ])
    #expect(stats.dropped == ActionStats(packets: 100, bytes: 7400))
    #expect(stats.passed == ActionStats(packets: 12, bytes: 888))
    #expect(stats.perAction.count == 5)
    let lines = stats.table.split(separator: "\n").map(String.init)
    #expect(lines.count == 6)
    #expect(lines[0].hasPrefix("ACTION"))
    #expect(lines[2].split(separator: " ") == ["XDP_DROP", "100", "7400"])
    #expect(lines[3].split(separator: " ") == ["XDP_PASS", "12", "888"])
    #expect(lines[5].split(separator: " ") == ["XDP_REDIRECT", "0", "0"])
  }

  @Test("the live line shows totals and per-second rates")
  func liveLine() {
    let before = FirewallStatistics(perAction: [.zero, ActionStats(packets: 10, bytes: 1000), ActionStats(packets: 100, bytes: 10_000)])
    let after = FirewallStatistics(perAction: [.zero, ActionStats(packets: 30, bytes: 251_000), ActionStats(packets: 300, bytes: 30_000)])
    let line = LiveStatistics.format(current: after, previous: before, seconds: 2)
    #expect(line == "passed 300 pkts (100 pps, 0.1 Mbit/s)  dropped 30 pkts (10 pps, 1.0 Mbit/s)")
    let clock = ContinuousClock()
    let start = clock.now
    var live = LiveStatistics(initial: before, at: start)
    #expect(live.line(for: after, at: start.advanced(by: .seconds(2))) == line)
  }

  @Test("pin paths: host, namespace, and names bpffs would refuse")
  func pinLayout() throws {
    let host = try PinLayout(interface: "veth0", root: "/sys/fs/bpf/xdp-block")
    #expect(host.directory == "/sys/fs/bpf/xdp-block/host/veth0")
    #expect(host.currentDirectory == "/sys/fs/bpf/xdp-block/host/veth0/current")
    let namespaced = try PinLayout(interface: "veth1", namespace: "blue", root: "/sys/fs/bpf/xdp-block")
    #expect(namespaced.directory == "/sys/fs/bpf/xdp-block/netns/blue/veth1")
    #expect(namespaced.interfaceDescription == "veth1 (netns blue)")
    #expect(namespaced.commandLineArguments == "veth1 --netns blue")
    // A host interface named like a namespace's directory cannot collide with it.
    let lookalike = try PinLayout(interface: "netns-blue", root: "/sys/fs/bpf/xdp-block")
    #expect(lookalike.directory == "/sys/fs/bpf/xdp-block/host/netns-blue")
    let vlan = try PinLayout(interface: "veth0.100", namespace: "a.b%c", root: "/sys/fs/bpf/xdp-block")
    #expect(vlan.directory == "/sys/fs/bpf/xdp-block/netns/a%2eb%25c/veth0%2e100")
    #expect(throws: XDPBlockError.self) { try PinLayout(interface: "xkv0:1") }
    #expect(throws: XDPBlockError.self) { try PinLayout(interface: "eth 0") }
    #expect(throws: XDPBlockError.self) { try PinLayout(interface: "../etc") }
    #expect(throws: XDPBlockError.self) { try PinLayout(interface: "") }
    #expect(throws: XDPBlockError.self) { try PinLayout(interface: "averyveryverylongname") }
    #expect(throws: XDPBlockError.self) { try PinLayout(interface: "veth0", namespace: "a/b") }
  }

  @Test("the messages a user sees: what and why in the description, the way out in the hint")
  func messages() throws {
    let root = XDPBlockError.needsRoot(command: "demo", missing: [])
    #expect(root.description == "xdp-block demo needs root (CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN)")
    #expect(root.hint == "run it as root, for example with sudo")
    let full = XDPBlockError.blocklistFull(map: "BLOCKLIST", capacity: 131072)
    #expect(full.description == "blocklist full (131072 entries in BLOCKLIST)")
    #expect(full.hint == "remove entries, or block a prefix instead")
    let other = XDPBlockError.alreadyAttached(interface: "veth0", namespace: "blue", programID: 42, mode: "native")
    #expect(other.description == "another XDP program is already attached to veth0 in network namespace blue (program id 42, native mode)")
    #expect(other.hint == "to put xdp-block in its place, run `xdp-block attach veth0 --netns blue --replace`")
    #expect(other.report == """
      error: another XDP program is already attached to veth0 in network namespace blue (program id 42, native mode)
      hint: to put xdp-block in its place, run `xdp-block attach veth0 --netns blue --replace`
      """)
    let native = XDPBlockError.modeNotSupported(interface: "veth0", mode: .native, detail: "EOPNOTSUPP")
    #expect(native.description == "veth0 does not support native XDP: EOPNOTSUPP")
    #expect(native.hint == "try --mode generic")
    #expect(XDPBlockError.modeNotSupported(interface: "veth0", mode: .generic, detail: "EINVAL").hint == nil)
    #expect(XDPBlockError.noSuchInterface(interface: "nosuch0", namespace: nil).description == "interface nosuch0 not found")
    let namespace = XDPBlockError.noSuchNamespace("blue")
    #expect(namespace.description == "no network namespace named blue: nothing at /var/run/netns/blue")
    #expect(namespace.hint == "create it with `ip netns add blue`")
    let layout = try PinLayout(interface: "veth1", namespace: "blue")
    let notAttached = XDPBlockError.notAttached(layout)
    #expect(notAttached.description == "xdp-block is not attached to veth1 (netns blue): nothing pinned in \(layout.directory)")
    #expect(notAttached.hint == "run `xdp-block attach veth1 --netns blue` first")
    let line = XDPBlockError.invalidLine(source: "list.txt", line: 7, text: "192.0.2.300", reason: .address(.invalidIPv4Address("192.0.2.300")))
    #expect(line.report.hasPrefix("error: list.txt:7: invalid address or prefix \"192.0.2.300\": not an IPv4 address: \"192.0.2.300\"\nhint: "))
    #expect(XDPBlockError.failed("not in the blocklist: 192.0.2.1").report == "error: not in the blocklist: 192.0.2.1")
  }

  @Test("a full map becomes the blocklist-full error, for E2BIG and for the trie's ENOSPC")
  func fullMessages() throws {
    let exact = try BlockEntry(parsing: "192.0.2.1")
    let prefix = try BlockEntry(parsing: "198.51.100.0/24")
    let e2big = XDPBlockError.insertError(.full(map: "BLOCKLIST"), entry: exact, capacity: 131072)
    #expect(e2big.description == "blocklist full (131072 entries in BLOCKLIST)")
    let enospc = XDPBlockError.insertError(
      .syscall(map: "CIDR4", SyscallError(command: .mapUpdateElement, errno: .noSpace)), entry: prefix, capacity: 16384)
    #expect(enospc.description.hasPrefix("prefix blocklist full (16384 prefixes"))
  }
}
