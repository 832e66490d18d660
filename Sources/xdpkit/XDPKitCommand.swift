import ArgumentParser
import Foundation
import Glibc

@main
struct XDPKitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "xdpkit",
    abstract: "Inspect, load and attach BPF objects without libbpf.",
    subcommands: [Inspect.self, Load.self])

  /// Makes standard output line-buffered, so that a pipe or a supervisor's log gets every
  /// line when it is printed (before `load --attach` blocks, and before a kill), then parses
  /// and runs the command. Errors are printed as `error: <what>: <why>`, with a `hint: …` line
  /// where there is a known fix.
  static func main() {
    lineBufferStandardOutput()
    let arguments = Array(CommandLine.arguments.dropFirst())
    var command: ParsableCommand
    do {
      command = try parseAsRoot(arguments)
    } catch {
      if exitCode(for: error) == .success { exit(withError: error) }
      let names = configuration.subcommands.map { $0._commandName }
      let subcommand = arguments.first.flatMap { names.contains($0) ? " \($0)" : nil } ?? ""
      report(ToolError(message(for: error), hint: "`xdpkit\(subcommand) --help` shows the usage"))
    }
    do {
      try command.run()
    } catch let error as ToolError {
      report(error)
    } catch {
      if error is ExitCode || exitCode(for: error) == .success { exit(withError: error) }
      report(ToolError("\(error)"))
    }
  }

  /// Prints `error` and its hint on standard error and exits with status 1.
  static func report(_ error: ToolError) -> Never {
    printError("error: \(error.description)")
    if let hint = error.hint { printError("hint: \(hint)") }
    exit(withError: ExitCode.failure)
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

/// Writes `text` and a newline to standard error.
func printError(_ text: String) {
  FileHandle.standardError.write(Data((text + "\n").utf8))
}
