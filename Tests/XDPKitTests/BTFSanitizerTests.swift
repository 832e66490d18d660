import Testing
import XDPKitObject
import XDPKitSys
import XDPKitTestSupport

@testable import XDPKit

/// BTF encodings newer than 5.2 are rewritten for a kernel that lacks them, rather than the
/// whole BTF being dropped. This machine's kernels have them all, so the kernel tests load the
/// fixture as if they were missing and check what the kernel then holds.
@Suite("BTF sanitizing")
struct BTFSanitizerTests {
  static func fixtureBTF() throws -> BTF {
    try #require(try TestFixtures.object("btf_kinds").btf)
  }

  static func kinds(_ btf: BTF) -> [BTFKind: Int] {
    var counts: [BTFKind: Int] = [:]
    for type in btf.types.dropFirst() { counts[type.kind, default: 0] += 1 }
    return counts
  }

  static func globalFunctions(_ btf: BTF) -> [String] {
    btf.types.compactMap { type in
      if case .function(_, .global) = type.body { return type.name }
      return nil
    }
  }

  @Test("the fixture uses every feature, and the rewrite keeps ids and removes each one")
  func rewriteEachFeature() throws {
    let original = try Self.fixtureBTF()
    #expect(BTFKernelFeatures(usedBy: original) == .all)
    #expect(Self.globalFunctions(original) == ["bump", "xdp_btf_kinds"])

    var btf = original
    let lines = try BTFSanitizer.sanitize(&btf, removing: .all)
    #expect(lines == [
      "global FUNC → static FUNC: 2 types",
      "FLOAT → empty anonymous STRUCT of the same size: 1 type",
      "DECL_TAG → 1-byte INT: 1 type",
      "TYPE_TAG → CONST: 1 type",
      "ENUM64 → empty UNION of the same size: 1 type",
    ])
    #expect(btf.types.count == original.types.count)
    #expect(BTFKernelFeatures(usedBy: btf).isEmpty)
    for (id, before) in original.types.enumerated() {
      let after = btf.types[id]
      switch before.body {
      case .float(let size):
        #expect(after.body == .struct(size: size, members: []) && after.nameOffset == 0)
      case .enum64(let size, _):
        #expect(after.body == .union(size: size, members: []) && after.name == before.name)
      case .typeTag(let target):
        #expect(after.body == .const(target) && after.nameOffset == 0)
      case .declarationTag:
        #expect(after.body == .int(.init(size: 1, encoding: [], bits: 8)))
      case .function(let prototype, .global):
        #expect(after.body == .function(prototype: prototype, linkage: .static) && after.name == before.name)
      default:
        #expect(after == before, "type \(id) changed")
      }
    }

    // Only what is asked for is rewritten.
    var partial = original
    #expect(try BTFSanitizer.sanitize(&partial, removing: [.typeTags]) == ["TYPE_TAG → CONST: 1 type"])
    #expect(BTFKernelFeatures(usedBy: partial) == [.globalFunctions, .float, .declarationTags, .enum64])
  }

  @Test("probes: a kernel of 6.0 or later accepts every feature", .kernel)
  func probes() throws {
    let release = SystemInfo.kernelRelease().split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
    try #require(release.count >= 2)
    try #require(release[0] > 6 || (release[0] == 6 && release[1] >= 0), "this test knows kernels from 6.0")
    for (feature, _, _) in BTFKernelFeatures.rewrites {
      #expect(BTFFeatureProbe.probe(feature).isSupported, "\(feature)")
    }
    #expect(BTFFeatureProbe.supported(.all) == .all)
  }

  @Test("an object whose BTF is rewritten keeps its BTF: func info, map values and globals", .kernel)
  func loadRewritten() throws {
    let object = try TestFixtures.object("btf_kinds")
    var options = LoadOptions()
    options.btfFeaturesAssumedMissing = .all
    let loaded = try object.load(options: options)
    #expect(loaded.notes == [
      "BTF rewritten for this kernel, which lacks [global FUNC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64]: "
        + "global FUNC → static FUNC: 2 types; FLOAT → empty anonymous STRUCT of the same size: 1 type; "
        + "DECL_TAG → 1-byte INT: 1 type; TYPE_TAG → CONST: 1 type; ENUM64 → empty UNION of the same size: 1 type",
    ])
    let program = try loaded.program("xdp_btf_kinds")
    let info = try BPF.programInfo(program.fileDescriptor)
    #expect(info.btfID != 0)
    let held = try BTF(bytes: try BPF.btfData(try BPF.openBTF(id: info.btfID)))
    let kinds = Self.kinds(held)
    for kind in [BTFKind.float, .declarationTag, .typeTag, .enum64] { #expect(kinds[kind] == nil, "\(kind)") }
    #expect(Self.globalFunctions(held).isEmpty)

    // The program and its global function run as compiled.
    for expected: UInt64 in [3, 6] {
      let run = try program.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1)))
      #expect(run.action == .pass)
      #expect(try loaded.global("counter", as: UInt64.self) == expected)
    }
    #expect(try loaded.global("ratio", as: Float.self) == 1.5)
    #expect(try loaded.global("wide_value", as: UInt64.self) == 0x5_0000_0003)

    // Loaded plainly, the kernel keeps the original encodings.
    let plain = try object.load()
    #expect(plain.notes.isEmpty, "\(plain.notes)")
    let plainInfo = try BPF.programInfo(try plain.program("xdp_btf_kinds").fileDescriptor)
    let plainKinds = Self.kinds(try BTF(bytes: try BPF.btfData(try BPF.openBTF(id: plainInfo.btfID))))
    for kind in [BTFKind.float, .declarationTag, .typeTag, .enum64] { #expect(plainKinds[kind] == 1, "\(kind)") }
  }
}
