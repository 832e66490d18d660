import Foundation
import Testing

@testable import XDPKitObject

// What the loader reads from a parsed object in place, checked against the same facts found
// through the decoded, public API: DATASEC layout, the type summary, and rebased func_info and
// line_info records.

/// Every committed fixture object.
let everyFixture: [String] = {
  let names = (try? FileManager.default.contentsOfDirectory(atPath: fixturesDirectory.path)) ?? []
  return names.filter { $0.hasSuffix(".o") }.map { String($0.dropLast(2)) }.sorted()
}()

@Suite("Load preparation read in place")
struct LoadPreparationTests {
  /// The DATASECs as the loader must leave them, found through decoded types and `String`
  /// names: size from the section, each entry's offset (and size) from the last named symbol
  /// of the section with the VAR's name, entries sorted by offset; a DATASEC a static linker
  /// laid out (size set) keeps its offsets and is only sorted.
  private func expectedDataSections(_ object: BPFObject, _ btf: BTF) throws -> [BTFTypeID: BTFType.Body] {
    var expected: [BTFTypeID: BTFType.Body] = [:]
    for id in btf.dataSectionIDs {
      guard let name = try btf.name(of: id), let section = object.elf.section(named: name),
            case .dataSection(let size, let entries) = try btf.type(id: id).body else { continue }
      if size != 0 {
        expected[id] = .dataSection(size: size, entries: entries.sorted { $0.offset < $1.offset })
        continue
      }
      var fixed: [BTFType.DataSectionEntry] = []
      for var entry in entries {
        if let variable = try btf.name(of: entry.type),
           let symbol = object.elf.symbols.last(where: {
             Int($0.sectionIndex) == section.index && $0.hasName && $0.name == variable
           }) {
          entry.offset = UInt32(symbol.value)
          if symbol.size != 0 { entry.size = UInt32(symbol.size) }
        }
        fixed.append(entry)
      }
      fixed.sort { $0.offset < $1.offset }
      expected[id] = .dataSection(size: UInt32(section.size), entries: fixed)
    }
    return expected
  }

  @Test("DATASEC layout matches the decoded computation on every fixture", arguments: everyFixture)
  func dataSectionLayout(fixture: String) throws {
    let object = try BPFObject(bytes: try fixtureBytes(fixture))
    guard let original = object.btf else { return }
    let expected = try expectedDataSections(object, original)
    var btf = original
    try btf.layOutDataSections(from: object.elf)
    for id in btf.dataSectionIDs {
      let body = try btf.type(id: id).body
      let wanted = try expected[id] ?? original.type(id: id).body
      #expect(body == wanted, "DATASEC \(id) of \(fixture)")
    }
    // Nothing else changed.
    for id in 1..<btf.types.count where try btf.kind(of: BTFTypeID(id)) != .dataSection {
      #expect(try btf.type(id: BTFTypeID(id)) == (try original.type(id: BTFTypeID(id))))
    }
  }

  @Test("the globals fixture's .data gets its size and both offsets")
  func globalsDataSection() throws {
    let object = try BPFObject(bytes: try fixtureBytes("globals"))
    var btf = try #require(object.btf)
    let data = try #require(btf.typeID(named: ".data", kind: .dataSection))
    guard case .dataSection(let before, _) = try btf.type(id: data).body else { Issue.record("not a DATASEC"); return }
    #expect(before == 0)
    try btf.layOutDataSections(from: object.elf)
    guard case .dataSection(let size, let entries) = try btf.type(id: data).body else { Issue.record("not a DATASEC"); return }
    let section = try #require(object.elf.section(named: ".data"))
    #expect(UInt64(size) == section.size)
    #expect(size > 0)
    #expect(entries.map(\.offset) == entries.map(\.offset).sorted())
    let names = try entries.map { try btf.name(of: $0.type) ?? "" }
    for (entry, name) in zip(entries, names) {
      let symbol = try #require(object.elf.symbols.last { $0.name == name && Int($0.sectionIndex) == section.index })
      #expect(UInt64(entry.offset) == symbol.value, "\(name)")
    }
  }

