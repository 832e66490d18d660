import ArgumentParser
import Foundation
import Glibc
import Logging
import XDPKit
import XDPKitToolSupport

/// `xdpkit load FILE`: loads every program of an object (or one), optionally attaching an XDP
/// program until interrupted, or pinning everything and exiting.
struct Load: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Load a BPF object's programs and maps into the kernel (like bpftool prog loadall).",
    discussion: """
      Prints, per program, its type, instruction count and kernel id, or the error with the verifier log. \
      Exits non-zero when anything failed to load.

      With --attach, attaches one XDP program through a bpf_link and holds it until Ctrl-C or SIGTERM, \
      printing the program's log records (xdpkit_log.h) at --log-level and up. With --pin, pins programs, \
      maps (and the link) and exits.
      """)

  @Argument(help: "The BPF object file.")
  var file: String

  @Option(help: "Load only this program.")
  var program: String?

  @Option(help: "Attach the (only, or --program) XDP program to this interface.")
  var attach: String?

  @Option(help: "Attach mode: auto, native, generic or offload.")
  var mode: XDPAttachMode = .auto

  @Option(name: .customLong("set-max-entries"), help: "MAP=N: max_entries for a map (repeatable).")
  var maxEntries: [String] = []

  @Option(help: "Pin programs, maps and the link under this bpffs directory, then exit.")
  var pin: String?

  @Option(
    name: .customLong("log-level"),
    help: "The most verbose program log records kept, in the program and on the console: trace, debug, info, warning or error.")
  var logLevel: Logger.Level = .info

  func validate() throws {
    for item in maxEntries {
      let parts = item.split(separator: "=", maxSplits: 1)
      guard parts.count == 2, !parts[0].isEmpty, let count = UInt32(parts[1]) else {
        throw ValidationError("--set-max-entries \(item): expected MAP=N, a map name and a number of entries")
      }
      guard count > 0 else {
        throw ValidationError("--set-max-entries \(item): a map needs at least 1 entry")
      }
    }
  }

  func run() throws {
    // Before the log forwarder starts threads, so that Ctrl-C reaches the wait below.
    if attach != nil { TerminationSignals.block() }
    let object = try readObject(file)

    var options = LoadOptions()
    options.logLevel = ProgramLogLevel(logLevel)
    for item in maxEntries {
      let parts = item.split(separator: "=", maxSplits: 1)
      if let count = UInt32(parts[1]) { options.maxEntries[String(parts[0])] = count }
    }
    // The pin directory is checked (and made, 0700) before anything is loaded: a path outside
    // bpffs, through a symbolic link or in another user's directory is refused up front.
    // A run that fails removes what it pinned and the directories it made, once empty: never
    // what another run pinned there meanwhile.
    var pins = PinRollback(missingDirectories: pin.map(PinRollback.missingDirectories(of:)) ?? [])
    defer { pins.rollBack() }
    let pinDirectory: BPFFSDirectory?
    do { pinDirectory = try pin.map { try BPFFSDirectory.open($0, create: true) } } catch {
      throw ToolError("--pin \(pin ?? ""): \(error)")
    }
    if let pinDirectory { options.pinDirectory = pinDirectory.pathOf("maps") }
    // As a whole-object load would: a program whose section starts with `?` only when named.
    var wanted = Set(object.programs.filter(\.kind.loadsByDefault).map(\.name))
    if let program {
      do { _ = try object.program(named: program) } catch {
        throw ToolError("--program \(program): \(error)")
      }
      wanted = [program]
    }

    // Load everything that loads; each failing program is reported and left out.
    var failures: [String] = []
    let loaded = try loadAll(object, options: options, wanted: &wanted, failures: &failures)
    for note in loaded.notes { printError("note: \(note)") }
    if program == nil {
      for p in object.programs where !p.kind.loadsByDefault {
        printError("note: program \(p.name) not loaded: its section \(p.sectionName) loads it only when named (--program \(p.name))")
      }
    }
    for name in object.programs.map(\.name) where wanted.contains(name) {
      let p = try loaded.program(name)
      let id = (try? p.id).map(String.init) ?? "?"
      print("\(name): loaded  \(p.type)  \(p.instructionCount) insns  id \(id)")
    }
    for name in loaded.mapNames {
      let m = try loaded.map(name)
      print("map \(name): \(m.type)  id \((try? m.id).map(String.init) ?? "?")")
    }

    var link: XDPLink? = nil
    if let attach {
      if let program, failures.contains(program) {
        // Its own error (and verifier log) is printed above; do not add a misleading second one.
        throw ToolError("--attach \(attach): program \(program) failed to load, nothing attached")
      }
      let xdp = object.programs.filter { wanted.contains($0.name) && $0.programType == .xdp }
      guard let target = program.flatMap({ p in xdp.first { $0.name == p } }) ?? (xdp.count == 1 ? xdp[0] : nil) else {
        let loadedNames = xdp.map(\.name).joined(separator: ", ")
        let failedXDP = object.programs.filter { failures.contains($0.name) && $0.programType == .xdp }
        if xdp.isEmpty && !failedXDP.isEmpty {
          throw ToolError(
            "--attach \(attach): no XDP program loaded: \(failedXDP.map(\.name).joined(separator: ", ")) failed to load")
        }
        if xdp.isEmpty {
          throw ToolError("--attach \(attach): \(file) has no XDP program")
        }
        throw ToolError(
          "--attach \(attach): \(xdp.count) XDP programs loaded (\(loadedNames)), --attach takes one",
          hint: "choose one with --program NAME")
      }
      var logger = Logger(label: "xdpkit")
      logger.logLevel = .notice
      do {
        link = try loaded.xdpProgram(target.name).attach(to: .name(attach), mode: mode, logger: logger)
      } catch {
        throw ToolError("attach \(target.name) to \(attach): \(error)", hint: Self.attachHint(error))
      }
      print("\(target.name): attached to \(attach) (\(link?.mode.description ?? "?"), bpf_link)")
    }

    if let pin, let pinDirectory {
      for name in object.programs.map(\.name) where wanted.contains(name) {
        do { try loaded.program(name).pin(in: pinDirectory, as: name) } catch {
          throw ToolError("pin program \(name): \(error)")
        }
        pins.created.append((pinDirectory, name))
      }
      let maps: BPFFSDirectory
      if pinDirectory.entryType("maps") == nil { pins.missingDirectories.append(pinDirectory.pathOf("maps")) }
      do { maps = try pinDirectory.subdirectory("maps", create: true) } catch { throw ToolError("--pin \(pin): \(error)") }
      for name in loaded.mapNames {
        let map = try loaded.map(name)
        // Already there: the pin-by-name map this load reused or pinned, or another load's.
        if maps.entryType(name) != nil {
          let pinned = try? BPF.mapInfo(maps.openPinned(name, kind: .map)).id
          guard let pinned, pinned == (try? map.id) else {
            throw ToolError(
              "pin map \(name): \(maps.pathOf(name)) is \(pinned.map { "map id \($0)" } ?? "another object"), not this load's map",
              hint: "pin into a directory of its own (--pin), or remove the old pins first")
          }
          continue
        }
        do { try map.pin(in: maps, as: name) } catch {
          throw ToolError("pin map \(name): \(error)")
        }
        pins.created.append((maps, name))
      }
      if let link {
        do { try link.pin(in: pinDirectory, as: "link") } catch { throw ToolError("pin the link: \(error)") }
        pins.created.append((pinDirectory, "link"))
      }
      pins.keep()
      print("pinned under \(pin)")
    } else if let link {
      let forwarding = try forwardLogs(of: loaded)
      print("holding the attachment; Ctrl-C or SIGTERM detaches")
      TerminationSignals.wait()
      forwarding?.cancel()
      try? link.detach()
      print("detached")
    }
    if !failures.isEmpty {
      throw ExitCode(1)
    }
  }

  /// Starts printing the object's log records on standard output, if it has log calls.
  func forwardLogs(of loaded: LoadedObject) throws -> LogForwarding? {
    do {
      return try loaded.forwardLogs(to: .console(label: "xdpkit", level: logLevel))
    } catch .noLogCalls {
      return nil
    } catch {
      throw ToolError("program logs: \(error)")
    }
  }

  /// Loads `wanted`, dropping each program the kernel rejects (after reporting it) and trying
  /// again, so one bad program does not hide the others.
  func loadAll(_ object: BPFObject, options: LoadOptions, wanted: inout Set<String>,
               failures: inout [String]) throws -> LoadedObject {
    var options = options
    while true {
      options.programs = wanted
      let error: LoadError
      do { return try object.load(options: options) } catch let e { error = e }
      // A CO-RE relocation that cannot be applied is a property of one program: reported,
      // and the program left out, like a verifier rejection.
      if case .coreRelocation(let relocation) = error, wanted.contains(relocation.program) {
        ToolMain.printErrorMessage("\(relocation)")
        if let log = relocation.verifierLog, !log.isEmpty { printError("verifier log:\n\(log)") }
        failures.append(relocation.program)
        wanted.remove(relocation.program)
        continue
      }
      // A program the kernel refuses is reported and left out; missing privileges are not a
      // property of one program, so they end the command with the capability named.
      guard case .program(let name, let failure) = error, wanted.contains(name),
            failure.syscall.errno != .notPermitted else {
        throw Self.toolError(error, file: file)
      }
      if let reason = failure.verifierReason {
        ToolMain.printErrorMessage("the verifier rejected program \(name): \(reason) (\(failure.syscall))")
      } else {
        ToolMain.printErrorMessage("load program \(name): \(failure.syscall)")
      }
      if !failure.verifierLog.isEmpty {
        printError("verifier log\(failure.isLogTruncated ? " (truncated)" : ""):\n\(failure.verifierLog)")
      }
      failures.append(name)
      wanted.remove(name)
    }
  }
}

