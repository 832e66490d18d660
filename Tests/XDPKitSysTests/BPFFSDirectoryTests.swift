import Foundation
import Glibc
import Testing
import XDPKitSys
import XDPKitTestSupport

/// The checked bpffs directory: what another user can do to a shared bpffs must not reach
/// what XDPKit pins, opens or removes.
@Suite("Checked bpffs directories", .kernel)
struct BPFFSDirectoryTests {
  /// A fresh directory for one test, with the test's own pins; removed afterwards.
  private func withDirectory(_ body: (BPFFSDirectory) throws -> Void) throws {
    try BPFFS.withTemporaryDirectory { path in
      try body(try BPFFSDirectory.open(path))
    }
  }

  private func makeMap() throws -> BPFFileDescriptor {
    try BPF.createMap(MapCreateAttributes(type: .array, keySize: 4, valueSize: 4, maxEntries: 1, name: "xdpkit_dir"))
  }

  @Test("a symbolic link on the way is refused, and removing it leaves its target alone")
  func symbolicLinks() throws {
    let victim = FileManager.default.temporaryDirectory.appendingPathComponent("xdpkit-victim-\(getpid())").path
    try FileManager.default.createDirectory(atPath: victim + "/keep", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: victim) }
    try withDirectory { directory in
      #expect(symlink(victim, directory.path + "/evil") == 0)
      #expect(throws: BPFFSError.symbolicLink(path: directory.path + "/evil")) {
        _ = try BPFFSDirectory.open(directory.path + "/evil/keep", requireBPFFS: false)
      }
      #expect(throws: BPFFSError.symbolicLink(path: directory.path + "/evil")) {
        _ = try directory.subdirectory("evil")
      }
      #expect(throws: BPFFSError.symbolicLink(path: directory.path + "/evil")) {
        _ = try directory.openPinned("evil")
      }
      let removed = try directory.removeTree("evil")
      #expect(removed)
      #expect(directory.entryType("evil") == nil)
      #expect(FileManager.default.fileExists(atPath: victim + "/keep"))
    }
  }

  @Test("a directory another user owns, or others can write without the sticky bit, is refused")
  func ownersAndModes() throws {
    try withDirectory { directory in
      let other = try directory.subdirectory("other", create: true)
      #expect(chown(other.path, 65534, 65534) == 0)
      #expect(throws: BPFFSError.untrustedOwner(path: other.path, owner: 65534, effectiveUser: geteuid())) {
        _ = try directory.subdirectory("other")
      }
      #expect(throws: BPFFSError.untrustedOwner(path: other.path, owner: 65534, effectiveUser: geteuid())) {
        _ = try BPFFSDirectory.open(other.path)
      }

      let open = try directory.subdirectory("open", create: true)
      #expect(chmod(open.path, 0o777) == 0)
      #expect(throws: BPFFSError.writableByOthers(path: open.path, mode: S_IFDIR | 0o777)) {
        _ = try BPFFSDirectory.open(open.path + "/below", create: true)
      }
      #expect(directory.entryType("open/below") == nil)

      // A root-owned sticky directory (as a world-writable /sys/fs/bpf) may hold pins, but it
      // is not anybody's own state directory.
      #expect(chmod(open.path, 0o1777) == 0)
      _ = try BPFFSDirectory.open(open.path)
      #expect(throws: BPFFSError.writableByOthers(path: open.path, mode: S_IFDIR | 0o1777)) {
        _ = try BPFFSDirectory.open(open.path, exclusive: true)
      }
      #expect(throws: BPFFSError.writableByOthers(path: open.path, mode: S_IFDIR | 0o1777)) {
        _ = try directory.subdirectory("open")
      }
    }
  }

  @Test("directories are created 0700 whatever the mode asked of mkdir and the umask allow")
  func creationMode() throws {
    try withDirectory { directory in
      let created = try BPFFSDirectory.open(directory.path + "/a/b", create: true)
      for path in [directory.path + "/a", created.path] {
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o700, "\(path)")
        #expect(info.st_uid == geteuid())
      }
      let map = try makeMap()
      try created.pin(map, as: "map")
      var info = stat()
      #expect(stat(created.path + "/map", &info) == 0)
      #expect(info.st_mode & 0o7777 == 0o600)
    }
  }

  @Test("the kind of a pinned object is checked before it is trusted")
  func kinds() throws {
    try withDirectory { directory in
      let map = try makeMap()
      let program = try BPF.loadProgramCapturingLog(
        ProgramLoadAttributes(type: .xdp, instructions: Assembler.passProgram, license: "GPL", name: "xdpkit_kind"))
      #expect(try BPF.objectKind(of: map) == .map)
      #expect(try BPF.objectKind(of: program) == .program)
      try directory.pin(map, as: "map")
      try directory.pin(program, as: "prog")
      #expect(try BPF.objectKind(of: directory.openPinned("map")) == .map)
      #expect(throws: BPFFSError.wrongKind(path: directory.path + "/prog", expected: .link, actual: .program)) {
        _ = try directory.openPinned("prog", kind: .link)
      }
      #expect(throws: BPFFSError.wrongKind(path: directory.path + "/map", expected: .program, actual: .map)) {
        _ = try BPF.openPinned(at: directory.path + "/map", kind: .program)
      }
      #expect(throws: BPFFSError.noSuchObject(path: directory.path + "/none")) {
        _ = try directory.openPinned("none", kind: .map)
      }
      // A pin another user owns is not opened.
      #expect(lchown(directory.path + "/map", 65534, 65534) == 0)
      #expect(throws: BPFFSError.untrustedOwner(path: directory.path + "/map", owner: 65534, effectiveUser: geteuid())) {
        _ = try directory.openPinned("map")
      }
    }
  }

  @Test("names bpffs refuses, or that would leave the directory, are refused before any call")
  func names() throws {
    try withDirectory { directory in
      let map = try makeMap()
      for name in ["a.b", "..", "a/b", ""] {
        #expect(throws: BPFFSError.self) { try directory.pin(map, as: name) }
      }
      #expect(throws: BPFFSError.invalidPath("relative/path", reason: "not an absolute path")) {
        _ = try BPFFSDirectory.open("relative/path")
      }
      #expect(throws: BPFFSError.invalidPath(directory.path + "/../x", reason: "\"..\" components are not allowed")) {
        _ = try BPFFSDirectory.open(directory.path + "/../x")
      }
      // A directory to create with a dot: bpffs would answer EPERM; the error says why.
      #expect(throws: BPFFSError.invalidPath(directory.path + "/has.dot", reason: "bpffs does not allow \".\" in names")) {
        _ = try BPFFSDirectory.open(directory.path + "/has.dot/sub", create: true)
      }
      #expect(try directory.entries().isEmpty)
    }
  }

  @Test("a second lock waits, then gives up with a timeout; released, it can be taken")
  func locking() throws {
    try withDirectory { directory in
      var first: BPFFSDirectory.Lock? = try directory.lock(timeout: .seconds(1))
      let clock = ContinuousClock()
      let start = clock.now
      #expect(throws: BPFFSError.lockTimeout(path: directory.path)) {
        _ = try directory.lock(timeout: .milliseconds(200))
      }
      #expect(clock.now - start >= .milliseconds(200))
      withExtendedLifetime(first) {}
      first = nil
      _ = try directory.lock(timeout: .milliseconds(200))
    }
  }

  @Test("renaming over a link publishes in one step; records are read, never followed")
  func publishByRename() throws {
    try withDirectory { directory in
      _ = try directory.subdirectory("one", create: true)
      _ = try directory.subdirectory("two", create: true)
      try directory.makeSymbolicLink("current", target: "one")
      try directory.makeSymbolicLink("next", target: "two")
      try directory.rename("next", to: "current")
      #expect(try directory.readSymbolicLink("current") == "two")
      #expect(try directory.readSymbolicLink("next") == nil)
      #expect(throws: BPFFSError.invalidPath(directory.path + "/one", reason: "not a symbolic link")) {
        _ = try directory.readSymbolicLink("one")
      }
      #expect(try directory.entries() == ["current", "one", "two"])
    }
  }
}
