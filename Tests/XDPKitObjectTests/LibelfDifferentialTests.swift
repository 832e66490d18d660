// Differential test of the pure-Swift ELF reader against libelf (elfutils).
//
// For every committed fixture, libelf opens the file independently and the test asserts that
// the header fields, the section table, the symbol table and every SHT_REL entry the reader
// produces equal libelf's, field for field and count for count. Each fixture is also rewritten
// to extended section numbering and compared again. With XDPKIT_LIBELF_CORPUS=<dir> (e.g. the
// fuzzer's Fuzz/corpus) every file there that the reader accepts is compared as well.
// libelf is linked into this test target only (the CLibelf system library); XDPKitObject never
// links it.

import CLibelf
import Foundation
import Testing

@testable import XDPKitObject

/// One section header as libelf reports it.
private struct LibelfSection: Equatable, CustomStringConvertible {
  var index: Int
  var name: String
  var type: UInt32
  var flags: UInt64
  var offset: UInt64
  var size: UInt64
  var link: UInt32
  var info: UInt32
  var alignment: UInt64
  var entrySize: UInt64

  init(index: Int, name: String, header h: GElf_Shdr) {
    self.index = index
    self.name = name
    type = h.sh_type
    flags = h.sh_flags
    offset = h.sh_offset
    size = h.sh_size
    link = h.sh_link
    info = h.sh_info
    alignment = h.sh_addralign
    entrySize = h.sh_entsize
  }

  init(_ s: ELFSection) {
    index = s.index
    name = s.name
    type = s.type
    flags = s.flags
    offset = s.offset
    size = s.size
    link = s.link
    info = s.info
    alignment = s.alignment
    entrySize = s.entrySize
  }

  var description: String {
    "[\(index)] '\(name)' type=\(type) flags=\(flags) off=\(offset) size=\(size) link=\(link) "
      + "info=\(info) align=\(alignment) entsize=\(entrySize)"
  }
}

/// One symbol as libelf reports it.
private struct LibelfSymbol: Equatable, CustomStringConvertible {
  var index: Int
  var name: String
  var value: UInt64
  var size: UInt64
  var type: UInt8
  var binding: UInt8
  var visibility: UInt8
  var sectionIndex: UInt16

  init(index: Int, name: String, symbol s: GElf_Sym) {
    var s = s
    self.index = index
    self.name = name
    value = s.st_value
    size = s.st_size
    type = clibelf_st_type(&s)
    binding = clibelf_st_bind(&s)
    visibility = clibelf_st_visibility(&s)
    sectionIndex = s.st_shndx
  }

  init(_ s: ELFSymbol) {
    index = s.index
    name = s.name
    value = s.value
    size = s.size
    type = s.type
    binding = s.binding
    visibility = s.visibility
    sectionIndex = s.sectionIndex
  }

  var description: String {
    "[\(index)] '\(name)' value=\(value) size=\(size) type=\(type) bind=\(binding) "
      + "vis=\(visibility) shndx=\(sectionIndex)"
  }
}

/// One `Elf64_Rel` as libelf reports it.
private struct LibelfRelocation: Equatable, CustomStringConvertible {
  var offset: UInt64
  var symbolIndex: UInt64
  var type: UInt64

  init(_ r: GElf_Rel) {
    var r = r
    offset = r.r_offset
    symbolIndex = clibelf_r_sym(&r)
    type = clibelf_r_type(&r)
  }

  init(_ r: ELFRelocation) {
    offset = r.offset
    symbolIndex = UInt64(r.symbolIndex)
    type = UInt64(r.type)
  }

  var description: String { "off=\(offset) sym=\(symbolIndex) type=\(type)" }
}

/// Everything libelf reports about one object file.
private struct LibelfView {
  var machine: UInt16
  var flags: UInt32
  var sections: [LibelfSection]
  var symbols: [LibelfSymbol]
  /// The SHT_REL entries per relocation section index.
  var relocations: [Int: [LibelfRelocation]]
  /// When read leniently: why libelf refused the symbol table, if it did.
  var symbolError: LibelfError? = nil
  /// When read leniently: why libelf refused each SHT_REL section it refused.
  var relocationErrors: [Int: LibelfError] = [:]
}

