import Synchronization
import XDPKitObject
import XDPKitSys

/// BTF encodings that kernels after 5.2 (the first with global data) learned, and that clang
/// emits today. A kernel that lacks one refuses the whole object BTF, so the loader rewrites
/// what the kernel does not know instead of dropping the BTF.
public struct BTFKernelFeatures: OptionSet, Hashable, Sendable, CustomStringConvertible {
  /// The bits.
  public let rawValue: UInt8

  /// Features from their bits.
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  /// FUNC with global linkage (5.6): the verifier checks global functions on their own.
  public static let globalFunctions = BTFKernelFeatures(rawValue: 1 << 0)
  /// BTF_KIND_FLOAT (5.13).
  public static let float = BTFKernelFeatures(rawValue: 1 << 1)
  /// BTF_KIND_DECL_TAG (5.16): `__attribute__((btf_decl_tag("…")))`.
  public static let declarationTags = BTFKernelFeatures(rawValue: 1 << 2)
  /// BTF_KIND_TYPE_TAG (5.17): `__attribute__((btf_type_tag("…")))`, as in `__user`.
  public static let typeTags = BTFKernelFeatures(rawValue: 1 << 3)
  /// BTF_KIND_ENUM64 (6.0): enums with values beyond 32 bits.
  public static let enum64 = BTFKernelFeatures(rawValue: 1 << 4)

  /// Every encoding the sanitizer knows.
  public static let all: BTFKernelFeatures = [.globalFunctions, .float, .declarationTags, .typeTags, .enum64]

  /// Each feature's name and what the sanitizer turns it into.
  static let rewrites: [(feature: BTFKernelFeatures, name: String, description: String)] = [
    (.globalFunctions, "global FUNC", "global FUNC → static FUNC"),
    (.float, "FLOAT", "FLOAT → empty anonymous STRUCT of the same size"),
    (.declarationTags, "DECL_TAG", "DECL_TAG → 1-byte INT"),
    (.typeTags, "TYPE_TAG", "TYPE_TAG → CONST"),
    (.enum64, "ENUM64", "ENUM64 → empty UNION of the same size"),
  ]

  /// The kinds' names, e.g. `[FLOAT, ENUM64]`.
  public var description: String {
    "[" + Self.rewrites.filter { contains($0.feature) }.map(\.name).joined(separator: ", ") + "]"
  }

  /// The features `btf` uses.
  init(usedBy btf: BTF) {
    self.init(btf.headerSummary)
  }

  /// The features the types summed up in `summary` use.
  init(_ summary: BTF.HeaderSummary) {
    var used: BTFKernelFeatures = []
    if summary.hasGlobalFunction { used.insert(.globalFunctions) }
    if summary.contains(.float) { used.insert(.float) }
    if summary.contains(.declarationTag) { used.insert(.declarationTags) }
    if summary.contains(.typeTag) { used.insert(.typeTags) }
    if summary.contains(.enum64) { used.insert(.enum64) }
    self = used
  }
}

/// Rewrites BTF for a kernel that lacks some ``BTFKernelFeatures``. Every type keeps its id,
/// so func_info, line_info, map key/value ids and DATASEC entries stay valid.
enum BTFSanitizer {
  /// Rewrites each type that needs a feature in `missing`; returns one line per rewrite done,
  /// with its count ("TYPE_TAG → CONST: 3 types"), for the load's notes.
  static func sanitize(_ btf: inout BTF, removing missing: BTFKernelFeatures) throws(BTFError) -> [String] {
    var counts: [UInt8: Int] = [:]
    for index in 1..<max(btf.types.count, 1) {
      var type = btf.types[index]
      let feature: BTFKernelFeatures
      switch type.body {
      case .function(let prototype, .global) where missing.contains(.globalFunctions):
        type.body = .function(prototype: prototype, linkage: .static)
        feature = .globalFunctions
      case .float(let size) where missing.contains(.float):
        // Anonymous: "long double" is not a valid struct name.
        type = BTFType(body: .struct(size: size, members: []))
        feature = .float
      case .declarationTag where missing.contains(.declarationTags):
        // Nothing refers to a tag, and an INT refers to nothing.
        type = BTFType(body: .int(.init(size: 1, encoding: [], bits: 8)))
        feature = .declarationTags
      case .typeTag(let target) where missing.contains(.typeTags):
        type = BTFType(body: .const(target))
        feature = .typeTags
      case .enum64(let size, _) where missing.contains(.enum64):
        type = BTFType(nameOffset: type.nameOffset, body: .union(size: size, members: []))
        feature = .enum64
      default:
        continue
      }
      try btf.replaceType(id: BTFTypeID(index), with: type)
      counts[feature.rawValue, default: 0] += 1
    }
    return BTFKernelFeatures.rewrites.compactMap { rewrite in
      counts[rewrite.feature.rawValue].map { "\(rewrite.description): \($0) type\($0 == 1 ? "" : "s")" }
    }
  }
}

