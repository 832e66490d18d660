import ArgumentParser
import XDPBlockCore
import XDPKitToolSupport

/// `xdp-block attach IFACE`: load, pin and attach, then exit.
struct Attach: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Attach the firewall to an interface and keep it there after this command exits.",
    discussion: """
      Loads the firewall, pins its program and maps under /sys/fs/bpf/xdp-block/host/IFACE/ \
      (/sys/fs/bpf/xdp-block/netns/NAME/IFACE/ with --netns NAME) and exits; the program stays \
      attached until `xdp-block detach IFACE`. Mounts bpffs at /sys/fs/bpf (mode 0700) if needed; \
      refuses directories that another user owns or can write, and symbolic links.

      When the interface has a multi-program dispatcher (libxdp's protocol: xdp-loader, \
      xdp-filter, XDPKit), the firewall joins it as one more program (--priority, default 50; \
      lower runs first); what it passes goes on to the next program. On an interface without \
      a program it goes behind a new dispatcher, so that others can join later; when the kernel \
      refuses that (lockdown refuses freplace programs), or with --direct, it is attached alone \
      through a pinned bpf_link, and the output says so.

      If a program that is not a dispatcher is attached, attach refuses. --replace detaches that \
      program first through netlink (RTM_SETLINK with fd -1) and then attaches: the interface has \
      no program for that moment. A program held by another process's bpf_link cannot be removed \
      this way. --replace never removes a dispatcher's programs. If xdp-block is attached \
      already, --replace loads the firewall anew (say, to turn on --log-events) and copies every \
      entry over: alone, it swaps the program under the pinned link atomically (BPF_LINK_UPDATE); \
      behind a dispatcher, the new program joins before the old one leaves. Counters start from \
      zero.
      """)

  @Argument(help: "The interface to attach to.")
  var interface: String

  @Option(help: "Attach mode: auto (native, falling back to generic), native or generic.")
  var mode: ModeOption = .auto

  @Flag(help: "Replace the XDP program attached now (see the discussion).")
  var replace = false

  @Option(help: "Behind a dispatcher: the run priority, lower first (default 50, or the previous one on --replace).")
  var priority: UInt32?

  @Flag(help: "Attach alone through a pinned bpf_link, not behind a multi-program dispatcher.")
  var direct = false

  @Option(help: "The network namespace the interface is in (a name under /var/run/netns).")
  var netns: String?

  @Flag(help: "Emit drop events into the pinned EVENTS ring buffer; read them with `xdp-block log`.")
  var logEvents = false

  @Option(help: "With --log-events: the most drop events per CPU per second.")
  var eventsPerSecond: UInt32 = 100

  @Option(name: .customLong("block"), help: "An address or CIDR prefix to block right away (repeatable).")
  var entries: [String] = []

  func validate() throws {
    if direct && priority != nil { throw ValidationError("--priority is for a firewall behind a dispatcher, not with --direct") }
  }

  func run() throws {
    try perform {
      let blocked = try BlockEntry.parseAll(entries)
      try SystemSetup.requirePrivileges(for: "attach", needsSysAdmin: true)
      let layout = try PinLayout(interface: interface, namespace: netns)
      let result = try PersistentFirewall.attach(
        layout: layout, mode: mode.mode, replace: replace,
        configuration: FirewallConfiguration(eventsEnabled: logEvents, eventsPerSecond: eventsPerSecond),
        entries: blocked, priority: priority, direct: direct, logger: ConsoleLog.notices())
      for repair in result.repairs { say(repair) }
      if let replaced = result.replaced { say("replaced \(replaced)") }
      if let fallback = result.fallback {
        say("\(fallback): attached alone, not behind a multi-program dispatcher; other XDP programs cannot join it on this interface")
      }
      let id = result.programID.map { " (program id \($0))" } ?? ""
      if case .dispatcher(let dispatcherID, _) = result.hook {
        let config = result.component.map { ", \($0.runConfig.priorityAndChain)" } ?? ""
        say("attached xdp_firewall\(id) to \(layout.interfaceDescription) in \(result.mode.wording) mode behind the multi-program dispatcher (program id \(dispatcherID))\(config)")
        let others = (result.dispatcher?.components ?? []).filter { $0.id != result.programID }
        if !others.isEmpty {
          say("other programs there: " + others.map { "\($0.name) (id \($0.id), priority \($0.runConfig.priority))" }.joined(separator: ", "))
        }
      } else {
        say("attached xdp_firewall\(id) to \(layout.interfaceDescription) in \(result.mode.wording) mode via a pinned bpf_link")
      }
      say("state pinned in \(layout.directory)")
      if result.keptEntries > 0 {
        say("kept \(result.keptEntries) \(result.keptEntries == 1 ? "entry" : "entries") of the previous program")
      }
      for entry in result.added { say("blocked \(entry) (\(entry.kind))") }
      if logEvents { say("drop events go to the EVENTS ring buffer: read them with `xdp-block log --iface \(interface)\(netns.map { " --netns \($0)" } ?? "")`") }
    }
  }
}

