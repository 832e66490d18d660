import Foundation
import Testing
import XDPKitObject
import XDPKitSys

@Suite("Kernel BTF")
struct KernelBTFTests {
  @Test("vmlinux is parsed by the package's reader, once per process, also under concurrent use")
  func cachedOnce() async throws {
    let first = try KernelBTF.load()
    #expect(first.path == "/sys/kernel/btf/vmlinux")
    #expect(first.btf.typeID(named: "task_struct", kind: .struct) != nil)
    #expect(first.target.candidates(named: "task_struct___flavor", kind: .struct)
      == [try #require(first.btf.typeID(named: "task_struct", kind: .struct))])
    let identities = try await withThrowingTaskGroup(of: ObjectIdentifier.self) { group in
      for _ in 0..<8 { group.addTask { ObjectIdentifier(try KernelBTF.load()) } }
      return try await group.reduce(into: Set<ObjectIdentifier>()) { $0.insert($1) }
    }
    #expect(identities == [ObjectIdentifier(first)])
  }

  @Test("a missing or malformed file is a typed error naming the path, and is not cached")
  func errors() throws {
    #expect {
      try KernelBTF.load(path: "/nonexistent/vmlinux")
    } throws: { error in
      guard case KernelBTFError.read(.noSuchFile(let path)) = error else { return false }
      return path == "/nonexistent/vmlinux"
    }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("xdpkit-btf-\(getpid())").path
    try Data([0x9F, 0xEB, 2, 0] + [UInt8](repeating: 0, count: 20)).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    #expect {
      try KernelBTF.load(path: path)
    } throws: { error in
      guard case KernelBTFError.parse(let where_, .unsupportedVersion(.btf, version: 2)) = error else { return false }
      return where_ == path
    }
  }
}
