import ArgumentParser
import Glibc
import XDPKit

/// `xdpkit xdp …`: what runs in XDP on this host's interfaces.
struct XDPCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "xdp", abstract: "Show the XDP programs on network interfaces.",
    subcommands: [XDPStatus.self, XDPAttach.self, XDPDetach.self])
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
        lines.append(
          pad(" =>", 16) + pad("\(component.runConfig.priority)", 6) + pad(component.name, 18) + pad("", 9)
            + pad("\(component.id)", 7) + pad(component.tag, 18) + component.runConfig.chainCallActionNames.joined(separator: ","))
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

/// `xdpkit xdp attach OBJECT --program P IFACE [--priority N] [--chain-call-actions pass,drop]`:
/// adds one program to the interface's multi-program dispatcher (creating it if needed), as
/// `xdp-loader load` does. The program stays attached after the command exits (it is pinned).
struct XDPAttach: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "attach",
    abstract: "Add an XDP program to the interface's multi-program dispatcher (libxdp's protocol).")

  @Argument(help: "The BPF object file.")
  var file: String

  @Argument(help: "The interface.")
  var interface: String

  @Option(help: "The XDP program to add (default: the object's only XDP program).")
  var program: String?

  @Option(help: "Run priority, lower first (default: the object's XDP_RUN_CONFIG, else 50).")
  var priority: UInt32?

  @Option(help: "Comma-separated actions after which the next program runs: aborted, drop, pass, tx, redirect (default: the object's XDP_RUN_CONFIG, else pass).")
  var chainCallActions: String?

  @Option(help: "Mode of a new dispatcher: auto, native or generic.")
  var mode: XDPAttachMode = .auto

  func run() throws {
    let object = try readObject(file)
    let xdp = object.programs.filter { $0.programType == .xdp }.map(\.name)
    guard let name = program ?? (xdp.count == 1 ? xdp[0] : nil) else {
      throw ToolError("\(file) has \(xdp.count) XDP programs (\(xdp.joined(separator: ", "))): choose one with --program")
    }
    var actions: Set<XDPAction>? = nil
    if let chainCallActions {
      actions = []
      for word in chainCallActions.split(separator: ",") {
        // The protocol's names are indexed by action value: XDP_ABORTED is 0, … XDP_REDIRECT 4.
        let name = word.uppercased().hasPrefix("XDP_") ? word.uppercased() : "XDP_" + word.uppercased()
        guard let index = XDPRunConfig.actionNames.firstIndex(of: name), let action = XDPAction(rawValue: UInt32(index)) else {
          throw ToolError("--chain-call-actions: unknown action \(word) (aborted, drop, pass, tx, redirect)")
        }
        actions?.insert(action)
      }
    }
    let attached: XDPComponentAttachment
    do {
      attached = try XDPComponent(object: object, program: name).attach(
        to: .name(interface), mode: mode, priority: priority, chainCallActions: actions)
    } catch {
      throw ToolError("cannot add \(name) to \(interface): \(error)")
    }
    print("attached \(name) to \(interface): program id \(attached.programID), \(attached.runConfig)")
  }
}

/// `xdpkit xdp detach IFACE ID`: removes one program from the interface's dispatcher, whoever
/// added it, as `xdp-loader unload -i ID` does.
struct XDPDetach: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "detach", abstract: "Remove a program (by kernel id) from the interface's dispatcher.")

  @Argument(help: "The interface.")
  var interface: String

  @Argument(help: "The program's kernel id (see xdpkit xdp status).")
  var id: UInt32

  func run() throws {
    do { try XDP.removeProgram(id: id, from: .name(interface)) } catch {
      throw ToolError("cannot remove program \(id) from \(interface): \(error)")
    }
    print("removed program id \(id) from \(interface)")
  }
}
