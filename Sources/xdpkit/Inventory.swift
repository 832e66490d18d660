import ArgumentParser
import Foundation
import XDPKit

/// `xdpkit prog list|show`: the programs loaded in the kernel, as `bpftool prog` shows them.
struct ProgCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "prog", abstract: "List loaded programs, or show one.", subcommands: [ProgList.self, ProgShow.self])
}

/// `xdpkit map list|dump`.
struct MapCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "map", abstract: "List maps, or dump one's entries formatted through its BTF.",
    subcommands: [MapList.self, MapDump.self])
}

/// `xdpkit link list`.
struct LinkCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "link", abstract: "List BPF links.", subcommands: [LinkList.self])
}

/// One program as the inventory commands print it.
struct ProgramSummary: Codable, Equatable {
  var id: UInt32
  var type: String
  var name: String
  var tag: String
  var gplCompatible: Bool
  var translatedBytes: Int
  var jitedBytes: Int
  var mapIDs: [UInt32]
  var btfID: UInt32
  var verifiedInstructions: UInt32
  var runCount: UInt64
  var runTimeNanoseconds: UInt64

  init(_ info: ProgramInfo) {
    id = info.id
    type = Inventory.shortName(info.type.description, prefix: "BPF_PROG_TYPE_")
    name = info.name
    tag = info.tagString
    gplCompatible = info.isGPLCompatible
    translatedBytes = info.translatedSize
    jitedBytes = info.jitedSize
    mapIDs = info.mapIDs
    btfID = info.btfID
    verifiedInstructions = info.verifiedInstructions
    runCount = info.runCount
    runTimeNanoseconds = info.runTimeNanoseconds
  }

  /// bpftool's first line: `ID: TYPE  name NAME  tag TAG  [gpl]`.
  var line: String {
    "\(id): \(type)  name \(name)  tag \(tag)" + (gplCompatible ? "  gpl" : "")
  }

  /// The detail lines of `prog show`.
  var details: [String] {
    var lines = ["\txlated \(translatedBytes)B  jited \(jitedBytes)B  verified \(verifiedInstructions) insns"]
    if !mapIDs.isEmpty { lines.append("\tmap_ids " + mapIDs.map(String.init).joined(separator: ",")) }
    if btfID != 0 { lines.append("\tbtf_id \(btfID)") }
    if runCount > 0 { lines.append("\trun_time_ns \(runTimeNanoseconds)  run_cnt \(runCount)") }
    return lines
  }
}

/// One map as the inventory commands print it.
struct MapSummary: Codable, Equatable {
  var id: UInt32
  var type: String
  var name: String
  var keySize: UInt32
  var valueSize: UInt32
  var maxEntries: UInt32
  var flags: UInt32
  var btfID: UInt32

  init(_ info: MapInfo) {
    id = info.id
    type = Inventory.shortName(info.type.description, prefix: "BPF_MAP_TYPE_")
    name = info.name
    keySize = info.keySize
    valueSize = info.valueSize
    maxEntries = info.maxEntries
    flags = info.flags.rawValue
    btfID = info.btfID
  }

  /// bpftool's line: `ID: TYPE  name NAME  flags 0x0  key 4B  value 8B  max_entries 16`.
  var line: String {
    "\(id): \(type)  name \(name)  flags 0x\(String(flags, radix: 16))  key \(keySize)B  value \(valueSize)B  max_entries \(maxEntries)"
      + (btfID != 0 ? "  btf_id \(btfID)" : "")
  }
}

/// One link as the inventory commands print it.
struct LinkSummary: Codable, Equatable {
  var id: UInt32
  var type: String
  var programID: UInt32
  var interfaceIndex: UInt32?

  init(_ info: LinkInfo) {
    id = info.id
    type = Inventory.shortName(info.type.description, prefix: "BPF_LINK_TYPE_")
    programID = info.programID
    interfaceIndex = info.xdpInterfaceIndex
  }

