/// The BPF programs XDPKit ships (Programs/*.c), compiled by the package build with
/// BPFCompilerPlugin and embedded here.
///
/// ```swift
/// let object = try BPFObject(bytes: XDPPrograms.firewall)
/// ```
public enum XDPPrograms {
  /// `xdp_pass.c`: passes every packet — the "does my environment work" check.
  public static var pass: [UInt8] { embedded("xdp_pass") }

  /// `xdp_firewall.c`: the blocklist firewall behind xdp-block (maps as in firewall.h:
  /// BLOCKLIST, BLOCKLIST6, CIDR4, CIDR6, STATS, EVENTS).
  public static var firewall: [UInt8] { embedded("xdp_firewall") }

  /// Names of every embedded program object.
  public static var names: [String] { EmbeddedBPFObjects.names }

  /// An object this package's own build always embeds (a build without it fails, so no input
  /// can make it missing at run time).
  private static func embedded(_ name: String) -> [UInt8] {
    guard let bytes = object(named: name) else {
      preconditionFailure("\(name).o is not embedded: Programs/\(name).c was not compiled by BPFCompilerPlugin")
    }
    return bytes
  }

  /// The embedded object compiled from `name`.c, or `nil`.
  public static func object(named name: String) -> [UInt8]? {
    EmbeddedBPFObjects.bytes(named: name)
  }
}