extension Load {
  /// A load error worded for the command line: options are named as the user wrote them.
  static func toolError(_ error: LoadError, file: String) -> ToolError {
    switch error {
    case .missingMaxEntries(let map):
      return ToolError(
        "\(file): map \(map) leaves max_entries at 0", hint: "give it a size with --set-max-entries \(map)=N")
    case .unknownMap(let lookup):
      return ToolError("--set-max-entries: \(lookup)")
    case .program(let name, let failure) where failure.syscall.errno == .notPermitted:
      return ToolError(
        "load program \(name): \(failure.syscall)",
        hint: "loading needs CAP_BPF (or CAP_SYS_ADMIN) and CAP_NET_ADMIN; run as root")
    default:
      if error.errno == .notPermitted {
        return ToolError("\(file): \(error)", hint: "run as root (CAP_BPF, CAP_NET_ADMIN)")
      }
      return ToolError("\(file): \(error)")
    }
  }

  /// The known fix for a failed attach, if there is one.
  static func attachHint(_ error: any Error) -> String? {
    switch error as? AttachError {
    case .modeNotSupported: return "try --mode generic"
    case .alreadyAttached: return "detach the program that is there first (ip link set dev IFACE xdp off)"
    default: return nil
    }
  }
}

extension XDPAttachMode: ExpressibleByArgument {}
