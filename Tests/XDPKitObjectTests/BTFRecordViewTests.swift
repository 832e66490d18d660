// BTFRecordView reads an object's parsed BTF records in place for the map-definition parse. It
// must answer every field exactly as BTFTypes does, and the size and modifier walks shared by
// both must give the same results and errors.

import Testing

@testable import XDPKitObject

/// Every field of every type, read through `fields`, as comparable text.
private func fieldDump(_ fields: some BTFFieldReader) -> [String] {
  var lines: [String] = []
  for id in 0..<fields.typeCount {
    let kind = fields.kind(at: id)
    var line = "\(id) \(kind) name@\(fields.nameOffset(at: id)) word2=\(fields.sizeOrType(at: id))"
    line += " vlen=\(fields.vlen(at: id))"
    switch kind {
    case .array:
      let info = fields.array(at: id)
      line += " array(\(info.elementType) x \(info.count))"
    case .struct, .union:
      for index in 0..<fields.vlen(at: id) {
        let m = fields.member(at: id, index)
        line += " [\(m.nameOffset) \(m.type) @\(m.bitOffset)]"
      }
    case .dataSection:
      for index in 0..<fields.vlen(at: id) {
        let e = fields.dataSectionEntry(at: id, index)
        line += " [\(e.type) @\(e.offset) +\(e.size)]"
      }
    default: break
    }
    // The shared walks, with ids past the end too.
    for probe in [UInt32(id), UInt32(fields.typeCount)] {
      line += " size=" + String(describing: Result { () throws(BTFError) in try fields.resolvedSize(of: probe) })
      line += " skip=" + String(describing: Result { () throws(BTFError) in
        try fields.skip(from: probe, typedefs: true)
      })
      line += " qual=" + String(describing: Result { () throws(BTFError) in
        try fields.skip(from: probe, typedefs: false)
      })
    }
    lines.append(line)
  }
  return lines
}

@Suite("BTF record view")
struct BTFRecordViewTests {
  @Test(arguments: allFixtureNames)
  func viewAgreesWithTypes(_ fixture: String) throws {
    let object = try BPFObject(bytes: fixtureBytes(fixture))
    guard let btf = object.btf else { return }
    let records = try #require(btf.types.records)
    let viewed = try #require(records.withView { fieldDump($0) })
    #expect(viewed == fieldDump(btf.types))
    // And as values (types decoded, as after a change).
    #expect(viewed == fieldDump(BTFTypes(btf.types.map { $0 })))
  }

  @Test func noViewOfSplitBTF() throws {
    let base = try #require(try BPFObject(bytes: fixtureBytes("blocklist_btf")).btf)
    let split = BTFTypes(records: try #require(base.types.records).adding(
      try #require(base.types.records).segments[0], strings: base.strings))
    #expect(split.records?.withView { _ in true } == nil)
  }
}
