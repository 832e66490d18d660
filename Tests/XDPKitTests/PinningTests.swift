import Foundation
import Testing
import XDPKit
import XDPKitTestSupport

/// Pinning maps, programs and links in bpffs, and pin-by-name maps reused across loads. Every
/// pin lives in a ``TemporaryPinDirectory`` that is removed (with what is pinned in it) when the
/// test ends, also when it fails.
@Suite("Pinning in bpffs", .kernel)
struct PinningTests {
  /// The permission bits of `path`, from stat(2).
  static func permissions(_ path: String) throws -> mode_t {
    var status = stat()
    guard stat(path, &status) == 0 else {
      throw TestSupportError.socket(call: "stat \(path)", errno: .current)
    }
    return status.st_mode & 0o7777
  }

  @Test("a pinned map reopens by path with the same id and contents; the pin is mode 0600")
  func pinMap() throws {
    let directory = try TemporaryPinDirectory()
    let path = directory.pinPath("BLOCKLIST")
    let loaded = try TestFixtures.object("blocklist_btf").load()
    let map = try loaded.map("BLOCKLIST")
    let blocklist = try HashMap<UInt32, UInt32>(map)
    try blocklist.insert(7, forKey: 0xC000_0201)
    try blocklist.insert(9, forKey: 0xC633_6401)   // 198.51.100.1
    try map.pin(at: path)
    #expect(try Self.permissions(path) == 0o600)
    let id = try map.id

    // Another pin at the same path is refused.
    #expect(throws: MapError.self) { try map.pin(at: path) }

    // Everything else let go: the pin alone keeps the map.
    loaded.close()
    let reopened = try BPFMap.open(pinnedAt: path)
    #expect(try reopened.id == id)
    #expect(reopened.type == .hash)
    #expect(reopened.keySize == 4 && reopened.valueSize == 4)
    let view = try HashMap<UInt32, UInt32>(reopened)
    #expect(try view.value(forKey: 0xC000_0201) == 7)
    #expect(try view.value(forKey: 0xC633_6401) == 9)
    #expect(try view.count() == 2)
    // Writes through the reopened map are seen through the original handle.
    try view.insert(11, forKey: 0xCB00_7101)   // 203.0.113.1
    #expect(try blocklist.value(forKey: 0xCB00_7101) == 11)

    // A program pinned elsewhere is not a map.
    try loaded.object.load().program("xdp_firewall").pin(at: directory.pinPath("prog"))
    #expect {
      try BPFMap.open(pinnedAt: directory.pinPath("prog"))
    } throws: { error in
      guard case MapError.notAMap = error else { return false }
      return true
    }
    #expect {
      try BPFMap.open(pinnedAt: directory.pinPath("absent"))
    } throws: { error in
      guard case MapError.noPinnedObject(let p) = error else { return false }
      return p == directory.pinPath("absent")
    }
  }

  @Test("a pinned program outlives its loaded object; the pin is mode 0600")
  func pinProgram() throws {
    let directory = try TemporaryPinDirectory()
    let path = directory.pinPath("xdp_pass")
    let id: UInt32
    do {
      let loaded = try TestFixtures.object("xdp_pass").load()
      let program = try loaded.program("xdp_pass")
      id = try program.id
      try program.pin(at: path)
      loaded.close()
    }
    #expect(try Self.permissions(path) == 0o600)
    // The kernel keeps the program for the pin.
    #expect(try BPF.allProgramIDs().contains(id))
    let fd = try BPF.openPinned(at: path)
    #expect(try BPF.programInfo(fd).id == id)
    #expect(try BPF.programInfo(fd).type == .xdp)
  }

  @Test("a pinned link keeps the program attached after every handle is gone; unlinking the pin detaches it")
  func pinLink() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let directory = try TemporaryPinDirectory()
    let path = directory.pinPath("link")
    let veth = NetworkInterface.name(network.interfaceB)

    let programID: UInt32 = try network.withNamespace(.b) {
      let loaded = try TestFixtures.object("xdp_pass").load()
      let link = try loaded.xdpProgram("xdp_pass").attach(to: veth, mode: .native)
      try link.pin(at: path)
      let id = try loaded.program("xdp_pass").id
      loaded.close()
      return id
    }
    #expect(try Self.permissions(path) == 0o600)

    // No XDPLink, no LoadedObject: the pin holds the link, the link holds the program.
    try network.withNamespace(.b) { () throws in
      let state = try XDP.attachment(on: veth)
      #expect(state.mode == .driver)
      #expect(state.programID == programID)
    }

    // Reopened by path (from anywhere: links are not tied to a namespace).
    do {
      let reopened = try XDPLink.open(pinnedAt: path)
      #expect(reopened.isLink)
      #expect(reopened.interfaceIndex == network.interfaceIndexB)
      let info = try reopened.info()
      #expect(info.programID == programID)
      #expect(info.xdpInterfaceIndex == UInt32(network.interfaceIndexB))
    }
    // The reopened handle is gone again; the program is still attached.
    try network.withNamespace(.b) { () throws in
      #expect(try XDP.attachment(on: veth).programID == programID)
    }

    // Removing the pin drops the last reference to the link: the program is detached.
    #expect(unlink(path) == 0)
    try network.withNamespace(.b) { () throws in
      #expect(try waitUntil { try XDP.attachment(on: veth).mode == .notAttached })
    }
    #expect {
      try XDPLink.open(pinnedAt: path)
    } throws: { error in
      guard case AttachError.pinning(.noSuchObject(let missing)) = error else { return false }
      return missing == path
    }
  }

  @Test("a netlink attachment cannot be pinned")
  func pinNetlinkRefused() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let directory = try TemporaryPinDirectory()
    try network.withNamespace(.b) { () throws in
      let loaded = try TestFixtures.object("xdp_pass").load()
      let link = try loaded.xdpProgram("xdp_pass").attach(to: .name(network.interfaceB), mode: .generic,
                                                          method: .netlink())
      #expect(throws: AttachError.self) { try link.pin(at: directory.pinPath("link")) }
      try link.detach()
    }
    #expect(!FileManager.default.fileExists(atPath: directory.pinPath("link")))
  }

  // MARK: LoadOptions.pinDirectory

  @Test("pin-by-name: the first load pins PINNED, the second reuses it and sees its data")
  func pinByNameReuse() throws {
    let directory = try TemporaryPinDirectory()
    let object = try TestFixtures.object("map_in_map")
    let options = LoadOptions(maxEntries: ["DYNAMIC": 16], pinDirectory: directory.path)
    let path = directory.pinPath("PINNED")

    let first = try object.load(options: options)
    defer { first.close() }
    #expect(FileManager.default.fileExists(atPath: path))
    #expect(try Self.permissions(path) == 0o600)
    #expect(!first.notes.contains { $0.contains("reusing") }, "\(first.notes)")
    // Only the pin-by-name map is pinned.
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["PINNED"])
    let firstID = try first.map("PINNED").id
    try first.hashMap("PINNED", key: UInt32.self, value: UInt32.self).insert(42, forKey: 0xC000_0201)

    let second = try object.load(options: options)
    defer { second.close() }
    #expect(try second.map("PINNED").id == firstID)
    #expect(second.notes.contains { $0.contains("reusing") && $0.contains(path) }, "\(second.notes)")
    let seen = try second.hashMap("PINNED", key: UInt32.self, value: UInt32.self)
    #expect(try seen.value(forKey: 0xC000_0201) == 42)
    // …and the other way round.
    try seen.insert(43, forKey: 0xC633_6401)
    #expect(try first.hashMap("PINNED", key: UInt32.self, value: UInt32.self).value(forKey: 0xC633_6401) == 43)
    // Maps without pinning are not shared.
    #expect(try second.map("INNER").id != first.map("INNER").id)

    // The programs of the second load use the shared map.
    let programMaps = try second.program("xdp_maps").info().mapIDs
    #expect(programMaps.contains(firstID), "\(programMaps)")

    // The pin outlives both loads.
    first.close()
    second.close()
    #expect(try BPFMap.open(pinnedAt: path).id == firstID)
  }

  @Test("a load that fails after pinning a map removes the pin it made")
  func failedLoadUnpins() throws {
    let directory = try TemporaryPinDirectory()
    let object = try TestFixtures.object("map_in_map")
    // PINNED is created (and pinned) before EVENTS, whose impossible flags then fail the load.
    let options = LoadOptions(maxEntries: ["DYNAMIC": 16], mapFlags: ["EVENTS": 0xFFFF_0000],
                              pinDirectory: directory.path)
    #expect {
      try object.load(options: options)
    } throws: { error in
      guard case LoadError.mapCreation(let map, let syscall) = error else { return false }
      return map == "EVENTS" && syscall.errno == .invalidArgument
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [])
  }

  @Test("pin-by-name: a pinned map with other max_entries is .pinnedMapMismatch naming both numbers")
  func pinByNameMismatch() throws {
    let directory = try TemporaryPinDirectory()
    let path = directory.pinPath("PINNED")
    // Same type, key and value as map_in_map's PINNED, but 32 entries instead of 16.
    let impostor = try BPF.createMap(MapCreateAttributes(type: .hash, keySize: 4, valueSize: 4, maxEntries: 32,
                                                         name: "PINNED"))
    try BPF.pin(impostor, at: path)
    let mapsBefore = try BPF.allMapIDs().count

    let object = try TestFixtures.object("map_in_map")
    #expect {
      try object.load(options: LoadOptions(maxEntries: ["DYNAMIC": 16], pinDirectory: directory.path))
    } throws: { error in
      print("mismatch: \(error)")
      guard case LoadError.pinnedMapMismatch(let map, let p, let field, let expected, let actual) = error else {
        return false
      }
      let text = "\(error)"
      return map == "PINNED" && p == path && field == "max_entries" && expected == 16 && actual == 32
        && text.contains("max_entries") && text.contains("16") && text.contains("32")
    }
    // The failed load released what it had created.
    #expect(try waitUntil { try BPF.allMapIDs().count <= mapsBefore })

    // Overriding max_entries to match makes the pinned map acceptable.
    let loaded = try object.load(options: LoadOptions(maxEntries: ["DYNAMIC": 16, "PINNED": 32],
                                                      pinDirectory: directory.path))
    defer { loaded.close() }
    #expect(try loaded.map("PINNED").id == BPF.mapInfo(impostor).id)
  }

  @Test("pin-by-name: a pinned map of another type is a mismatch on type")
  func pinByNameTypeMismatch() throws {
    let directory = try TemporaryPinDirectory()
    let impostor = try BPF.createMap(MapCreateAttributes(type: .array, keySize: 4, valueSize: 4, maxEntries: 16,
                                                         name: "PINNED"))
    try BPF.pin(impostor, at: directory.pinPath("PINNED"))
    #expect {
      try TestFixtures.object("map_in_map").load(
        options: LoadOptions(maxEntries: ["DYNAMIC": 16], pinDirectory: directory.path))
    } throws: { error in
      guard case LoadError.pinnedMapMismatch(let map, _, let field, _, _) = error else { return false }
      return map == "PINNED" && field == "type"
    }
  }

  @Test("pin-by-name: a pinned bloom filter with another map_extra (hash count) is a mismatch on map_extra")
  func pinByNameMapExtraMismatch() throws {
    let directory = try TemporaryPinDirectory()
    var attributes = MapCreateAttributes(type: .bloomFilter, keySize: 0, valueSize: 4, maxEntries: 64, name: "FILTER")
    attributes.mapExtra = 3
    try BPF.pin(try BPF.createMap(attributes), at: directory.pinPath("FILTER"))
    let (result, bytes) = try BPFClang.compile("""
      #define SEC(name) __attribute__((section(name), used))
      struct {
        int (*type)[30];  /* BPF_MAP_TYPE_BLOOM_FILTER */
        unsigned int *value;
        int (*max_entries)[64];
        int (*map_extra)[5];
        int (*pinning)[1];  /* LIBBPF_PIN_BY_NAME */
      } FILTER SEC(".maps");
      SEC("xdp") int xdp_filtered(void *ctx) { return 2; }
      char LICENSE[] SEC("license") = "GPL";
      """, flags: ["-O2", "-g", "-target", "bpf", "-Wall", "-Werror"])
    let object = try BPFObject(bytes: try #require(bytes, "clang: \(result.standardError)"))
    #expect {
      try object.load(options: LoadOptions(pinDirectory: directory.path))
    } throws: { error in
      guard case LoadError.pinnedMapMismatch(let map, _, let field, let expected, let actual) = error else { return false }
      return map == "FILTER" && field == "map_extra" && expected == 5 && actual == 3
    }
  }

  @Test("legacy maps with pinning = 2 (iproute2's global namespace) are pinned by name and reused")
  func legacyPinning() throws {
    let directory = try TemporaryPinDirectory()
    let object = try TestFixtures.object("legacy_long")
    let options = LoadOptions(pinDirectory: directory.path)
    let path = directory.pinPath("PINNED")

    let first = try object.load(options: options)
    defer { first.close() }
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["PINNED"])
    #expect(try Self.permissions(path) == 0o600)
    let pinned = try BPFMap.open(pinnedAt: path)
    #expect(try pinned.id == first.map("PINNED").id)
    #expect(pinned.maxEntries == 64)
    #expect(pinned.flags == MapCreateFlags.noPreallocation.rawValue)

    let second = try object.load(options: options)
    defer { second.close() }
    #expect(try second.map("PINNED").id == pinned.id)
    #expect(second.notes.contains { $0.contains("reusing") }, "\(second.notes)")
    // COUNTERS (pinning 0) is not shared.
    #expect(try second.map("COUNTERS").id != first.map("COUNTERS").id)
  }

  @Test("a pinned map or program is not opened as an XDP link: the error names the kind")
  func wrongKinds() throws {
    let directory = try TemporaryPinDirectory()
    let loaded = try TestFixtures.object("blocklist_btf").load()
    defer { loaded.close() }
    try loaded.map("STATS").pin(at: directory.pinPath("STATS"))
    try loaded.program("xdp_firewall").pin(at: directory.pinPath("prog"))
    for (name, kind) in [("STATS", BPFObjectKind.map), ("prog", .program)] {
      let path = directory.pinPath(name)
      #expect {
        try XDPLink.open(pinnedAt: path)
      } throws: { error in
        guard case AttachError.pinning(.wrongKind(let p, let expected, let actual)) = error else { return false }
        return p == path && expected == .link && actual == kind
          && "\(error)" == "\(path): the pinned object is a \(kind), not a link"
      }
    }
    #expect(throws: BPFFSError.wrongKind(path: directory.pinPath("STATS"), expected: .program, actual: .map)) {
      _ = try LoadedProgram.open(pinnedAt: directory.pinPath("STATS"))
    }
    let program = try LoadedProgram.open(pinnedAt: directory.pinPath("prog"))
    #expect(program.type == .xdp)
    #expect(try program.id == loaded.program("xdp_firewall").id)
  }

  @Test("pinDirectory: created 0700, and a directory another user could change is refused")
  func pinDirectorySafety() throws {
    let directory = try TemporaryPinDirectory()
    let object = try TestFixtures.object("legacy_long")
    let nested = directory.path + "/service/maps"
    let first = try object.load(options: LoadOptions(pinDirectory: nested))
    first.close()
    #expect(try Self.permissions(directory.path + "/service") == 0o700)
    #expect(try Self.permissions(nested) == 0o700)
    #expect(try FileManager.default.contentsOfDirectory(atPath: nested) == ["PINNED"])

    // Writable by others without the sticky bit: refused, naming the directory.
    #expect(chmod(nested, 0o777) == 0)
    #expect {
      try object.load(options: LoadOptions(pinDirectory: nested))
    } throws: { error in
      guard case LoadError.pinning(let map, _, .writableByOthers(let path, _)) = error else { return false }
      return map == "PINNED" && path == nested
    }
    // Reached through a symbolic link: refused.
    #expect(chmod(nested, 0o700) == 0)
    #expect(symlink(nested, directory.path + "/alias") == 0)
    #expect {
      try object.load(options: LoadOptions(pinDirectory: directory.path + "/alias"))
    } throws: { error in
      guard case LoadError.pinning(_, _, .symbolicLink(let path)) = error else { return false }
      return path == directory.path + "/alias"
    }
  }
}