/// `xdp-block status --iface IFACE`: how the firewall is attached, and its neighbours.
struct Status: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show how the firewall is attached and every XDP program on the interface.",
    discussion: """
      Behind a multi-program dispatcher, lists the dispatcher's programs in run order (priority, \
      name, id, chain-call actions), xdp-block's marked. Works also when xdp-block is not \
      attached: it then shows what is.
      """)

  @OptionGroup var target: InterfaceOptions

  func run() throws {
    try perform {
      let layout = try target.layout(for: "status")
      let status: PersistentFirewall.Status
      do throws(XDPBlockError) { status = try PersistentFirewall.status(of: layout, repaired: say) } catch {
        guard case .notAttached = error else { throw error }
        say("xdp-block is not attached to \(layout.interfaceDescription)")
        say("XDP on \(layout.interfaceDescription): \(try PersistentFirewall.programs(on: layout).wording)")
        return
      }
      say("xdp_firewall on \(layout.interfaceDescription): \(status.summary)")
      say("state pinned in \(layout.directory)")
      for warning in status.skipWarnings { say("warning: " + warning) }
      printPrograms(status)
    }
  }
}

/// The dispatcher's programs, for `status` and `list`.
func printPrograms(_ status: PersistentFirewall.Status) {
  guard let dispatcher = status.dispatcher else { return }
  say("multi-program dispatcher id \(dispatcher.id) (protocol version \(dispatcher.version), \(dispatcher.mode.wording) mode), programs in run order:")
  for line in status.programTable { say("  " + line) }
}

/// Entries given as arguments and in files, for `add` and `remove`.
struct EntryInput: ParsableArguments {
  @Argument(help: "Addresses (exact) or CIDR prefixes, IPv4 or IPv6.")
  var entries: [String] = []

  @Option(
    name: .customLong("file"),
    help: ArgumentHelp(
      "A file of entries, one per line; - reads standard input (repeatable).",
      discussion: "`#` starts a comment; blank lines are ignored. A bad line is reported as FILE:LINE and nothing is changed.",
      valueName: "file"))
  var files: [String] = []

  /// Every entry, parsed: the arguments first (those ArgumentParser saw and those taken out
  /// before it, see ``EntryArguments``), then each file's. All or nothing.
  func parse() throws(XDPBlockError) -> [BlockEntry] {
    var parsed = try BlockEntry.parseAll(entries + commandLineEntries.entries)
    for file in files { parsed += try BlockEntry.read(from: file) }
    if parsed.isEmpty {
      throw .failed("no entries given: name addresses or prefixes, or --file FILE")
    }
    return parsed
  }
}

/// Above this many entries, `add` and `remove` print a summary rather than a line per entry.
let perEntryOutputLimit = 20

/// "1 entry", "2 entries".
func count(_ number: Int, _ singular: String, _ plural: String) -> String {
  "\(number) \(number == 1 ? singular : plural)"
}

/// `xdp-block add ADDR… [--file FILE] --iface IFACE`.
struct Add: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Block addresses or CIDR prefixes on an attached interface.",
    discussion: """
      Takes effect for the next packet. Example: xdp-block add 192.0.2.1 198.51.100.0/24 --iface veth0. \
      Entries are written with batch map updates; each is added once however often it is given, \
      and entries already blocked keep their hit counts. More than \(perEntryOutputLimit) entries \
      are reported as a summary.
      """)

  @OptionGroup var input: EntryInput

  @OptionGroup var target: InterfaceOptions

  func run() throws {
    try perform {
      let parsed = try input.parse()
      // Under the lock: no replace can retire the maps between the write and its report.
      let change = try PersistentFirewall.withMaps(target.layout(for: "add"), repaired: say) {
        maps, _ throws(XDPBlockError) in try maps.add(contentsOf: parsed)
      }
      if change.entries.count <= perEntryOutputLimit {
        for entry in change.entries {
          say(change.unchanged.contains(entry) ? "\(entry) is already blocked" : "blocked \(entry) (\(entry.kind))")
        }
      } else {
        let (addresses, prefixes) = change.changedCounts
        say("blocked \(count(addresses + prefixes, "entry", "entries")) "
          + "(\(count(addresses, "address", "addresses")), \(count(prefixes, "prefix", "prefixes"))); "
          + "\(change.unchanged.count) \(change.unchanged.count == 1 ? "was" : "were") already blocked")
      }
    }
  }
}

