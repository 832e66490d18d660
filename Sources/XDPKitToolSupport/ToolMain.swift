// `stdout` is a C global variable that strict concurrency checking refuses to touch; it is
// used once, at start-up, before any other thread exists.
@preconcurrency import Glibc
import ArgumentParser
import Foundation

/// The start-up and error reporting the two command-line tools (`xdpkit`, `xdp-block`) share.
///
/// Standard output is made line-buffered, so that a pipe or a supervisor's log gets every line
/// when it is printed (before a command blocks, and before a kill), not when 4 KiB have piled
/// up or the process exits. Errors go to standard error in one format: `error: <what>: <why>`
/// and, where there is a known fix, `hint: <fix>`; the exit status is then 1.
public enum ToolMain {
  /// Parses `arguments` as `Root`'s command line and runs the command, then exits.
  ///
  /// A usage error is printed with ArgumentParser's message and a hint naming `--help`; an
  /// error the command throws is worded by `describe` (what and why, and a hint or `nil`).
  /// Help requests and ``ExitCode``s are left to ArgumentParser.
  public static func run<Root: ParsableCommand>(
    _ root: Root.Type, arguments: [String], describe: (any Error) -> (description: String, hint: String?)
  ) -> Never {
    setvbuf(stdout, nil, _IOLBF, 0)
    var command: ParsableCommand
    do {
      command = try Root.parseAsRoot(arguments)
    } catch {
      if Root.exitCode(for: error) == .success { Root.exit(withError: error) }
      report(Root.message(for: error), hint: "`\(commandPath(Root.self, arguments).joined(separator: " ")) --help` shows the usage")
    }
    do {
      try command.run()
    } catch {
      if error is ExitCode || Root.exitCode(for: error) == .success { Root.exit(withError: error) }
      let (description, hint) = describe(error)
      report(description, hint: hint)
    }
    Root.exit()
  }

  /// The command's name and the subcommands `arguments` start with: `["xdpkit", "btf", "dump"]`.
  static func commandPath(_ root: any ParsableCommand.Type, _ arguments: [String]) -> [String] {
    var command = root
    var path = [root._commandName]
    for argument in arguments {
      guard let subcommand = command.configuration.subcommands.first(where: { $0._commandName == argument }) else { break }
      path.append(argument)
      command = subcommand
    }
    return path
  }

  /// Prints `error: description` and `hint: hint` (if any) on standard error and exits with
  /// status 1.
  public static func report(_ description: String, hint: String?) -> Never {
    printErrorMessage(description, hint: hint)
    Glibc.exit(1)
  }

  /// Prints `error: description` and, when there is one, `hint: hint` on standard error: the
  /// one format of both tools' errors, also of those a command reports before it goes on (a
  /// program the verifier rejected while the others load).
  public static func printErrorMessage(_ description: String, hint: String? = nil) {
    printError("error: \(description)" + (hint.map { "\nhint: \($0)" } ?? ""))
  }
}

/// Writes `text` and a newline to standard error, at once.
public func printError(_ text: String) {
  FileHandle.standardError.write(Data((text + "\n").utf8))
}
