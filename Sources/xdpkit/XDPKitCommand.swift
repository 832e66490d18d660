import ArgumentParser
import XDPKitToolSupport

@main
struct XDPKitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "xdpkit",
    abstract: "Inspect, load and attach BPF objects without libbpf.",
    subcommands: [Inspect.self, Load.self, Generate.self, XDPCommand.self, Feature.self, ProgCommand.self, MapCommand.self, LinkCommand.self, BTFCommand.self])

  /// Runs the command with line-buffered standard output, printing errors as
  /// `error: <what>: <why>` and `hint: <fix>` (see ``ToolMain``).
  static func main() {
    ToolMain.run(Self.self, arguments: Array(CommandLine.arguments.dropFirst())) { error in
      guard let error = error as? ToolError else { return ("\(error)", nil) }
      return (error.description, error.hint)
    }
  }
}

/// An error the tool prints as `error: <description>` (what failed, then why) and, when
/// there is a known fix, `hint: <hint>`; it exits with status 1.
struct ToolError: Error, CustomStringConvertible {
  var description: String
  var hint: String?
  init(_ description: String, hint: String? = nil) {
    self.description = description
    self.hint = hint
  }
}