  @Test("the header summary matches the decoded types on every fixture", arguments: everyFixture)
  func headerSummary(fixture: String) throws {
    let object = try BPFObject(bytes: try fixtureBytes(fixture))
    guard let btf = object.btf else { return }
    var kinds: UInt32 = 0
    var externs: [Int] = []
    var globalFunction = false
    for id in 1..<btf.types.count {
      let type = try btf.type(id: BTFTypeID(id))
      kinds |= 1 << UInt32(type.kind.rawValue)
      switch type.body {
      case .function(_, .extern), .variable(_, .extern): externs.append(id)
      case .function(_, .global): globalFunction = true
      default: break
      }
    }
    let summary = btf.headerSummary
    #expect(summary.kinds == kinds)
    #expect(summary.externIDs == externs)
    #expect(summary.hasGlobalFunction == globalFunction)
  }

  @Test("the extern fixtures have extern FUNCs or VARs in the summary")
  func externsSummed() throws {
    for fixture in ["extern", "extern_ksym"] {
      let btf = try #require(try BPFObject(bytes: try fixtureBytes(fixture)).btf)
      #expect(!btf.headerSummary.externIDs.isEmpty, "\(fixture)")
      #expect(btf.headerSummary.contains(.dataSection))
    }
  }

  @Test("rebased func_info and line_info records match the decoded records", arguments: everyFixture)
  func rebasedRecords(fixture: String) throws {
    let object = try BPFObject(bytes: try fixtureBytes(fixture))
    guard let ext = object.btfExt else { return }
    let lines = ext.lineInfo, functions = ext.funcInfo
    for function in object.functions {
      let lower = function.offset, upper = function.offset + function.size
      let base: UInt32 = 1000
      var expectedLines: [UInt32] = []
      for record in lines[function.sectionName] ?? [] where UInt64(record.insnOffset) >= lower && UInt64(record.insnOffset) < upper {
        expectedLines += [base + UInt32((UInt64(record.insnOffset) - lower) / 8), record.fileNameOffset,
                          record.lineOffset, record.lineCol]
      }
      var expectedFunctions: [UInt32] = []
      for record in functions[function.sectionName] ?? [] where UInt64(record.insnOffset) >= lower && UInt64(record.insnOffset) < upper {
        expectedFunctions += [base + UInt32((UInt64(record.insnOffset) - lower) / 8), record.typeID]
      }
      // Appended after what is already there.
      var gotLines: [UInt32] = [7, 7]
      ext.appendKernelRecords(.lines, inSection: function.sectionName, offsets: lower, upper, base: base, to: &gotLines)
      var gotFunctions: [UInt32] = []
      ext.appendKernelRecords(.functions, inSection: function.sectionName, offsets: lower, upper, base: base, to: &gotFunctions)
      #expect(gotLines == [7, 7] + expectedLines.map(\.littleEndian), "\(fixture) \(function.name)")
      #expect(gotFunctions == expectedFunctions.map(\.littleEndian), "\(fixture) \(function.name)")
    }
  }

  @Test("the calls fixture rebases the records of every function it has")
  func callsRecords() throws {
    let object = try BPFObject(bytes: try fixtureBytes("calls"))
    let ext = try #require(object.btfExt)
    let text = object.functions.filter { $0.sectionName == ".text" }
    #expect(text.count >= 2)
    var total = 0
    for function in object.functions {
      var records: [UInt32] = []
      ext.appendKernelRecords(.functions, inSection: function.sectionName, offsets: function.offset,
                              function.offset + function.size, base: 0, to: &records)
      // One FUNC record per function, at its first instruction.
      #expect(records.count == 2, "\(function.name)")
      #expect(records.first == 0)
      total += records.count / 2
    }
    #expect(total == object.functions.count)
  }
}