/// Which ``BTFKernelFeatures`` the running kernel accepts, found by loading a few-type BTF
/// for each (BPF_BTF_LOAD), at most once per feature and process, and only after the kernel
/// refused an object's BTF.
enum BTFFeatureProbe {
  /// The features of `wanted` this kernel supports.
  static func supported(_ wanted: BTFKernelFeatures) -> BTFKernelFeatures {
    var supported: BTFKernelFeatures = []
    for (feature, _, _) in BTFKernelFeatures.rewrites where wanted.contains(feature) {
      if KernelFeatures.btfKind(feature).isSupported { supported.insert(feature) }
    }
    return supported
  }

  /// Whether the kernel loads a minimal BTF that uses `feature`, with the errno that decided.
  static func probe(_ feature: BTFKernelFeatures) -> FeatureSupport {
    let bytes: [UInt8]
    do { bytes = try probeBTF(feature).encoded() } catch {
      return FeatureSupport(answer: .undetermined, errno: nil, detail: "could not build the probe BTF: \(error)")
    }
    let result = bytes.withUnsafeBytes { BPF.loadBTF($0).result }
    switch result {
    case .success:
      return FeatureSupport(answer: .supported, errno: nil, detail: "BPF_BTF_LOAD accepted \(feature)")
    case .failure(let error) where error.errno == .invalidArgument:
      return FeatureSupport(answer: .unsupported, errno: error.errno, detail: "BPF_BTF_LOAD refused \(feature): EINVAL")
    case .failure(let error):
      return FeatureSupport(answer: .undetermined, errno: error.errno, detail: "\(error)")
    }
  }

  /// A BTF with an `int` (id 1) and the types that use `feature`.
  static func probeBTF(_ feature: BTFKernelFeatures) throws(BTFError) -> BTF {
    var btf = BTF()
    let int = try btf.appendType(BTFType(
      nameOffset: try btf.appendString("int"), body: .int(.init(size: 4, encoding: .signed, bits: 32))))
    let name = try btf.appendString("xdpkit_probe")
    switch feature {
    case .globalFunctions:
      let prototype = try btf.appendType(BTFType(body: .functionPrototype(returnType: int, parameters: [])))
      _ = try btf.appendType(BTFType(nameOffset: name, body: .function(prototype: prototype, linkage: .global)))
    case .float:
      _ = try btf.appendType(BTFType(nameOffset: try btf.appendString("float"), body: .float(size: 4)))
    case .declarationTags:
      let structure = try btf.appendType(BTFType(
        nameOffset: name, body: .struct(size: 4, members: [.init(nameOffset: try btf.appendString("a"), type: int, bitOffset: 0)])))
      _ = try btf.appendType(BTFType(nameOffset: try btf.appendString("tag"), body: .declarationTag(type: structure, componentIndex: -1)))
    case .typeTags:
      let tag = try btf.appendType(BTFType(nameOffset: try btf.appendString("tag"), body: .typeTag(int)))
      _ = try btf.appendType(BTFType(body: .pointer(to: tag)))
    case .enum64:
      _ = try btf.appendType(BTFType(
        nameOffset: name, body: .enum64(size: 8, values: [.init(nameOffset: try btf.appendString("XDPKIT_PROBE_VALUE"), value: 1 << 40)])))
    default:
      break
    }
    return btf
  }
}