/// A libelf call that failed, with libelf's own message.
private struct LibelfError: Error, CustomStringConvertible {
  var call: String
  var message: String
  init(_ call: String) {
    self.call = call
    message = elf_errmsg(-1).map { String(cString: $0) } ?? "unknown"
  }
  var description: String { "\(call): \(message)" }
}

/// libelf's library version handshake, done once per process before the first `elf_begin`.
private let libelfVersionAccepted: Bool = elf_version(clibelf_ev_current()) != UInt32(EV_NONE)

/// Opens `path` with libelf (on a read-only file descriptor) and collects its header, section
/// table, symbol table and relocation entries. The descriptor and the `Elf` handle are released
/// before returning.
private func readWithLibelf(path: String) throws -> LibelfView {
  guard libelfVersionAccepted else { throw LibelfError("elf_version") }
  let fd = open(path, O_RDONLY)
  guard fd >= 0 else { throw FixtureError(description: "open \(path): errno \(errno)") }
  defer { close(fd) }
  guard let elf = elf_begin(fd, ELF_C_READ, nil) else { throw LibelfError("elf_begin") }
  defer { elf_end(elf) }
  return try collect(elf, strict: true)
}

/// Opens an in-memory image with libelf (`elf_memory`) and collects it as
/// ``readWithLibelf(path:)`` does. libelf reads `bytes` in place; they outlive the handle.
private func readWithLibelf(bytes: [UInt8], strict: Bool = true) throws -> LibelfView {
  guard libelfVersionAccepted else { throw LibelfError("elf_version") }
  var image = bytes
  return try image.withUnsafeMutableBufferPointer { buffer in
    try buffer.withMemoryRebound(to: CChar.self) { chars in
      guard let elf = elf_memory(chars.baseAddress, chars.count) else {
        throw LibelfError("elf_memory")
      }
      defer { elf_end(elf) }
      return try collect(elf, strict: strict)
    }
  }
}

/// Walks an open libelf handle: header, section headers with names, the SHT_SYMTAB's symbols
/// and every SHT_REL's entries. When `strict`, any libelf failure throws; otherwise failures
/// to read the symbol table or a relocation section are recorded in the view.
private func collect(_ elf: OpaquePointer, strict: Bool) throws -> LibelfView {
  guard elf_kind(elf) == ELF_K_ELF else { throw LibelfError("elf_kind") }
  var ehdr = GElf_Ehdr()
  guard gelf_getehdr(elf, &ehdr) != nil else { throw LibelfError("gelf_getehdr") }

  var sectionCount = 0
  guard elf_getshdrnum(elf, &sectionCount) == 0 else { throw LibelfError("elf_getshdrnum") }
  var nameTable = 0
  guard elf_getshdrstrndx(elf, &nameTable) == 0 else { throw LibelfError("elf_getshdrstrndx") }

  var sections: [LibelfSection] = []
  var view = LibelfView(
    machine: ehdr.e_machine, flags: ehdr.e_flags, sections: [], symbols: [], relocations: [:])
  // libelf's own record sizes, which gelf_getsym/gelf_getrel index by (sh_entsize may be 0).
  let symbolSize = gelf_fsize(elf, ELF_T_SYM, 1, clibelf_ev_current())
  let relSize = gelf_fsize(elf, ELF_T_REL, 1, clibelf_ev_current())
  guard symbolSize > 0, relSize > 0 else { throw LibelfError("gelf_fsize") }

  for index in 0..<sectionCount {
    guard let scn = elf_getscn(elf, index) else { throw LibelfError("elf_getscn(\(index))") }
    var shdr = GElf_Shdr()
    guard gelf_getshdr(scn, &shdr) != nil else { throw LibelfError("gelf_getshdr(\(index))") }
    guard let name = elf_strptr(elf, nameTable, Int(shdr.sh_name)) else {
      throw LibelfError("elf_strptr(section \(index))")
    }
    sections.append(LibelfSection(index: index, name: String(cString: name), header: shdr))

    switch shdr.sh_type {
    case UInt32(SHT_SYMTAB):
      do {
        guard let data = elf_getdata(scn, nil) else { throw LibelfError("elf_getdata(symtab)") }
        for i in 0..<(data.pointee.d_size / symbolSize) {
          var sym = GElf_Sym()
          guard gelf_getsym(data, Int32(i), &sym) != nil else {
            throw LibelfError("gelf_getsym(\(i))")
          }
          guard let symName = elf_strptr(elf, Int(shdr.sh_link), Int(sym.st_name)) else {
            throw LibelfError("elf_strptr(symbol \(i))")
          }
          view.symbols.append(LibelfSymbol(index: i, name: String(cString: symName), symbol: sym))
        }
      } catch let error as LibelfError {
        if strict { throw error }
        view.symbolError = error
      }
    case UInt32(SHT_REL):
      do {
        guard let data = elf_getdata(scn, nil) else { throw LibelfError("elf_getdata(rel \(index))") }
        var entries: [LibelfRelocation] = []
        for i in 0..<(data.pointee.d_size / relSize) {
          var rel = GElf_Rel()
          guard gelf_getrel(data, Int32(i), &rel) != nil else {
            throw LibelfError("gelf_getrel(section \(index), entry \(i))")
          }
          entries.append(LibelfRelocation(rel))
        }
        view.relocations[index] = entries
      } catch let error as LibelfError {
        if strict { throw error }
        view.relocationErrors[index] = error
      }
    default:
      break
    }
  }
  view.sections = sections
  return view
}