/// `xdp-block remove ADDR… [--file FILE] --iface IFACE`.
struct Remove: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Unblock addresses or CIDR prefixes on an attached interface.",
    discussion: """
      Exits with status 1 if an entry was not in the blocklist (after removing the others). \
      More than \(perEntryOutputLimit) entries are reported as a summary.
      """)

  @OptionGroup var input: EntryInput

  @OptionGroup var target: InterfaceOptions

  func run() throws {
    try perform {
      let parsed = try input.parse()
      let change = try PersistentFirewall.withMaps(target.layout(for: "remove"), repaired: say) {
        maps, _ throws(XDPBlockError) in try maps.remove(contentsOf: parsed)
      }
      if change.entries.count <= perEntryOutputLimit {
        for entry in change.changed { say("unblocked \(entry)") }
      } else {
        let (addresses, prefixes) = change.changedCounts
        say("unblocked \(count(addresses + prefixes, "entry", "entries")) "
          + "(\(count(addresses, "address", "addresses")), \(count(prefixes, "prefix", "prefixes")))")
      }
      let missing = change.entries.filter { change.unchanged.contains($0) }
      if !missing.isEmpty {
        let shown = missing.prefix(perEntryOutputLimit).map(\.description).joined(separator: ", ")
        let more = missing.count > perEntryOutputLimit ? " and \(missing.count - perEntryOutputLimit) more" : ""
        throw XDPBlockError.failed("not in the blocklist: \(shown)\(more)")
      }
    }
  }
}

/// `xdp-block list --iface IFACE`.
struct List: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the blocked addresses and prefixes with their hit counts.")

  @OptionGroup var target: InterfaceOptions

  func run() throws {
    try perform {
      let layout = try target.layout(for: "list")
      let (status, entries) = try PersistentFirewall.withMaps(layout, repaired: say) {
        maps, status throws(XDPBlockError) in (status, try maps.entries())
      }
      say("xdp_firewall on \(layout.interfaceDescription): \(status.summary)")
      printPrograms(status)
      if entries.isEmpty {
        say("the blocklist is empty")
        return
      }
      let width = max(24, (entries.map(\.entry.description.count).max() ?? 0) + 2)
      say(pad("ENTRY", width) + pad("KIND", 8) + "HITS")
      for item in entries {
        say(pad(item.entry.description, width) + pad(item.entry.kind, 8) + "\(item.hits)")
      }
    }
  }
}

/// `xdp-block stats --iface IFACE`.
struct Stats: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show packets and bytes per XDP action, summed over CPUs.")

  @OptionGroup var target: InterfaceOptions

  func run() throws {
    try perform {
      let layout = try target.layout(for: "stats")
      let (status, statistics, counts) = try PersistentFirewall.withMaps(layout, repaired: say) {
        maps, status throws(XDPBlockError) in (status, try maps.statistics(), try maps.counts())
      }
      let (addresses, prefixes) = counts
      say("xdp_firewall on \(layout.interfaceDescription): \(status.summary)")
      say(statistics.table)
      say("blocklist: \(addresses) addresses, \(prefixes) prefixes")
    }
  }
}

/// `xdp-block log --iface IFACE`: read the pinned ring buffer.
struct Log: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print drop events of an interface attached with --log-events, until Ctrl-C.",
    discussion: "Each event is read once: run one reader at a time.")

  @OptionGroup var target: InterfaceOptions

  @Option(help: "Exit after this many seconds.")
  var duration: Double?

  func run() throws {
    try perform {
      let layout = try target.layout(for: "log")
      // Only the ring buffer leaves the lock: reading events changes no map, and holding
      // the lock while following them would stop every other command.
      let events = try PersistentFirewall.withMaps(layout, repaired: say) { maps, status throws(XDPBlockError) in
        guard status.configuration.eventsEnabled else { throw XDPBlockError.eventsDisabled(layout) }
        return maps.events
      }
      let logger = ConsoleLog.events()
      let limit = duration.map { Duration.milliseconds(Int64($0 * 1000)) }
      // Ctrl-C or SIGTERM cancels the reading; the command then exits 0.
      _ = runBlocking {
        await Interruption.run { await EventReader.follow(events, duration: limit) { logger.info("\($0)") } }
      }
    }
  }
}

/// `xdp-block detach IFACE`.
struct Detach: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Detach the firewall from an interface and remove its pinned state.")

  @Argument(help: "The interface.")
  var interface: String

  @Option(help: "The network namespace the interface is in (a name under /var/run/netns).")
  var netns: String?

  func run() throws {
    try perform {
      try SystemSetup.requirePrivileges(for: "detach", needsSysAdmin: netns != nil)
      let layout = try PinLayout(interface: interface, namespace: netns)
      let result = try PersistentFirewall.detach(layout: layout)
      let id = result.programID.map { " (program id \($0))" } ?? ""
      if result.wasAttached, case .dispatcher = result.hook {
        say("removed xdp_firewall\(id) from the multi-program dispatcher on \(layout.interfaceDescription); its other programs keep running")
      } else if result.wasAttached {
        say("detached xdp_firewall\(id) from \(layout.interfaceDescription)")
      } else {
        let why = result.problem.map { ": \($0)" } ?? ""
        say("removed stale state of xdp_firewall\(id) on \(layout.interfaceDescription)\(why)")
      }
      say("removed \(result.directory)")
    }
  }
}

func pad(_ text: String, _ width: Int) -> String {
  text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}
