import Foundation
import Testing
import XDPKit
import XDPKitSys
import XDPPrograms
import XDPKitTestSupport

/// One fixture object as both loaders see it.
struct DifferentialCase: Sendable, CustomStringConvertible {
  enum Source: Sendable {
    /// `Tests/<folder>/<name>.o`.
    case file(folder: String)
    /// An object XDPKit ships (`XDPPrograms`), written to a temporary `<name>.o` for bpftool.
    case embedded
  }

  var name: String
  var source: Source
  /// XDPKit's options (program selection, sizes left to the loader).
  var options = LoadOptions()
  /// Programs hidden from bpftool (which loads all or nothing): programs that cannot load on
  /// this kernel by design of the fixture (XDPKit's ``options`` leave them out too) and
  /// programs in sections libbpf does not know. They are not compared.
  var hiddenFromBpftool: Set<String> = []
  /// Maps bpftool takes from XDPKit's load: libbpf 1.1 cannot create them (a size left to
  /// the loader, types on a ring buffer) where XDPKit's fix-ups can.
  var reusedMaps: [String] = []
  /// Non-weak kfuncs the object calls: where the kernel lacks one (6.1 lacks
  /// `bpf_cast_to_kern_ctx`), both loaders must refuse the object, naming it.
  var kernelFunctions: [String] = []

  var description: String { name }

  static let fixtures = "XDPKitObjectTests/Fixtures"

  /// Every object the loader tests load that libbpf can load too. Left out, and why:
  /// `blocklist_legacy`, `legacy_long` (legacy `maps` section: libbpf 1.0 dropped it),
  /// `LogProgram` (`static` maps: libbpf 1.1 refuses the linkage, and with the linkage and
  /// symbols made global it aims the `.maps` section-symbol relocation of XDPKIT_LOG_LOST at
  /// XDPKIT_LOG, ignoring the offset in the instruction), `extern_ksym` and
  /// `verifier_reject` (neither loader can load them here, by design), `trampoline_fentry`
  /// and `freplace_ext` (lockdown refuses trampolines on this host).
  static let all: [DifferentialCase] = [
    DifferentialCase(name: "xdp_pass", source: .file(folder: fixtures)),
    DifferentialCase(name: "blocklist_btf", source: .file(folder: fixtures)),
    DifferentialCase(name: "calls", source: .file(folder: fixtures)),
    // Functions laid out depth first, as libbpf lays them out (another order, another tag).
    DifferentialCase(name: "call_order", source: .file(folder: fixtures)),
    DifferentialCase(name: "globals", source: .file(folder: fixtures)),
    DifferentialCase(name: "extern", source: .file(folder: fixtures), kernelFunctions: ["bpf_cast_to_kern_ctx"]),
    DifferentialCase(name: "freplace_target", source: .file(folder: fixtures)),
    DifferentialCase(name: "btf_kinds", source: .file(folder: fixtures)),
    DifferentialCase(name: "generator_kinds", source: .file(folder: fixtures)),
    // __records (xdpkit_bpf.h): libbpf reads only the array length of the map's `type`.
    DifferentialCase(name: "generator_records", source: .file(folder: fixtures)),
    DifferentialCase(
      name: "core_kinds", source: .file(folder: fixtures),
      options: LoadOptions(programs: Set(CORELoadTests.loadable)), hiddenFromBpftool: ["core_missing_live"]),
    DifferentialCase(
      name: "externs_kernel", source: .file(folder: fixtures),
      options: LoadOptions(programs: ["xdp_externs"]), hiddenFromBpftool: ["xdp_typed_ksym"]),
    // libbpf 1.1 does not know the sections "xdp_legacy" and "xdp/legacy_name" (XDPKit
    // loads both as XDP).
    DifferentialCase(
      name: "multi_prog", source: .file(folder: fixtures),
      hiddenFromBpftool: ["xdp_legacy_prog", "xdp_legacy_name_prog"]),
    DifferentialCase(
      name: "map_in_map", source: .file(folder: fixtures),
      options: LoadOptions(maxEntries: ["DYNAMIC": 16]), reusedMaps: ["DYNAMIC"]),
    DifferentialCase(
      name: "map_fixups", source: .file(folder: fixtures), reusedMaps: ["SOCK_STATE", "TASK_STATE", "EVENTS", "PERF"]),
    DifferentialCase(name: "LogUnused", source: .file(folder: "XDPKitTests/Fixtures")),
    DifferentialCase(name: "PerfProgram", source: .file(folder: "XDPKitTests/Fixtures")),
    DifferentialCase(name: "RingBufferProgram", source: .file(folder: "XDPKitMapsTests")),
    DifferentialCase(name: "xdp_firewall", source: .embedded),
    DifferentialCase(name: "xdp_pass_embedded", source: .embedded),
  ]

