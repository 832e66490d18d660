import Foundation
import Testing
import XDPKit
import XDPKitSys
import XDPKitTestSupport
import XDPPrograms

/// `xdpkit prog list|show`, `map list|dump` and `link list` on objects the test loads: exact
/// lines, and JSON that decodes to the same values.
@Suite("xdpkit prog, map and link inventory", .kernel)
struct InventoryCommandTests {
  static func xdpkit(_ arguments: String...) throws -> CommandResult {
    try Command.run(try PrivilegeTests.toolPath(), arguments, timeout: .seconds(120))
  }

  /// An IPv4/UDP frame from 198.51.100.`last` to 192.0.2.254.
  static func frame(from last: UInt8) -> [UInt8] {
    var frame = [UInt8](repeating: 0, count: 42)
    frame[12] = 0x08; frame[14] = 0x45; frame[17] = 28; frame[22] = 64; frame[23] = 17
    frame.replaceSubrange(26..<30, with: [198, 51, 100, last])
    frame.replaceSubrange(30..<34, with: [192, 0, 2, 254])
    return frame
  }

  @Test("prog list and prog show: the firewall's line, sizes, maps and BTF, by id and by a name that may be ambiguous")
  func programs() throws {
    let loaded = try BPFObject(bytes: XDPPrograms.firewall).load()
    let program = try loaded.program("xdp_firewall")
    let info = try program.info()
    let expectedLine = "\(info.id): xdp  name xdp_firewall  tag \(info.tagString)  gpl"
    let list = try Self.xdpkit("prog", "list")
    #expect(list.status == 0)
    #expect(list.standardOutput.split(separator: "\n").contains { $0 == expectedLine })

    let show = try Self.xdpkit("prog", "show", "\(info.id)")
    #expect(show.status == 0)
    var lines = [expectedLine, "\txlated \(info.translatedSize)B  jited \(info.jitedSize)B  verified \(info.verifiedInstructions) insns",
                 "\tmap_ids " + info.mapIDs.map(String.init).joined(separator: ",")]
    if info.btfID != 0 { lines.append("\tbtf_id \(info.btfID)") }
    #expect(show.standardOutput == lines.joined(separator: "\n") + "\n")

    struct Summary: Decodable, Equatable { var id: UInt32; var type: String; var name: String; var tag: String; var mapIDs: [UInt32] }
    let json = try Self.xdpkit("prog", "show", "\(info.id)", "--json")
    let decoded = try JSONDecoder().decode(Summary.self, from: Data(json.standardOutput.utf8))
    #expect(decoded == Summary(id: info.id, type: "xdp", name: "xdp_firewall", tag: info.tagString, mapIDs: info.mapIDs))

    // A second load makes the name ambiguous: the error lists both ids.
    let second = try BPFObject(bytes: XDPPrograms.firewall).load()
    let secondID = try second.program("xdp_firewall").id
    let ambiguous = try Self.xdpkit("prog", "show", "xdp_firewall")
    #expect(ambiguous.status == 1)
    #expect(ambiguous.standardError.hasPrefix("error: program xdp_firewall: "))
    #expect(ambiguous.standardError.contains(" programs have this name, ids "))
    #expect(ambiguous.standardError.contains("\(info.id)") && ambiguous.standardError.contains("\(secondID)"))
    #expect(ambiguous.standardError.hasSuffix("hint: give the id\n"))
    second.close()
    loaded.close()
  }

  @Test("map dump: STATS per CPU as action_stats structs, BLOCKLIST keys and hit counts, through the maps' BTF")
  func mapDump() throws {
    let loaded = try BPFObject(bytes: XDPPrograms.firewall).load()
    let program = try loaded.program("xdp_firewall")
    let blocklist = try loaded.hashMap("BLOCKLIST", key: UInt32.self, value: UInt32.self)
    try blocklist.insert(0, forKey: 0xC633_6401)  // 198.51.100.1
    for _ in 0..<3 { _ = try program.testRun(packet: Self.frame(from: 1)) }  // dropped: hits 3
    let blocklistID = try loaded.map("BLOCKLIST").info().id
    let dump = try Self.xdpkit("map", "dump", "\(blocklistID)")
    #expect(dump.status == 0, "\(dump.standardError)")
    #expect(dump.standardOutput == "key: \(0xC633_6401 as UInt32)  value: 3\nFound 1 element\n")

    let statsID = try loaded.map("STATS").info().id
    let stats = try Self.xdpkit("map", "dump", "\(statsID)")
    let cpus = try SystemInfo.possibleCPUCount()
    let statsLines = stats.standardOutput.split(separator: "\n").map(String.init)
    #expect(statsLines.count == 6)  // XDP_ABORTED … XDP_REDIRECT, and the count
    #expect(statsLines.last == "Found 5 elements")
    // The drops ran on one CPU: its XDP_DROP entry has 3 packets of 42 bytes, the others none.
    let drop = try #require(statsLines.first { $0.hasPrefix("key: 1  ") })
    #expect(drop.contains("{packets: 3, bytes: 126}"))
    #expect(drop.components(separatedBy: "cpu").count - 1 == cpus)
    #expect(try #require(statsLines.first { $0.hasPrefix("key: 2  ") }).components(separatedBy: "{packets: 0, bytes: 0}").count - 1 == cpus)

    struct Entry: Decodable { var key: UInt32; var values: [[String: UInt64]] }
    let json = try Self.xdpkit("map", "dump", "\(statsID)", "--json")
    let entries = try JSONDecoder().decode([Entry].self, from: Data(json.standardOutput.utf8))
    #expect(entries.map(\.key) == [0, 1, 2, 3, 4])
    #expect(entries[1].values.reduce(0) { $0 + ($1["packets"] ?? 0) } == 3)
    #expect(entries[1].values.reduce(0) { $0 + ($1["bytes"] ?? 0) } == 126)
    loaded.close()
  }