@Suite("ELF reader agrees with libelf")
struct LibelfDifferentialTests {
  @Test("header fields", arguments: allFixtureNames)
  func header(fixture: String) throws {
    let expected = try readWithLibelf(path: fixturePath(fixture))
    let elf = try ELFFile(bytes: fixtureBytes(fixture))
    #expect(elf.machine == expected.machine)
    #expect(elf.flags == expected.flags)
  }

  @Test("section table", arguments: allFixtureNames)
  func sectionTable(fixture: String) throws {
    let expected = try readWithLibelf(path: fixturePath(fixture))
    let object = try BPFObject(bytes: fixtureBytes(fixture))
    let actual = object.elf.sections.map(LibelfSection.init)
    #expect(actual.count == expected.sections.count)
    #expect(actual.count > 1, "fixture \(fixture) has no sections")
    for (ours, theirs) in zip(actual, expected.sections) {
      #expect(ours == theirs)
    }
  }

  @Test("symbol table", arguments: allFixtureNames)
  func symbolTable(fixture: String) throws {
    let expected = try readWithLibelf(path: fixturePath(fixture))
    let object = try BPFObject(bytes: fixtureBytes(fixture))
    let actual = object.elf.symbols.map(LibelfSymbol.init)
    #expect(actual.count == expected.symbols.count)
    #expect(actual.count > 1, "fixture \(fixture) has no symbols")
    for (ours, theirs) in zip(actual, expected.symbols) {
      #expect(ours == theirs)
    }
  }

