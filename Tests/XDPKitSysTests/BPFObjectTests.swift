import Foundation
import Glibc
import SystemPackage
import Testing
import XDPKitObject
import XDPKitTestSupport

@testable import XDPKitSys

/// The bpf file system the pin tests use, mounted at /sys/fs/bpf if it is not there yet.
enum BPFFS {
  static let root = "/sys/fs/bpf"

  /// Mounts bpffs at ``root`` unless statfs(2) shows it is already a bpf file system. Runs
  /// once per process; tests running in parallel share the outcome.
  static func ensureMounted() throws {
    try mountOutcome.get()
  }

  private static let mountOutcome: Result<Void, SyscallError> = Result { () throws(SyscallError) in
    try SystemInfo.mountBPFFSIfNeeded(at: root)
  }

  /// Runs `body` with a new, empty directory under ``root`` and removes the directory and
  /// everything pinned in it afterwards, also when `body` throws.
  static func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    try ensureMounted()
    let path = "\(root)/xdpkit-test-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    guard mkdir(path, 0o700) == 0 else {
      throw SyscallError(operation: .file(path), errno: .current)
    }
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
  }
}

@Suite("bpf(2) pinning", .kernel)
struct BPFObjectTests {
  @Test("pin a map: mode 0600, reopen by path, same kernel object, survives its descriptors")
  func pinMap() throws {
    try BPFFS.withTemporaryDirectory { directory in
      let path = directory + "/map"
      let original: MapInfo
      do {
        let map = try BPF.createMap(
          MapCreateAttributes(type: .hash, keySize: 4, valueSize: 4, maxEntries: 8, name: "xdpkit_pinned"))
        try update(map, UInt32(5), UInt32(55)).get()
        try BPF.pin(map, at: path)
        original = try BPF.mapInfo(map)

        var status = stat()
        #expect(stat(path, &status) == 0)
        #expect(status.st_mode & 0o7777 == 0o600)
        #expect(status.st_mode & S_IFMT == S_IFREG)

        let again = #expect(throws: BPFFSError.self) { try BPF.pin(map, at: path) }
        #expect(again == .exists(path: path))
      }
      // Every descriptor is closed now; the pin keeps the map alive.
      let reopened = try BPF.openPinned(at: path)
      #expect(try BPF.mapInfo(reopened) == original)
      #expect(try lookup(reopened, UInt32(5), as: UInt32.self).get() == 55)

      let readOnly = try BPF.openPinned(at: path, access: .readOnly)
      #expect(try lookup(readOnly, UInt32(5), as: UInt32.self).get() == 55)
      #expect(update(readOnly, UInt32(5), UInt32(1)).errno == .notPermitted)

      #expect(unlink(path) == 0)
      let gone = #expect(throws: BPFFSError.self) { _ = try BPF.openPinned(at: path) }
      #expect(gone == .noSuchObject(path: path))
    }
  }

  @Test("pin a program and read it back by path")
  func pinProgram() throws {
    try BPFFS.withTemporaryDirectory { directory in
      let path = directory + "/prog"
      let program = try BPF.loadProgramCapturingLog(
        ProgramLoadAttributes(type: .xdp, instructions: Assembler.passProgram, license: "GPL", name: "xdpkit_ppin"))
      try BPF.pin(program, at: path)
      let reopened = try BPF.openPinned(at: path)
      let info = try BPF.programInfo(reopened)
      #expect(info == (try BPF.programInfo(program)))
      #expect(info.name == "xdpkit_ppin")
    }
  }

  @Test("pinning outside a bpf file system fails")
  func pinOutsideBPFFS() throws {
    let map = try BPF.createMap(MapCreateAttributes(type: .array, keySize: 4, valueSize: 4, maxEntries: 1))
    let path = "/tmp/xdpkit-not-bpffs-\(getpid())"
    defer { unlink(path) }
    let error = #expect(throws: BPFFSError.self) { try BPF.pin(map, at: path) }
    #expect(error == .notInBPFFS(path: "/tmp"))
    #expect(try SystemInfo.isBPFFS(path: "/tmp") == false)
    try BPFFS.ensureMounted()
    #expect(try SystemInfo.isBPFFS(path: BPFFS.root))
  }
}