  @Test("map dump by name: a unique name resolves, an ambiguous one lists the ids, an unknown id is named")
  func mapNames() throws {
    // A name no other process uses (map names are at most 15 characters).
    let name = "dump_\(getpid() % 1_000_000)"
    let unique = try BPF.createMap(MapCreateAttributes(type: .array, keySize: 4, valueSize: 4, maxEntries: 1, name: name))
    let uniqueID = try BPF.mapInfo(unique).id
    let dump = try Self.xdpkit("map", "dump", name)
    #expect(dump.status == 0, "\(dump.standardError)")
    #expect(dump.standardOutput == "key: 00 00 00 00  value: 00 00 00 00\nFound 1 element\n")
    #expect(try Self.xdpkit("map", "dump", "\(uniqueID)").standardOutput == dump.standardOutput)

    let first = try BPFObject(bytes: XDPPrograms.firewall).load()
    let second = try BPFObject(bytes: XDPPrograms.firewall).load()
    defer { first.close(); second.close() }
    let ids = [try first.map("BLOCKLIST").id, try second.map("BLOCKLIST").id]
    let ambiguous = try Self.xdpkit("map", "dump", "BLOCKLIST")
    #expect(ambiguous.status == 1)
    #expect(ambiguous.standardOutput == "")
    let lines = ambiguous.standardError.split(separator: "\n").map(String.init)
    #expect(lines.count == 2)
    #expect(lines.first?.hasPrefix("error: map BLOCKLIST: ") == true)
    #expect(lines.first?.contains(" maps have this name, ids ") == true)
    let listed = Set((lines.first ?? "").components(separatedBy: "ids ").last?.components(separatedBy: ", ").compactMap { UInt32($0) } ?? [])
    #expect(listed.isSuperset(of: ids), "\(ambiguous.standardError)")
    #expect(lines.last == "hint: give the id")
  }

  @Test("exact errors: an id no object has, with the command that lists them")
  func unknownIDs() throws {
    let program = try Self.xdpkit("prog", "show", "4294967295")
    #expect(program.status == 1)
    #expect(program.standardError == "error: program 4294967295: no program has this id\nhint: `xdpkit prog list` shows them\n")
    let map = try Self.xdpkit("map", "dump", "no_such_map_x")
    #expect(map.standardError == "error: map no_such_map_x: no map has this name\nhint: `xdpkit map list` shows them\n")
    let btf = try Self.xdpkit("btf", "dump", "4294967295")
    #expect(btf.standardError == "error: BTF id 4294967295: no such BTF object\nhint: `xdpkit prog show` and `xdpkit map list` print BTF ids\n")
  }

  @Test("link list: an XDP link on the test's veth, with its program and interface")
  func links() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let loaded = try BPFObject(bytes: XDPPrograms.pass).load()
    let link = try network.withNamespace(.b) {
      try loaded.xdpProgram("xdp_pass").attach(to: .name(network.interfaceB), mode: .generic, method: .link)
    }
    let info = try link.info()
    let list = try Self.xdpkit("link", "list")
    #expect(list.standardOutput.split(separator: "\n").contains {
      $0 == "\(info.id): xdp  prog \(info.programID)  ifindex \(network.interfaceIndexB)"
    })
    struct Summary: Decodable { var id: UInt32; var type: String; var programID: UInt32; var interfaceIndex: UInt32? }
    let json = try JSONDecoder().decode([Summary].self, from: Data(try Self.xdpkit("link", "list", "--json").standardOutput.utf8))
    let mine = try #require(json.first { $0.id == info.id })
    #expect(mine.type == "xdp" && mine.programID == info.programID && mine.interfaceIndex == UInt32(network.interfaceIndexB))
    try link.detach()
  }
}
