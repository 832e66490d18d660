import XDPKit

/// The `inspect` view of an object: plain data, encodable as JSON, printable as text.
struct ObjectReport: Encodable {
  struct Program: Encodable {
    var section: String
    var name: String
    var type: String
    var expectedAttachType: String?
    var frags: Bool
    var instructions: Int
    var relocations: [Relocation]
  }
  struct Relocation: Encodable {
    var offset: UInt64
    var type: String
    var symbol: String
    var target: String
  }
  struct Map: Encodable {
    var name: String
    var style: String
    var type: String
    var keySize: UInt32
    var valueSize: UInt32
    var maxEntries: UInt32
    var flags: UInt32
    var pinning: String
    var inner: String?
    var initialValues: [String: String]?
  }
  struct Variable: Encodable {
    var name: String
    var offset: UInt64
    var size: UInt64
  }
  struct Data: Encodable {
    var section: String
    var kind: String
    var size: UInt64
    var variables: [Variable]
  }
  struct BTFSummary: Encodable {
    var types: Int
    var stringBytes: Int
    var kinds: [String: Int]
    var funcInfo: Int
    var lineInfo: Int
    var coreRelocations: Int
  }

  var license: String?
  var kernelVersion: UInt32?
  var programs: [Program]
  var subprograms: [String]
  var maps: [Map]
  var data: [Data]
  var btf: BTFSummary?

  init(_ object: BPFObject) {
    license = object.license
    kernelVersion = object.kernelVersion
    programs = object.programs.map { p in
      Program(section: p.sectionName, name: p.name,
              type: p.programType.map { $0.description } ?? "unknown",
              expectedAttachType: p.kind.expectedAttachType?.description,
              frags: p.kind.allowsFragments, instructions: p.function.instructionCount,
              relocations: p.relocations.map {
                Relocation(offset: $0.offset - p.function.offset, type: $0.type.description,
                           symbol: $0.symbolName, target: Self.describe($0.target))
              })
    }
    subprograms = object.functions.filter { BPFObject.isSubprogramSection($0.sectionName) }.map(\.name)
    maps = object.maps.map { m in
      Map(name: m.name, style: m.style.rawValue, type: m.type.description, keySize: m.keySize,
          valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags,
          pinning: m.pinning.description,
          inner: m.innerMap.map { "\($0.type) key \($0.keySize) value \($0.valueSize) max \($0.maxEntries)" },
          initialValues: m.initialValues.isEmpty ? nil : Dictionary(uniqueKeysWithValues: m.initialValues.map { slot, v in
            switch v {
            case .map(let n): return (String(slot), "map \(n)")
            case .program(let n): return (String(slot), "program \(n)")
            }
          }))
    }
    data = object.dataSections.map { d in
      Data(section: d.name, kind: d.kind.rawValue, size: d.size,
           variables: d.variables.map { Variable(name: $0.name, offset: $0.offset, size: $0.size) })
    }
    if let b = object.btf {
      var kinds: [String: Int] = [:]
      for t in b.types.dropFirst() { kinds[t.kind.description, default: 0] += 1 }
      let ext = object.btfExt
      btf = BTFSummary(
        types: b.types.count - 1, stringBytes: b.strings.count, kinds: kinds,
        funcInfo: ext?.recordCounts.funcInfo ?? 0,
        lineInfo: ext?.recordCounts.lineInfo ?? 0,
        coreRelocations: ext?.recordCounts.coreRelocations ?? 0)
    }
  }

  static func describe(_ target: RelocationTarget) -> String {
    switch target {
    case .map(let name): return "map \(name)"
    case .data(let section, let offset, let variable):
      return "data \(section)+\(offset)" + (variable.map { " (\($0))" } ?? "")
    case .call(let section, let offset): return "call section \(section)+\(offset)"
    case .functionAddress(let section, let offset): return "function address section \(section)+\(offset)"
    case .external(let name): return "extern \(name)"
    case .sectionData(let section, let offset): return "section \(section)+\(offset)"
    }
  }

  func text(file: String) -> String {
    var out = "\(file)\n"
    out += "  license: \(license ?? "(none)")"
    if let v = kernelVersion { out += ", version: 0x\(String(v, radix: 16))" }
    out += "\n\nprograms (\(programs.count)):\n"
    for p in programs {
      var extra = p.expectedAttachType.map { " attach \($0)" } ?? ""
      if p.frags { extra += " frags" }
      out += "  \(p.section)  \(p.name)  \(p.type)\(extra)  \(p.instructions) insns\n"
      for r in p.relocations {
        out += "      +\(r.offset)  \(r.type)  \(r.symbol) -> \(r.target)\n"
      }
    }
    if !subprograms.isEmpty { out += "  subprograms in .text: \(subprograms.joined(separator: ", "))\n" }
    out += "\nmaps (\(maps.count)):\n"
    for m in maps {
      out += "  \(m.name)  \(m.type)  key \(m.keySize)  value \(m.valueSize)  max_entries \(m.maxEntries)"
      out += "  flags 0x\(String(m.flags, radix: 16))  pinning \(m.pinning)  [\(m.style)]\n"
      if let inner = m.inner { out += "      inner: \(inner)\n" }
      if let iv = m.initialValues {
        for (slot, v) in iv.sorted(by: { $0.key < $1.key }) { out += "      [\(slot)] = \(v)\n" }
      }
    }
    out += "\ndata sections (\(data.count)):\n"
    for d in data {
      out += "  \(d.section)  \(d.kind)  \(d.size) bytes\n"
      for v in d.variables { out += "      \(v.name) @\(v.offset) (\(v.size) bytes)\n" }
    }
    if let b = btf {
      out += "\nBTF: \(b.types) types, \(b.stringBytes) string bytes; "
      out += b.kinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
      out += "\nBTF.ext: \(b.funcInfo) func_info, \(b.lineInfo) line_info, \(b.coreRelocations) CO-RE relocations\n"
    } else {
      out += "\nBTF: none\n"
    }
    return out
  }
}
