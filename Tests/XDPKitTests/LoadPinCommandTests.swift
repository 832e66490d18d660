import Foundation
import Glibc
import Testing
import XDPKit
import XDPKitTestSupport

/// `xdpkit load --pin`: the directory is checked before anything is loaded, and a refused
/// run leaves nothing behind.
@Suite("xdpkit load --pin", .kernel)
struct LoadPinCommandTests {
  static func load(_ arguments: [String]) throws -> CommandResult {
    try Command.run(PrivilegeTests.toolPath(), ["load"] + arguments, timeout: .seconds(60))
  }

  static let object = TestFixtures.directory.appendingPathComponent("xdp_pass.o").path

  @Test("--pin outside bpffs says so, and creates no directory")
  func outsideBPFFS() throws {
    let target = FileManager.default.temporaryDirectory.appendingPathComponent("xdpkit-pin-\(getpid())").path
    let result = try Self.load([Self.object, "--pin", target + "/sub"])
    #expect(result.status != 0)
    #expect(result.standardError.contains("--pin \(target)/sub: /tmp: not in a bpf file system"), "\(result.standardError)")
    #expect(!result.standardError.contains("Operation not permitted"))
    #expect(!FileManager.default.fileExists(atPath: target))
  }

  @Test("--pin pins programs and maps in a 0700 directory; a symbolic link on the path is refused")
  func insideBPFFS() throws {
    let directory = try TemporaryPinDirectory()
    let target = directory.path + "/loaded"
    let result = try Self.load([Self.object, "--pin", target])
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardOutput.contains("pinned under \(target)"))
    #expect(try PinningTests.permissions(target) == 0o700)
    #expect(try PinningTests.permissions(target + "/xdp_pass") == 0o600)
    #expect(try LoadedProgram.open(pinnedAt: target + "/xdp_pass").type == .xdp)

    #expect(symlink(target, directory.path + "/alias") == 0)
    let viaLink = try Self.load([Self.object, "--pin", directory.path + "/alias/again"])
    #expect(viaLink.status != 0)
    #expect(viaLink.standardError.contains("\(directory.path)/alias: is a symbolic link"), "\(viaLink.standardError)")
    #expect(!FileManager.default.fileExists(atPath: target + "/again"))
  }

  @Test("a run that fails leaves another run's pins alone, removes its own, and never pins over another map")
  func failedRunKeepsOthersPins() throws {
    let directory = try TemporaryPinDirectory()
    let target = directory.path + "/shared"
    let object = TestFixtures.directory.appendingPathComponent("blocklist_btf.o").path
    let first = try Self.load([object, "--pin", target])
    #expect(first.status == 0, "\(first.standardError)")
    let mapID = try BPFMap.open(pinnedAt: target + "/maps/BLOCKLIST").id

    // The same load again: its program pin collides, and the first run's pins stay.
    let second = try Self.load([object, "--pin", target])
    #expect(second.status != 0)
    #expect(second.standardError.contains("pin program xdp_firewall:"), "\(second.standardError)")
    #expect(FileManager.default.fileExists(atPath: target + "/xdp_firewall"))
    #expect(try BPFMap.open(pinnedAt: target + "/maps/BLOCKLIST").id == mapID)

    // Without the program pin in the way, the maps collide: refused, naming the pinned map,
    // and the program pin this run made is taken back.
    #expect(unlink(target + "/xdp_firewall") == 0)
    let third = try Self.load([object, "--pin", target])
    #expect(third.status != 0)
    #expect(third.standardError.contains(
      "pin map BLOCKLIST: \(target)/maps/BLOCKLIST is map id \(mapID), not this load's map"), "\(third.standardError)")
    #expect(!FileManager.default.fileExists(atPath: target + "/xdp_firewall"))
    #expect(try BPFMap.open(pinnedAt: target + "/maps/BLOCKLIST").id == mapID)
  }
}