  @Test("relocation entries", arguments: allFixtureNames)
  func relocationEntries(fixture: String) throws {
    let expected = try readWithLibelf(path: fixturePath(fixture))
    let object = try BPFObject(bytes: fixtureBytes(fixture))
    let relSections = object.elf.sections.filter { $0.type == ELFConstants.shtRel }
    #expect(Set(relSections.map(\.index)) == Set(expected.relocations.keys))
    for section in relSections {
      let actual = try object.elf.relocations(in: section).map(LibelfRelocation.init)
      let theirs = expected.relocations[section.index] ?? []
      #expect(
        actual.count == theirs.count, "section \(section.index) '\(section.name)' entry count")
      for (i, (ours, reference)) in zip(actual, theirs).enumerated() {
        #expect(ours == reference, "section \(section.index) '\(section.name)' entry \(i)")
      }
    }
  }

  /// Every fixture rewritten to ELF extended numbering: `e_shnum` 0 with the count in section
  /// 0's `sh_size`, and `e_shstrndx` SHN_XINDEX with the index in section 0's `sh_link`. clang
  /// never writes this for small objects, so only this variant exercises the reader's path.
  @Test("extended section numbering", arguments: allFixtureNames)
  func extendedNumbering(fixture: String) throws {
    var bytes = try fixtureBytes(fixture)
    let shoff = Int(readLE(bytes, at: 40, as: UInt64.self))
    let shnum = readLE(bytes, at: 60, as: UInt16.self)
    let shstrndx = readLE(bytes, at: 62, as: UInt16.self)
    writeLE(&bytes, at: 60, UInt16(0))
    writeLE(&bytes, at: 62, UInt16(0xffff))
    writeLE(&bytes, at: shoff + 32, UInt64(shnum))  // section 0's sh_size
    writeLE(&bytes, at: shoff + 40, UInt32(shstrndx))  // section 0's sh_link

    let expected = try readWithLibelf(bytes: bytes)
    let elf = try ELFFile(bytes: bytes)
    #expect(expected.sections.count == Int(shnum))
    #expect(elf.sections.map(LibelfSection.init) == expected.sections)
    #expect(elf.symbols.map(LibelfSymbol.init) == expected.symbols)
  }

  /// Opt-in, for fuzzing sessions: every file in `$XDPKIT_LIBELF_CORPUS` (e.g. `Fuzz/corpus`)
  /// that the reader accepts must read the same through libelf: a field that differs is a
  /// failure. Files, symbol tables or relocation sections that the reader accepts and libelf
  /// refuses (the reader is more lenient in places, e.g. it ignores a trailing partial symbol
  /// record) are listed on stdout, not failed.
  @Test(
    "corpus agrees with libelf",
    .enabled(if: ProcessInfo.processInfo.environment["XDPKIT_LIBELF_CORPUS"] != nil))
  func corpus() throws {
    let directory = ProcessInfo.processInfo.environment["XDPKIT_LIBELF_CORPUS"] ?? ""
    let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    var accepted = 0
    var compared = 0
    var refusals: [String] = []
    for name in names {
      let path = (directory as NSString).appendingPathComponent(name)
      guard let data = FileManager.default.contents(atPath: path) else { continue }
      let bytes = [UInt8](data)
      guard let elf = try? ELFFile(bytes: bytes) else { continue }
      accepted += 1
      let expected: LibelfView
      do {
        expected = try readWithLibelf(bytes: bytes, strict: false)
      } catch {
        refusals.append("\(name): \(error)")
        continue
      }
      compared += 1
      #expect(elf.machine == expected.machine, "\(name)")
      #expect(elf.flags == expected.flags, "\(name)")
      #expect(elf.sections.map(LibelfSection.init) == expected.sections, "\(name)")
      if let error = expected.symbolError {
        refusals.append("\(name): \(error)")
      } else {
        #expect(elf.symbols.map(LibelfSymbol.init) == expected.symbols, "\(name)")
      }
      for section in elf.sections where section.type == ELFConstants.shtRel {
        guard let ours = try? elf.relocations(in: section) else { continue }
        if let error = expected.relocationErrors[section.index] {
          refusals.append("\(name): \(error)")
          continue
        }
        #expect(
          ours.map(LibelfRelocation.init) == expected.relocations[section.index],
          "\(name) section \(section.index)")
      }
    }
    print("libelf corpus: \(names.count) files, \(accepted) accepted by the reader, \(compared) compared")
    print("accepted by the reader, refused by libelf (\(refusals.count)):")
    for line in refusals { print("  \(line)") }
  }

  /// The fixture set is only a meaningful sample if it exercises relocations at all.
  @Test("fixtures cover relocations")
  func fixturesCoverRelocations() throws {
    var total = 0
    for fixture in allFixtureNames {
      total += try readWithLibelf(path: fixturePath(fixture)).relocations.values
        .reduce(0) { $0 + $1.count }
    }
    #expect(total > 0)
  }
}

private func readLE<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, as: T.Type) -> T {
  var value: T = 0
  for i in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + i]) << (8 * i) }
  return value
}

private func writeLE<T: FixedWidthInteger>(_ bytes: inout [UInt8], at offset: Int, _ value: T) {
  for i in 0..<MemoryLayout<T>.size { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
}
