import Foundation
import Testing
import XDPKit
import XDPKitTestSupport

/// Objects linked from several compilation units by libbpf's static linker (`bpftool gen
/// object`), as users of libbpf's skeletons build them: the linker lays the DATASECs out
/// itself, and names may repeat across units.
@Suite("Objects linked by bpftool gen object", .kernel, .bpftool)
struct LinkedObjectTests {
  /// Compiles each unit with the BPF clang and links them, in order, into one object.
  static func link(_ units: [String]) throws -> [UInt8] {
    let bpftool = try #require(Bpftool.path, "bpftool is not installed (looked in \(Bpftool.candidates))")
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("xdpkit-linked-\(getpid())-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(at: directory) }
    var inputs: [String] = []
    for (index, unit) in units.enumerated() {
      let (result, bytes) = try BPFClang.compile(
        "#define SEC(name) __attribute__((section(name), used))\n" + unit,
        flags: ["-O2", "-g", "-target", "bpf", "-Wall", "-Werror"])
      let path = directory.appendingPathComponent("unit\(index).o").path
      try Data(try #require(bytes, "clang: \(result.standardError)")).write(to: URL(fileURLWithPath: path))
      inputs.append(path)
    }
    let output = directory.appendingPathComponent("linked.o").path
    let linked = try Command.run(bpftool, ["gen", "object", output] + inputs)
    #expect(linked.succeeded, "bpftool gen object: \(linked.standardError)")
    return [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
  }

  @Test("static variables of the same name in two units keep the offsets the linker gave them, and the BTF loads")
  func sameNamedStatics() throws {
    let object = try BPFObject(bytes: Self.link([
      "static int hits; SEC(\"xdp\") int xdp_first(void *ctx) { hits += 1; return hits > 1000 ? 1 : 2; }\nchar LICENSE[] SEC(\"license\") = \"GPL\";",
      "static int hits; SEC(\"xdp\") int xdp_second(void *ctx) { hits += 2; return 2; }",
    ]))
    let loaded = try object.load()
    defer { loaded.close() }
    // Both offsets were rewritten to the last symbol's before, and the kernel refused the BTF:
    // the load went on without it, with only a note.
    #expect(!loaded.notes.contains { $0.contains("BTF") }, "\(loaded.notes)")
    for name in ["xdp_first", "xdp_second"] {
      #expect(try loaded.program(name).info().btfID != 0, "\(name) has no BTF")
      #expect(try loaded.program(name).testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1))).action == .pass)
    }
    // Each program counts in its own variable: 4 bytes apart in .bss.
    let bss = try loaded.dataMap(".bss")
    #expect(bss.valueSize == 8)
  }

  @Test("two static maps of the same name in two units are refused, naming the map")
  func sameNamedStaticMaps() throws {
    func map(type: Int, value: String) -> String {
      "static struct { int (*type)[\(type)]; int *key; \(value) *value; int (*max_entries)[4]; } m SEC(\".maps\");\n"
    }
    let bytes = try Self.link([
      map(type: 2, value: "unsigned int")  // ARRAY
        + "SEC(\"xdp\") int xdp_array(void *ctx) { return 2; }\nchar LICENSE[] SEC(\"license\") = \"GPL\";",
      map(type: 1, value: "unsigned long long")  // HASH
        + "SEC(\"xdp\") int xdp_hash(void *ctx) { return 2; }",
    ])
    #expect(throws: ObjectError.duplicateMapName(map: "m")) { try BPFObject(bytes: bytes) }
  }

  @Test("an extern neither __ksym nor __kconfig, left to a linker, is refused rather than looked up in the kernel")
  func externLeftToTheLinker() throws {
    let (result, bytes) = try BPFClang.compile("""
      #define SEC(name) __attribute__((section(name), used))
      extern void bpf_rcu_read_lock(void);
      SEC("tc") int uses_extern(void *ctx) { bpf_rcu_read_lock(); return 0; }
      char LICENSE[] SEC("license") = "GPL";
      """, flags: ["-O2", "-g", "-target", "bpf", "-Wall", "-Werror"])
    let object = try BPFObject(bytes: try #require(bytes, "clang: \(result.standardError)"))
    #expect {
      try object.load()
    } throws: { error in
      guard case LoadError.invalidExtern(.externNotKernelSymbol(let name)) = error else { return false }
      return name == "bpf_rcu_read_lock"
        && "\(error)".hasSuffix("link the object that does (bpftool gen object), or declare it __ksym if the kernel provides it")
    }
  }
}
