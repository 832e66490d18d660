/// The BPF programs XDPKit ships (Programs/*.c), compiled by the package build with
/// BPFCompilerPlugin and embedded here.
///
/// ```swift
/// let object = try BPFObject(bytes: XDPPrograms.firewall)
/// ```
public enum XDPPrograms {
  /// `xdp_pass.c`: passes every packet — the "does my environment work" check.
  public static var pass: [UInt8] { object(named: "xdp_pass")! }

  /// `xdp_firewall.c`: the blocklist firewall behind xdp-block (maps as in firewall.h:
  /// BLOCKLIST, BLOCKLIST6, CIDR4, CIDR6, STATS, EVENTS).
  public static var firewall: [UInt8] { object(named: "xdp_firewall")! }

  /// Names of every embedded program object.
  public static var names: [String] { EmbeddedBPFObjects.names }

  /// The embedded object compiled from `name`.c, or `nil`.
  public static func object(named name: String) -> [UInt8]? {
    EmbeddedBPFObjects.bytes(named: name)
  }
}