  var line: String {
    "\(id): \(type)  prog \(programID)" + (interfaceIndex.map { "  ifindex \($0)" } ?? "")
  }
}

/// Reading the kernel's objects for the inventory commands.
enum Inventory {
  /// `BPF_PROG_TYPE_XDP` → `xdp`, as bpftool names them.
  static func shortName(_ name: String, prefix: String) -> String {
    name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)).lowercased() : name
  }

  /// Every loaded program, by id. A program that went away while listing is left out.
  static func programs() throws -> [ProgramInfo] {
    let ids: [UInt32]
    do { ids = try BPF.allProgramIDs() } catch { throw ToolError("list programs: \(error)", hint: Inventory.rootHint) }
    return ids.compactMap { id in try? BPF.programInfo(BPF.openProgram(id: id)) }
  }

  /// Every map, by id.
  static func maps() throws -> [MapInfo] {
    let ids: [UInt32]
    do { ids = try BPF.allMapIDs() } catch { throw ToolError("list maps: \(error)", hint: Inventory.rootHint) }
    return ids.compactMap { id in try? BPF.mapInfo(BPF.openMap(id: id, access: .readOnly)) }
  }

  static let rootHint = "run as root (CAP_SYS_ADMIN lists kernel objects)"

  /// The one object `key` names: a decimal id, or a name that exactly one object has. An
  /// ambiguous name lists the candidates' ids.
  static func resolve<T>(_ key: String, kind: String, among all: [T], id: (T) -> UInt32, name: (T) -> String) throws -> T {
    let listHint = "`xdpkit \(kind == "program" ? "prog" : kind) list` shows them"
    if let number = UInt32(key) {
      guard let found = all.first(where: { id($0) == number }) else {
        throw ToolError("\(kind) \(number): no \(kind) has this id", hint: listHint)
      }
      return found
    }
    let matches = all.filter { name($0) == key }
    switch matches.count {
    case 1: return matches[0]
    case 0: throw ToolError("\(kind) \(key): no \(kind) has this name", hint: listHint)
    default:
      throw ToolError("\(kind) \(key): \(matches.count) \(kind)s have this name, ids " + matches.map { String(id($0)) }.joined(separator: ", "),
                      hint: "give the id")
    }
  }

  static func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
  }
}

struct ProgList: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "list", abstract: "List the loaded programs.")
  @Flag(help: "Print JSON instead of text.") var json = false

  func run() throws {
    let programs = try Inventory.programs().map(ProgramSummary.init)
    if json { return try Inventory.printJSON(programs) }
    for program in programs { print(program.line) }
  }
}

struct ProgShow: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "show", abstract: "Show one program: type, tag, sizes, maps, BTF, and run time when statistics are on.")
  @Argument(help: "The program's id or name.") var program: String
  @Flag(help: "Print JSON instead of text.") var json = false

  func run() throws {
    let info = try Inventory.resolve(program, kind: "program", among: try Inventory.programs(), id: \.id, name: \.name)
    let summary = ProgramSummary(info)
    if json { return try Inventory.printJSON(summary) }
    print(summary.line)
    for line in summary.details { print(line) }
  }
}

struct MapList: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "list", abstract: "List the maps.")
  @Flag(help: "Print JSON instead of text.") var json = false

  func run() throws {
    let maps = try Inventory.maps().map(MapSummary.init)
    if json { return try Inventory.printJSON(maps) }
    for map in maps { print(map.line) }
  }
}

struct LinkList: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "list", abstract: "List the BPF links.")
  @Flag(help: "Print JSON instead of text.") var json = false

  func run() throws {
    let ids: [UInt32]
    do { ids = try BPF.allLinkIDs() } catch { throw ToolError("list links: \(error)", hint: Inventory.rootHint) }
    let links = ids.compactMap { id in try? BPF.linkInfo(BPF.openLink(id: id)) }.map(LinkSummary.init)
    if json { return try Inventory.printJSON(links) }
    for link in links { print(link.line) }
  }
}
