import ArgumentParser
import Glibc
import XDPKit

/// `xdpkit xdp …`: what runs in XDP on this host's interfaces.
struct XDPCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "xdp", abstract: "Show the XDP programs on network interfaces.",
    subcommands: [XDPStatus.self])
}

/// `xdpkit xdp status [IFACE]`: every interface's XDP program, with the programs of a
/// multi-program dispatcher (installed by XDPKit, xdp-loader or xdp-filter) in run order, as
/// `xdp-loader status` shows them.
struct XDPStatus: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract: "Show each interface's XDP program, and a dispatcher's programs in run order.")

  @Argument(help: "Only this interface (default: every interface of the current network namespace).")
  var interface: String?

  func run() throws {
    let names = try interface.map { [$0] } ?? Self.interfaceNames()
    print(Self.header)
    for name in names {
      let programs: XDPInterfacePrograms
      do { programs = try XDP.programs(on: .name(name)) } catch {
        throw ToolError("\(name): cannot read its XDP state: \(error)")
      }
      for line in Self.lines(interface: name, programs) { print(line) }
    }
  }

  static let header = pad("Interface", 16) + pad("Prio", 6) + pad("Program name", 18) + pad("Mode", 9)
    + pad("ID", 7) + pad("Tag", 18) + "Chain actions"

  /// The table rows for one interface.
  static func lines(interface: String, _ programs: XDPInterfacePrograms) -> [String] {
    switch programs {
    case .none:
      return [pad(interface, 16) + pad("", 6) + "<no XDP program>"]
    case .single(let id, let name, let mode):
      return [pad(interface, 16) + pad("", 6) + pad(name, 18) + pad(mode.rawValue, 9) + "\(id)"]
    case .dispatcher(let dispatcher):
      var lines = [
        pad(interface, 16) + pad("", 6) + pad("xdp_dispatcher", 18) + pad(dispatcher.mode.rawValue, 9)
          + pad("\(dispatcher.id)", 7) + "(protocol version \(dispatcher.version))",
      ]
      for component in dispatcher.components {
        let actions = XDPRunConfig.actionNames.enumerated()
          .filter { component.runConfig.chainCallActions & (1 << UInt32($0.offset)) != 0 }.map(\.element)
        lines.append(
          pad(" =>", 16) + pad("\(component.runConfig.priority)", 6) + pad(component.name, 18) + pad("", 9)
            + pad("\(component.id)", 7) + pad(component.tag, 18) + actions.joined(separator: ","))
      }
      return lines
    }
  }

  static func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
  }

  /// The interfaces of the current network namespace, by index.
  static func interfaceNames() throws -> [String] {
    guard let list = if_nameindex() else { throw ToolError("cannot list the network interfaces: \(String(cString: strerror(errno)))") }
    defer { if_freenameindex(list) }
    var names: [String] = []
    var entry = list
    while entry.pointee.if_index != 0, let name = entry.pointee.if_name {
      names.append(String(cString: name))
      entry += 1
    }
    return names
  }
}
