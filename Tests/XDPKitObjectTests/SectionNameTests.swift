// Section names read in place: ELFSection keeps where its name lies in the file and compares it
// as bytes (`section(named:)`, the `.maps`, `.data…`, `maps/…` matchers) without building a
// string. These tests hold the byte matchers to what string comparison would answer, at the
// edges of the name table too.

import Testing

@testable import XDPKitObject

/// A section whose name is bytes `start..<start + length` of `file`.
private func section(_ file: [UInt8], start: Int, length: Int) -> ELFSection {
  var section = ELFSection(index: 1, file: file, type: ELFConstants.shtProgBits, flags: 0, offset: 0,
                           size: 0, link: 0, info: 0, alignment: 1, entrySize: 0)
  section.nameStart = start
  section.nameLength = length
  return section
}

/// A section named `name`, read from a table that holds other names around it; with
/// `atEnd`, the name's bytes are the last of the table and no NUL follows them.
private func section(named name: String, atEnd: Bool = false) -> ELFSection {
  let before = Array("\0.rel.data\0".utf8)
  let after: [UInt8] = atEnd ? [] : Array("\0.data.x\0".utf8)
  return section(before + Array(name.utf8) + after, start: before.count, length: name.utf8.count)
}

@Suite("Section names compared as bytes")
struct SectionNameTests {
  @Test(arguments: [false, true])
  func exactNames(atEnd: Bool) {
    let maps = section(named: ".maps", atEnd: atEnd)
    #expect(maps.name == ".maps")
    #expect(maps.nameIs(".maps"))
    #expect(maps.isNamed(".maps"))
    for other in [".map", ".mapsx", ".maps.", "maps", "", ".MAPS", ".data"] {
      #expect(!maps.isNamed(other), "\(other)")
    }
    #expect(!maps.nameIs(".map"))
    #expect(!maps.nameIs(".maps."))
  }

  @Test(arguments: [false, true])
  func prefixedNames(atEnd: Bool) {
    let dot = UInt8(ascii: ".")
    let cases: [(name: String, isData: Bool)] = [
      (".data", true), (".data.", true), (".data.custom", true), (".data.a.b", true),
      (".datax", false), (".dat", false), ("data", false), (".data/x", false), ("", false),
      (".rodata", false), (".bss", false),
    ]
    for c in cases {
      let s = section(named: c.name, atEnd: atEnd)
      // What the reader used to ask of the name as a string.
      let expected = c.name == ".data" || c.name.hasPrefix(".data.")
      #expect(expected == c.isData)
      #expect(s.nameIs(".data", orPrefixedBy: dot) == c.isData, "\(c.name)")
      #expect(s.name == c.name)
    }
    let slash = UInt8(ascii: "/")
    for (name, isMaps) in [("maps", true), ("maps/", true), ("maps/x", true), ("mapsx", false),
                           ("map", false), (".maps", false), ("maps.x", false)] {
      #expect(section(named: name, atEnd: atEnd).nameIs("maps", orPrefixedBy: slash) == isMaps, "\(name)")
    }
  }

  @Test func emptyName() {
    let unnamed = section([0], start: 0, length: 0)
    #expect(unnamed.name == "")
    #expect(unnamed.isNamed(""))
    #expect(!unnamed.isNamed("."))
    #expect(!unnamed.nameIs(".data", orPrefixedBy: UInt8(ascii: ".")))
  }

  @Test func nonASCIINames() {
    let s = section(named: "é.data")
    #expect(s.name == "é.data")
    #expect(s.isNamed("é.data"))
    #expect(!s.isNamed("e.data"))
  }

  @Test func aNameSetOnTheValueWins() {
    var s = section(named: ".data")
    s.name = ".rodata.str1.1"
    #expect(s.name == ".rodata.str1.1")
    #expect(s.isNamed(".rodata.str1.1"))
    #expect(!s.isNamed(".data"))
    #expect(s.nameIs(".rodata", orPrefixedBy: UInt8(ascii: ".")))
    // Equal to a section read from a file with that name and the same fields.
    #expect(s == section(named: ".rodata.str1.1", atEnd: true))
    #expect(s != section(named: ".rodata.str1.2", atEnd: true))
  }

  /// Every section of every fixture: the name as ObjectImage reads it, and found by it.
  @Test(arguments: allFixtureNames)
  func fixtureNames(_ fixture: String) throws {
    let image = try ObjectImage(fixture: fixture)
    let elf = try ELFFile(bytes: image.bytes)
    for (index, expected) in try image.sections.enumerated() {
      let s = elf.sections[index]
      #expect(s.name == expected.name)
      #expect(s.isNamed(expected.name))
      let first = try #require(elf.section(named: expected.name))
      #expect(first.index == elf.sections.firstIndex { $0.name == expected.name })
    }
    #expect(elf.section(named: "no such section") == nil)
  }

  /// The name that ends the section name table is read to its NUL, the table's last byte.
  @Test(arguments: allFixtureNames)
  func lastNameOfTheTable(_ fixture: String) throws {
    let image = try ObjectImage(fixture: fixture)
    let sections = try image.sections
    let last = try #require(sections.max { $0.nameOffset < $1.nameOffset })
    let elf = try ELFFile(bytes: image.bytes)
    #expect(elf.sections[last.index].name == last.name)
    #expect(elf.section(named: last.name)?.name == last.name)
  }

  /// A name table whose last string lost its NUL: the first section named by that string is
  /// reported, as before names were read in place (or, when no section name lies in it and the
  /// table holds the symbol names too, the first symbol named by it).
  @Test(arguments: allFixtureNames)
  func unterminatedLastName(_ fixture: String) throws {
    var image = try ObjectImage(fixture: fixture)
    let table = try image.section(try image.sectionNameTableIndex)
    let sections = try image.sections
    let symbols = try image.symbols
    let symbolNames = try #require(sections.first { $0.type == ELFConstants.shtSymTab }).link
    // The last string starts after the table's second-to-last NUL.
    let tableStart = Int(table.offset)
    var lastStart = Int(table.size) - 1
    while lastStart > 0 && image.bytes[tableStart + lastStart - 1] != 0 { lastStart -= 1 }
    try image.setSection(table.index, .size, to: table.size - 1)
    let offset: UInt32
    if let victim = sections.first(where: { Int($0.nameOffset) >= lastStart }) {
      offset = victim.nameOffset
    } else {
      try #require(Int(symbolNames) == table.index)
      let at = try #require(symbols.first { ((try? image.u32($0.entryOffset)) ?? 0) >= UInt32(lastStart) })
        .entryOffset
      offset = try image.u32(at)
    }
    #expect(throws: ObjectError.badStringOffset(table: table.index, offset: offset,
                                                tableSize: Int(table.size) - 1)) {
      try ELFFile(bytes: image.bytes)
    }
  }
}
