// xdp-firewall: the aya book's firewall, with XDPKit.
//
//   sudo xdp-firewall --iface eth0 --block 1.1.1.1
//
// Loads BPF/xdp_firewall.c through `XDPFirewall`, the typed API BPFCompilerPlugin generates
// from its BTF, fills BLOCKLIST, and runs it as an XDPService in a ServiceGroup: attached
// while the group runs, its log lines forwarded into swift-log, detached when Ctrl-C or
// SIGTERM shuts the group down.
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import XDPKit
import XDPKitService
import XDPKitToolSupport

struct XDPFirewallCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "xdp-firewall", abstract: "Drop IPv4 packets from blocked sources and log every packet.")

  @Option(help: "The interface to attach to.")
  var iface = "eth0"

  @Option(help: "An IPv4 source address to drop (repeatable).")
  var block: [String] = ["1.1.1.1"]

  @Option(help: "Attach mode: auto, native or generic.")
  var mode: Mode = .auto

  @Option(name: .customLong("log-level"), help: "trace, debug, info, warning or error (default: $LOG_LEVEL, else info).")
  var logLevel: Logger.Level?

  enum Mode: String, ExpressibleByArgument {
    case auto, native, generic
    var xdp: XDPAttachMode { self == .auto ? .auto : self == .native ? .native : .generic }
  }

  func run() throws {
    let environment = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) }
    let level = logLevel ?? environment ?? .info
    let logger = Logger.console(label: "xdp_firewall", level: level)
    let addresses = try block.map { text in
      do { return try IPv4Address(parsing: text) } catch { throw ValidationError("--block \(text): \(error)") }
    }

    var options = LoadOptions()
    options.logLevel = ProgramLogLevel(level)
    let firewall = try XDPFirewall.load(options: options)
    defer { firewall.object.close() }
    for address in addresses { try firewall.blocklist.insert(0, forKey: address.value) }

    // Attached in the service's run(), detached when SIGINT or SIGTERM shuts the group down.
    let (iface, mode) = (iface, mode)
    let xdp = XDPService("xdp_firewall on \(iface)", logger: logger, attach: {
      do {
        return try firewall.xdpFirewall.attach(to: .name(iface), mode: mode.xdp)
      } catch {
        throw FirewallError(
          description: "failed to attach the XDP program to \(iface) in \(mode) mode: \(error)",
          hint: mode == .native ? "try --mode generic" : nil)
      }
    }, whileAttached: { _ in
      logger.info("Waiting for Ctrl-C...")
      try await firewall.object.runLogForwarding(to: logger)
    })
    var groupLogger = logger
    groupLogger.logLevel = .warning
    let group = ServiceGroup(services: [xdp], gracefulShutdownSignals: [.sigint, .sigterm], logger: groupLogger)
    try runBlocking { try await group.run() }
    logger.info("Exiting...")
  }
}

struct FirewallError: Error, CustomStringConvertible {
  var description: String
  var hint: String?
}

ToolMain.run(XDPFirewallCommand.self, arguments: Array(CommandLine.arguments.dropFirst())) { error in
  ((error as? FirewallError)?.description ?? "\(error)", (error as? FirewallError)?.hint)
}
