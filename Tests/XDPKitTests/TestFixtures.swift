import Foundation
import XDPKit

/// The reader's fixture objects (Tests/XDPKitObjectTests/Fixtures), parsed.
enum TestFixtures {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("XDPKitObjectTests/Fixtures")

  static func object(_ name: String) throws -> BPFObject {
    let path = directory.appendingPathComponent(name + ".o").path
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
    }
    return try BPFObject(bytes: [UInt8](data))
  }
}

/// Builds Ethernet frames for test runs.
enum Packet {
  /// Ethernet + IPv4 + UDP, `payload` bytes of zeros; optional 802.1Q tag.
  static func ipv4UDP(source: (UInt8, UInt8, UInt8, UInt8), destination: (UInt8, UInt8, UInt8, UInt8) = (192, 0, 2, 2),
                      payload: Int = 18, vlan: UInt16? = nil) -> [UInt8] {
    var frame: [UInt8] = [0x02, 0x58, 0x4b, 0, 0, 0x0b, 0x02, 0x58, 0x4b, 0, 0, 0x0a]
    if let vlan {
      frame += [0x81, 0x00, UInt8(vlan >> 8), UInt8(vlan & 0xff)]
    }
    frame += [0x08, 0x00]
    let totalLength = 20 + 8 + payload
    var ip: [UInt8] = [0x45, 0, UInt8(totalLength >> 8), UInt8(totalLength & 0xff), 0, 0, 0x40, 0, 64, 17, 0, 0,
                       source.0, source.1, source.2, source.3,
                       destination.0, destination.1, destination.2, destination.3]
    var sum: UInt32 = 0
    for i in stride(from: 0, to: 20, by: 2) { sum += UInt32(ip[i]) << 8 | UInt32(ip[i + 1]) }
    while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
    let checksum = ~UInt16(sum)
    ip[10] = UInt8(checksum >> 8)
    ip[11] = UInt8(checksum & 0xff)
    frame += ip
    frame += [0x30, 0x39, 0x30, 0x39, UInt8((8 + payload) >> 8), UInt8((8 + payload) & 0xff), 0, 0]
    frame += [UInt8](repeating: 0, count: payload)
    return frame
  }

  /// Ethernet + IPv6 + UDP from `source` (16 bytes) to 2001:db8::2; optional 802.1Q/802.1ad tag.
  static func ipv6UDP(source: [UInt8], payload: Int = 18, vlan: UInt16? = nil, vlanType: UInt16 = 0x8100) -> [UInt8] {
    var frame: [UInt8] = [0x02, 0x58, 0x4b, 0, 0, 0x0b, 0x02, 0x58, 0x4b, 0, 0, 0x0a]
    if let vlan {
      frame += [UInt8(vlanType >> 8), UInt8(vlanType & 0xff), UInt8(vlan >> 8), UInt8(vlan & 0xff)]
    }
    frame += [0x86, 0xdd]
    let length = 8 + payload
    frame += [0x60, 0, 0, 0, UInt8(length >> 8), UInt8(length & 0xff), 17, 64]
    frame += source
    frame += [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2]
    frame += [0x30, 0x39, 0x30, 0x39, UInt8(length >> 8), UInt8(length & 0xff), 0, 0]
    frame += [UInt8](repeating: 0, count: payload)
    return frame
  }
}

