// Test-only helpers for the BTF tests: fixture section bytes, and builders for hand-made
// (often malformed) .BTF and .BTF.ext sections.

@testable import XDPKitObject

/// The bytes of section `name` (`.BTF` or `.BTF.ext`) of `Fixtures/<fixture>.o`, cut out of
/// the file by the reader's ELF layer (so that a BTF problem shows up here as a BTF error, not
/// as a failure of `BPFObject`).
func btfSection(_ fixture: String, _ name: String) throws -> [UInt8] {
  let elf = try ELFFile(bytes: try fixtureBytes(fixture))
  guard let section = elf.section(named: name) else {
    throw FixtureError(description: "\(fixture).o has no section \(name)")
  }
  return Array(elf.contents(of: section))
}

/// The parsed `.BTF` and `.BTF.ext` of a fixture.
func btfFixture(_ fixture: String) throws -> (btf: BTF, ext: BTFExt) {
  let btf = try BTF(bytes: try btfSection(fixture, ".BTF"))
  let ext = try BTFExt(bytes: try btfSection(fixture, ".BTF.ext"), btf: btf)
  return (btf, ext)
}

// MARK: Hand-made sections

/// Appends `words` little-endian.
func btfWords(_ words: [UInt32]) -> [UInt8] {
  words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
}

/// A string table: offset 0 is the empty string, then each string NUL-terminated.
/// `offsets[s]` is where `s` starts.
struct BTFTestStrings {
  var bytes: [UInt8] = [0]
  var offsets: [String: UInt32] = [:]

  init(_ strings: [String] = []) {
    for string in strings {
      offsets[string] = UInt32(bytes.count)
      bytes += Array(string.utf8) + [0]
    }
  }

  subscript(_ string: String) -> UInt32 { offsets[string] ?? 0 }
}

/// The `info` word of a type record.
func btfInfo(_ kind: UInt32, vlen: UInt32 = 0, kindFlag: Bool = false) -> UInt32 {
  (kindFlag ? 1 << 31 : 0) | kind << 24 | vlen
}

/// A `.BTF` section: a 24-byte header (fields overridable), the type words, then the strings.
func btfSectionBytes(
  types: [UInt32], strings: [UInt8], magic: UInt16 = 0xEB9F, version: UInt8 = 1,
  headerLength: UInt32 = 24, typeOffset: UInt32 = 0, typeLength: UInt32? = nil,
  stringOffset: UInt32? = nil, stringLength: UInt32? = nil
) -> [UInt8] {
  let typeBytes = btfWords(types)
  let typeLength = typeLength ?? UInt32(typeBytes.count)
  var header: [UInt8] = [UInt8(magic & 0xFF), UInt8(magic >> 8), version, 0]
  header += btfWords([
    headerLength, typeOffset, typeLength, stringOffset ?? UInt32(typeBytes.count),
    stringLength ?? UInt32(strings.count),
  ])
  let padding = [UInt8](repeating: 0, count: max(0, Int(headerLength) - 24))
  return header + padding + typeBytes + strings
}

/// An info block of `.BTF.ext`: record size, then per section `sec_name_off`, `num_info` and
/// the record words.
func btfExtBlock(recordSize: UInt32, _ sections: [(nameOffset: UInt32, records: [[UInt32]])])
  -> [UInt8]
{
  var words = [recordSize]
  for section in sections {
    words += [section.nameOffset, UInt32(section.records.count)]
    for record in section.records { words += record }
  }
  return btfWords(words)
}

/// A `.BTF.ext` section with a 32-byte header and the given blocks, laid out back to back.
func btfExtSectionBytes(
  funcInfo: [UInt8], lineInfo: [UInt8], coreRelocations: [UInt8] = [],
  magic: UInt16 = 0xEB9F, headerLength: UInt32 = 32
) -> [UInt8] {
  var header: [UInt8] = [UInt8(magic & 0xFF), UInt8(magic >> 8), 1, 0]
  var fields: [UInt32] = [
    headerLength, 0, UInt32(funcInfo.count), UInt32(funcInfo.count), UInt32(lineInfo.count),
  ]
  if headerLength >= 32 {
    fields += [UInt32(funcInfo.count + lineInfo.count), UInt32(coreRelocations.count)]
  }
  header += btfWords(fields)
  header += [UInt8](repeating: 0, count: max(0, Int(headerLength) - header.count))
  return header + funcInfo + lineInfo + (headerLength >= 32 ? coreRelocations : [])
}
