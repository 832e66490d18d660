import ArgumentParser
import Foundation
import Glibc
import XDPBlockCore
import XDPKit
import XDPKitToolSupport

@main
struct XDPBlockCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "xdp-block",
    abstract: "Drop packets from blocked source addresses at the XDP hook — no libbpf underneath.",
    discussion: """
      Two ways to run it:

      Foreground: `xdp-block run --iface IFACE --block ADDR|CIDR …` attaches the firewall for as \
      long as the command runs, prints live counters, and detaches on Ctrl-C or SIGTERM (or when \
      the process dies, however it dies: the attachment is a bpf_link that is not pinned).

      Persistent, like xdp-filter: `xdp-block attach IFACE` pins the firewall's program and maps \
      under /sys/fs/bpf/xdp-block/host/IFACE/ and exits; `add`, `remove`, `list`, `stats` and `log` \
      work on the pinned maps from separate processes; `detach IFACE` removes it. It runs behind \
      libxdp's multi-program dispatcher, next to programs of xdp-loader and xdp-filter \
      (`status` lists them), or alone where the kernel refuses that.

      `xdp-block demo` shows it all on a private pair of network namespaces, no interface \
      needed. Entries are IPv4 or IPv6 addresses (exact match) or CIDR prefixes (longest-prefix \
      match). Needs root (CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN).
      """,
    subcommands: [
      Run.self, Attach.self, Status.self, Add.self, Remove.self, List.self, Stats.self, Log.self, Detach.self,
      Demo.self,
    ])

  /// Runs the command with line-buffered standard output (see ``ToolMain``), the entries of
  /// `add`/`remove` taken out of the arguments first (see ``EntryArguments``). Errors are
  /// printed as `error: <what>: <why>` and `hint: <fix>`.
  static func main() {
    ToolMain.run(Self.self, arguments: commandLineEntries.forParser) { error in
      guard let error = error as? XDPBlockError else { return ("\(error)", nil) }
      return (error.description, error.hint)
    }
  }
}

/// The command line with the positional entries of `add` and `remove` taken out.
let commandLineEntries = EntryArguments(Array(CommandLine.arguments.dropFirst()))

/// The attach modes a user can ask for.
enum ModeOption: String, ExpressibleByArgument, CaseIterable {
  case auto, native, generic

  var mode: XDPAttachMode {
    switch self {
    case .auto: return .auto
    case .native: return .native
    case .generic: return .generic
    }
  }
}

/// Options shared by the commands that name an interface with `--iface`.
struct InterfaceOptions: ParsableArguments {
  @Option(
    name: .customLong("iface"),
    help: ArgumentHelp(
      "The interface the firewall is attached to.",
      discussion: "May be omitted when xdp-block is attached to exactly one interface (in --netns NAME, when given)."))
  var interface: String?

  @Option(help: ArgumentHelp(
    "The network namespace the interface is in (a name under /var/run/netns, as `ip netns add` makes).",
    discussion: "Only the network calls run inside it; pins stay in the host's bpffs."))
  var netns: String?

  /// Checks the privileges `command` needs, then names the interface: the one given, or the
  /// one xdp-block is attached to (``PinLayout/resolve(interface:namespace:root:)``).
  func layout(for command: String) throws(XDPBlockError) -> PinLayout {
    try SystemSetup.requirePrivileges(for: command, needsSysAdmin: netns != nil)
    let layout = try PinLayout.resolve(interface: interface, namespace: netns)
    if netns == nil, layout.namespace != nil {
      try SystemSetup.requirePrivileges(for: command, needsSysAdmin: true)
    }
    return layout
  }
}

/// Runs a command body, printing an ``XDPBlockError`` as `error: <what>: <why>` and
/// `hint: <fix>` on standard error and exiting with status 1.
func perform(_ body: () throws -> Void) throws {
  do {
    try body()
  } catch let error as XDPBlockError {
    ToolMain.printErrorMessage(error.description, hint: error.hint)
    throw ExitCode.failure
  }
}

/// Writes `line` to standard output at once, unbuffered, so that a reader on a pipe or file
/// sees every line when it is printed (the live counters, the events), not when a buffer fills.
func say(_ line: String) {
  FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