  /// The object's bytes and a file bpftool can read (the name gives libbpf's map prefix).
  func objectFile(in directory: String) throws -> (bytes: [UInt8], path: String) {
    switch source {
    case .file(let folder):
      let path = TestFixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(folder).appendingPathComponent(name + ".o").path
      guard let data = FileManager.default.contents(atPath: path) else {
        throw DifferentialTestError("cannot read \(path)")
      }
      let bytes = [UInt8](data)
      guard !hiddenFromBpftool.isEmpty else { return (bytes, path) }
      let copy = "\(directory)/\(name).o"
      try Data(try ELFSymbols.hidingFunctions(hiddenFromBpftool, in: bytes)).write(to: URL(fileURLWithPath: copy))
      return (bytes, copy)
    case .embedded:
      let embedded = name == "xdp_pass_embedded" ? "xdp_pass" : name
      guard let bytes = XDPPrograms.object(named: embedded) else {
        throw DifferentialTestError("XDPPrograms has no \(embedded) (it has \(XDPPrograms.names))")
      }
      let copy = "\(directory)/\(embedded).o"
      try Data(bytes).write(to: URL(fileURLWithPath: copy))
      return (bytes, copy)
    }
  }
}

extension Trait where Self == ConditionTrait {
  /// Runs where bpftool is installed, or where kernel tests are required (so that a missing
  /// bpftool fails in CI, which installs it in `.ci/setup`).
  static var bpftool: Self {
    .enabled(
      if: Bpftool.path != nil || KernelTestGate.isRequired,
      "needs bpftool (installed by .ci/setup); set XDPKIT_REQUIRE_PRIVILEGED=1 to make this a failure")
  }
}

@Suite("xlated instructions: XDPKit and bpftool load the same code", .kernel, .bpftool)
struct XlatedDifferentialTests {
  @Test("each fixture program's xlated instructions match bpftool prog loadall's", arguments: DifferentialCase.all)
  func sameInstructions(_ fixture: DifferentialCase) throws {
    let bpftool = try #require(Bpftool.path, "bpftool is not installed (looked in \(Bpftool.candidates))")
    let scratch = FileManager.default.temporaryDirectory
      .appendingPathComponent("xdpkit-xlated-\(getpid())-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let (bytes, path) = try fixture.objectFile(in: scratch)

    let pins = try TemporaryPinDirectory()
    defer { pins.remove() }
    let vmlinux = try BTF(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: "/sys/kernel/btf/vmlinux"))))
    if let missing = fixture.kernelFunctions.first(where: { vmlinux.typeID(named: $0, kind: .function) == nil }) {
      #expect {
        try BPFObject(bytes: bytes).load(options: fixture.options)
      } throws: { error in
        guard case LoadError.unresolvedExtern(.missingKernelSymbol(let name, _)) = error else { return false }
        return name == missing
      }
      let result = try Bpftool.loadAll(bpftool: bpftool, object: path, directory: pins.path, reusedMaps: [])
      #expect(!result.succeeded && result.standardError.contains("'\(missing)'"), "\(result.standardError)")
      return
    }

    let loaded = try BPFObject(bytes: bytes).load(options: fixture.options)
    defer { loaded.close() }
    for name in fixture.reusedMaps {
      try loaded.map(name).pin(at: pins.pinPath("map-" + name))
    }

    let result = try Bpftool.loadAll(
      bpftool: bpftool, object: path, directory: pins.path, reusedMaps: fixture.reusedMaps)
    try #require(result.succeeded, "\(result.command.joined(separator: " ")): \(result.standardError)")
    let pinned = try FileManager.default.contentsOfDirectory(atPath: pins.pinPath("programs")).sorted()
    let compared = loaded.programNames.filter { !fixture.hiddenFromBpftool.contains($0) }
    #expect(pinned == compared, "bpftool loaded \(pinned), XDPKit \(loaded.programNames)")

    var names: [UInt32: String] = [:]
    for name in compared where pinned.contains(name) {
      let theirs = try LoadedProgram.open(pinnedAt: pins.pinPath("programs/" + name))
      let mine = try XlatedInstruction.of(loaded.program(name).fileDescriptor, names: &names)
      let other = try XlatedInstruction.of(theirs.fileDescriptor, names: &names)
      #expect(!mine.isEmpty)
      let difference = XlatedInstruction.difference(mine, other)
      #expect(difference == nil, "\(fixture.name)/\(name): \(difference ?? "")")
    }
  }
}

@Suite("xlated instructions", .kernel)
struct TranslatedInstructionsTests {
  @Test("xdp_pass reads back as the two instructions clang wrote, w0 = 2; exit")
  func xdpPass() throws {
    let loaded = try TestFixtures.object("xdp_pass").load()
    defer { loaded.close() }
    let instructions = try BPF.translatedInstructions(loaded.program("xdp_pass").fileDescriptor)
    #expect(instructions == [
      BPFInstruction(opcode: 0xb4, immediate: 2), BPFInstruction(opcode: BPFInstruction.exitOpcode),
    ])
  }
}
