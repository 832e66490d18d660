import Foundation
import SystemPackage
import Testing
import XDPKit
import XDPKitTestSupport

/// swift-system's `FilePath` at the API's edges: each overload reaches the same object as its
/// `String` form.
@Suite("FilePath overloads")
struct FilePathOverloadTests {
  static func fixturePath(_ name: String) -> FilePath {
    FilePath(TestFixtures.directory.appendingPathComponent(name + ".o").path)
  }

  @Test("BPFObject(contentsOf:) reads and parses a file; a missing file and a non-object name what is wrong")
  func objectFromFile() throws {
    let object = try BPFObject(contentsOf: Self.fixturePath("blocklist_btf"))
    #expect(object.programs.map(\.name) == (try TestFixtures.object("blocklist_btf")).programs.map(\.name))
    #expect(object.maps.map(\.name) == ["STATS", "BLOCKLIST"])
    #expect(try FileContents.read(path: Self.fixturePath("xdp_pass"))
            == FileContents.read(path: Self.fixturePath("xdp_pass").string))

    let missing = FilePath("/nonexistent/xdpkit.o")
    #expect {
      _ = try BPFObject(contentsOf: missing)
    } throws: { error in
      guard case .read(.noSuchFile(let path)) = error as? BPFObjectFileError else { return false }
      return path == "/nonexistent/xdpkit.o"
    }
    #expect {
      _ = try BPFObject(contentsOf: FilePath(TestFixtures.directory.appendingPathComponent("btf_dump.c").path))
    } throws: { error in
      guard case .object(let path, .notELF)? = error as? BPFObjectFileError else { return false }
      return path.hasSuffix("btf_dump.c")
    }
  }

  @Test("KernelBTF.load(path:) with a FilePath is the String form's cached value")
  func kernelBTF() throws {
    #expect(try KernelBTF.load(path: FilePath(KernelBTF.vmlinuxPath)) === KernelBTF.load())
  }

  @Test("programs, maps and links pin and reopen at a FilePath: same ids, same checks", .kernel)
  func pinAndOpen() throws {
    let directory = try TemporaryPinDirectory()
    let base = FilePath(directory.path)
    #expect(try BPFFSDirectory.open(base).filePath == base)

    let loaded = try TestFixtures.object("blocklist_btf").load()
    defer { loaded.close() }
    let program = try loaded.program("xdp_firewall")
    try program.pin(at: base.appending("prog"))
    #expect(try LoadedProgram.open(pinnedAt: base.appending("prog")).id == program.id)

    let map = try loaded.map("BLOCKLIST")
    try map.pin(at: base.appending("map"))
    #expect(try BPFMap.open(pinnedAt: base.appending("map"), access: .readOnly).id == map.id)
    // The String form's checks hold: a program is not a map.
    #expect(throws: MapError.notAMap(path: base.appending("prog").string)) {
      _ = try BPFMap.open(pinnedAt: base.appending("prog"))
    }

    let duplicate = try program.fileDescriptor.duplicate()
    try BPF.pin(duplicate, at: base.appending("again"))
    let reopened = try BPF.openPinned(at: base.appending("again"), kind: .program)
    #expect(try BPF.programInfo(reopened).id == program.id)

    let network = try TestNetwork()
    defer { network.destroy() }
    let pass = try TestFixtures.object("xdp_pass").load()
    defer { pass.close() }
    let link = try network.withNamespace(.b) {
      try pass.xdpProgram("xdp_pass").attach(to: .name(network.interfaceB), mode: .generic, method: .link)
    }
    try link.pin(at: base.appending("link"))
    let linkID = try link.info().id
    #expect(try XDPLink.open(pinnedAt: base.appending("link")).info().id == linkID)
    try link.detach()
  }
}
