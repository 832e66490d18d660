/// The command line of `xdp-block add` and `remove`, split before ArgumentParser sees it:
/// the positional entries on one side, the subcommand and its options on the other.
///
/// swift-argument-parser's handling of positional values is quadratic in their number (each
/// consumed value is removed from an array by shifting, and each parsed value merges the set
/// of origins collected so far): 8,000 entries took 14.5 s. Taking the entries out first
/// leaves it a handful of arguments, whatever the number of entries.
///
/// Only the subcommands in `subcommands` are split. After them, an argument that starts with
/// `-` (other than `-` alone) is an option; one of `valueOptions` written without `=` takes
/// the next argument as its value; everything after `--` and every other argument is an
/// entry. An option that is neither a value option nor one of `flags` leaves the arguments
/// unsplit, so that ArgumentParser reports it as it would.
public struct EntryArguments: Sendable, Equatable {
  /// The subcommands whose positional arguments are entries.
  public static let splitSubcommands: Set<String> = ["add", "remove"]
  /// The options of those subcommands that take a value.
  public static let valueOptions: Set<String> = ["--iface", "--netns", "--file"]
  /// The options of those subcommands that take no value.
  public static let flags: Set<String> = ["-h", "--help"]

  /// What ArgumentParser parses: the subcommand and its options with their values.
  public var forParser: [String]
  /// The positional entries, in order.
  public var entries: [String]

  /// Splits `arguments` (without the executable's name).
  public init(
    _ arguments: [String], subcommands: Set<String> = splitSubcommands,
    valueOptions: Set<String> = valueOptions, flags: Set<String> = flags
  ) {
    guard let subcommand = arguments.first, subcommands.contains(subcommand) else {
      forParser = arguments
      entries = []
      return
    }
    var parser = [subcommand]
    var entries: [String] = []
    var index = 1
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      if argument == "--" {
        entries.append(contentsOf: arguments[index...])
        break
      }
      if argument.hasPrefix("-") && argument != "-" {
        let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
        guard valueOptions.contains(name) || flags.contains(name) else {
          forParser = arguments
          self.entries = []
          return
        }
        parser.append(argument)
        if valueOptions.contains(argument) && index < arguments.count {
          parser.append(arguments[index])
          index += 1
        }
      } else {
        entries.append(argument)
      }
    }
    forParser = parser
    self.entries = entries
  }
}
