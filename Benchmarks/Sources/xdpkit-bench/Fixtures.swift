import XDPPrograms

// The inputs both sides share, written once per run by `xdpkit-bench fixtures DIR`: the
// blocklist object exactly as the package build embedded it, and the four test frames.
//
// Frames (no FCS; checksums valid, UDP checksum 0 = none):
//   IPv4: Ethernet (14) + IPv4 (20, no options) + UDP (8) + 18 zero bytes = 60 bytes
//   IPv6: Ethernet (14) + IPv6 (40, no extension headers) + UDP (8) + 18 zero bytes = 80 bytes
// Addresses come from the documentation ranges only:
//   ipv4_hit   192.0.2.1     -> 192.0.2.254   (192.0.2.1 is in the blocklist fill)
//   ipv4_miss  198.51.100.7  -> 192.0.2.254   (in no map)
//   ipv6_miss  2001:db8::7   -> 2001:db8::1   (in no map)
//   cidr_hit   203.0.113.9   -> 192.0.2.254   (inside 203.0.113.0/24, in CIDR4)

enum Fixtures {
  /// The frame names, in the order the suites run them.
  static let frameNames = ["ipv4_hit", "ipv4_miss", "ipv6_miss", "cidr_hit"]

  static func write(_ arguments: [String]) {
    guard arguments.count == 1 else { fail("usage: fixtures DIR") }
    let directory = arguments[0]
    writeFile("\(directory)/firewall.o", XDPPrograms.firewall)
    for name in frameNames { writeFile("\(directory)/frame_\(name).bin", frame(name)) }
  }

  static func frame(_ name: String) -> [UInt8] {
    switch name {
    case "ipv4_hit": return ipv4UDP(source: [192, 0, 2, 1], destination: [192, 0, 2, 254])
    case "ipv4_miss": return ipv4UDP(source: [198, 51, 100, 7], destination: [192, 0, 2, 254])
    case "cidr_hit": return ipv4UDP(source: [203, 0, 113, 9], destination: [192, 0, 2, 254])
    case "ipv6_miss":
      let prefix: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11)
      return ipv6UDP(source: prefix + [7], destination: prefix + [1])
    default: fail("unknown frame \(name)")
    }
  }

  static let payload = [UInt8](repeating: 0, count: 18)

  static func ethernet(type: UInt16) -> [UInt8] {
    // Locally administered unicast MACs.
    [0x02, 0, 0, 0, 0, 0x02] + [0x02, 0, 0, 0, 0, 0x01] + [UInt8(type >> 8), UInt8(type & 0xff)]
  }

  static func udp(length: Int) -> [UInt8] {
    // 40000 -> 9 (discard), checksum 0.
    [0x9c, 0x40, 0x00, 0x09, UInt8(length >> 8), UInt8(length & 0xff), 0, 0]
  }

  static func ipv4UDP(source: [UInt8], destination: [UInt8]) -> [UInt8] {
    let total = 20 + 8 + payload.count
    var ip: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), 0, 0, 0x40, 0, 64, 17, 0, 0]
    ip += source + destination
    var sum: UInt32 = 0
    for i in stride(from: 0, to: ip.count, by: 2) { sum += UInt32(ip[i]) << 8 | UInt32(ip[i + 1]) }
    while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
    let checksum = ~UInt16(sum)
    ip[10] = UInt8(checksum >> 8)
    ip[11] = UInt8(checksum & 0xff)
    return ethernet(type: 0x0800) + ip + udp(length: 8 + payload.count) + payload
  }

  static func ipv6UDP(source: [UInt8], destination: [UInt8]) -> [UInt8] {
    let length = 8 + payload.count
    let ip: [UInt8] = [0x60, 0, 0, 0, UInt8(length >> 8), UInt8(length & 0xff), 17, 64] + source + destination
    return ethernet(type: 0x86dd) + ip + udp(length: length) + payload
  }
}
