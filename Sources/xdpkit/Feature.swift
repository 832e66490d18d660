import ArgumentParser
import Foundation
import XDPKit

/// `xdpkit feature [--json] [--helpers TYPE]`: what this kernel supports, probed as
/// ``KernelFeatures`` probes it, like `bpftool feature probe`.
struct Feature: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "feature",
    abstract: "Probe what the running kernel supports: program and map types, XDP links, ring buffers, BTF kinds and helpers.",
    discussion: "Each probe makes the smallest program, map or BTF that answers it and closes it at once; nothing is attached. Needs root (or CAP_BPF). An answer is 'undetermined' when the kernel refused the probe for another reason, such as lockdown.")

  @Flag(help: "Print JSON instead of text.")
  var json = false

  @Flag(help: "Show the errno and the call or verifier message that decided each answer.")
  var verbose = false

  @Option(help: "List the helpers programs of this type may call (a program type name such as xdp or BPF_PROG_TYPE_XDP).")
  var helpers: String?

  /// One probe's line of the report.
  struct Entry: Codable, Equatable {
    var name: String
    var answer: String
    var errno: Int32?
    var detail: String

    init(_ name: String, _ support: FeatureSupport) {
      self.name = name
      switch support.answer {
      case .supported: answer = "supported"
      case .unsupported: answer = "unsupported"
      case .undetermined: answer = "undetermined"
      }
      errno = support.errno?.rawValue
      detail = support.detail
    }
  }

  /// The whole report.
  struct Report: Codable, Equatable {
    var programTypes: [Entry]
    var mapTypes: [Entry]
    var xdpLinks: Entry
    var xdpFragments: Entry
    var ringBuffer: Entry
    var btfKinds: [Entry]
    var helpers: [Entry]?
    var helpersProgramType: String?
  }

  func run() throws {
    let helperType = try helpers.map(Self.programType(named:))
    let report = Self.report(helpersFor: helperType)
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      print(String(decoding: try encoder.encode(report), as: UTF8.self))
      return
    }
    for line in Self.text(report, verbose: verbose) { print(line) }
  }

  static func report(helpersFor helperType: BPFProgramType?) -> Report {
    let programTypes = (1..<BPFProgramType.knownCount).map { BPFProgramType(rawValue: $0) }
    let mapTypes = (1..<BPFMapType.knownCount).map { BPFMapType(rawValue: $0) }
    let kinds: [(String, BTFKernelFeatures)] = [
      ("global FUNC", .globalFunctions), ("FLOAT", .float), ("DECL_TAG", .declarationTags),
      ("TYPE_TAG", .typeTags), ("ENUM64", .enum64),
    ]
    var report = Report(
      programTypes: programTypes.map { Entry($0.description, KernelFeatures.programType($0)) },
      mapTypes: mapTypes.map { Entry($0.description, KernelFeatures.mapType($0)) },
      xdpLinks: Entry("XDP links (bpf_link)", KernelFeatures.xdpLinks),
      xdpFragments: Entry("XDP fragments (multi-buffer)", KernelFeatures.xdpFragments),
      ringBuffer: Entry("ring buffer", KernelFeatures.ringBuffer),
      btfKinds: kinds.map { Entry($0.0, KernelFeatures.btfKind($0.1)) })
    if let helperType {
      report.helpersProgramType = helperType.description
      report.helpers = KernelFeatures.helperNumbers().sorted { $0.value < $1.value }.map {
        Entry($0.key, KernelFeatures.helper($0.value, programType: helperType))
      }
    }
    return report
  }

  static func text(_ report: Report, verbose: Bool) -> [String] {
    func line(_ entry: Entry) -> String {
      let base = XDPStatus.pad("  " + entry.name, 44) + entry.answer
      guard verbose else { return base }
      return XDPStatus.pad(base, 58) + entry.detail
    }
    var lines = ["Program types:"] + report.programTypes.map(line)
    lines += ["Map types:"] + report.mapTypes.map(line)
    lines += ["Attaching and events:", line(report.xdpLinks), line(report.xdpFragments), line(report.ringBuffer)]
    lines += ["BTF kinds:"] + report.btfKinds.map(line)
    if let helpers = report.helpers, let type = report.helpersProgramType {
      let available = helpers.filter { $0.answer == "supported" }.count
      lines += ["Helpers for \(type) (\(available) of \(helpers.count) available):"] + helpers.map(line)
    }
    return lines
  }

  /// `xdp`, `BPF_PROG_TYPE_XDP` or `sched_cls` as a program type.
  static func programType(named name: String) throws -> BPFProgramType {
    let wanted = name.uppercased().hasPrefix("BPF_PROG_TYPE_") ? name.uppercased() : "BPF_PROG_TYPE_" + name.uppercased()
    for raw in 1..<BPFProgramType.knownCount where BPFProgramType(rawValue: raw).description == wanted {
      return BPFProgramType(rawValue: raw)
    }
    throw ToolError("--helpers \(name): no such program type", hint: "use a name such as xdp, sched_cls or BPF_PROG_TYPE_KPROBE")
  }
}
