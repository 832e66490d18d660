// Corruptions of an object's map sections (legacy and BTF-defined) and other sections, each
// with the error the reader must throw. Run by MalformedObjectTests.

import Testing
@testable import XDPKitObject

/// The BTF type id of member `member` of the struct behind `.maps` variable `map`, following
/// the pointer a `__uint` attribute is declared with down to its array: the id of that array.
private func btfMapAttributeArray(_ image: ObjectImage, map: String, member: String) throws -> BTFTypeID {
  let object = try BPFObject(bytes: image.bytes)
  let btf = try #require(object.btf)
  let variable = try #require(btf.firstType(named: map, kind: .variable))
  guard case .variable(let structID, _) = variable.type.body,
        case .struct(_, let members) = try btf.type(id: btf.skippingModifiers(structID)).body,
        let m = members.first(where: { $0.name == member }),
        case .pointer(let arrayID) = try btf.type(id: m.type).body
  else { throw MutationError(description: "\(map).\(member) is not a __uint attribute") }
  return arrayID
}

/// The file offset of the `name_off` of member `member` of `.maps` variable `map`'s struct.
private func btfMapMemberNameOffset(_ image: ObjectImage, map: String, member: String) throws -> Int {
  let object = try BPFObject(bytes: image.bytes)
  let btf = try #require(object.btf)
  let variable = try #require(btf.firstType(named: map, kind: .variable))
  guard case .variable(let structID, _) = variable.type.body else {
    throw MutationError(description: "\(map) is not a VAR")
  }
  let id = try btf.skippingModifiers(structID)
  guard case .struct(_, let members) = try btf.type(id: id).body,
        let index = members.firstIndex(where: { $0.name == member })
  else { throw MutationError(description: "\(map) has no member \(member)") }
  // A STRUCT record is 12 bytes, then 12 bytes per member starting with name_off.
  return try image.btfTypeRecordOffsets()[Int(id)] + 12 + 12 * index
}

/// Corruptions of map definitions and of the remaining sections.
let mapCorruptions: [Corruption] = [
  // MARK: Map sections
  Corruption("blocklist_legacy", "legacy maps section without contents (SHT_NOBITS)") { image in
    let maps = try image.section(named: "maps")
    try image.setSection(maps.index, .type, to: 8)
    return fails(.mapSectionWithoutContents(section: maps.index, type: 8))
  },
  Corruption("blocklist_btf", ".maps section without contents (SHT_NOBITS)") { image in
    let maps = try image.section(named: ".maps")
    try image.setSection(maps.index, .type, to: 8)
    return fails(.mapSectionWithoutContents(section: maps.index, type: 8))
  },

  // MARK: Legacy maps
  Corruption("blocklist_legacy", "legacy map of unknown type 200") { image in
    try image.write(UInt32(200), at: image.fileOffset(inSection: "maps", 0))  // BLOCKLIST.type
    return fails(.unknownMapType(map: "BLOCKLIST", type: 200))
  },
  Corruption("blocklist_legacy", "legacy map record of 12 bytes") { image in
    let maps = try image.section(named: "maps")
    try image.setSymbol("BLOCKLIST", size: 12)
    return fails(.invalidLegacyMapDefinition(map: "BLOCKLIST", offset: 0, size: 12, sectionSize: maps.size))
  },
  Corruption("blocklist_legacy", "legacy map record runs past the section") { image in
    // With st_size 0 the record size is the section size over the map count (20 bytes).
    let maps = try image.section(named: "maps")
    try image.setSymbol("STATS", value: 0x18, size: 0)
    return fails(.invalidLegacyMapDefinition(map: "STATS", offset: 0x18, size: 20, sectionSize: maps.size))
  },
  Corruption("legacy_long", "legacy record with non-zero unknown fields") { image in
    // A 40-byte COUNTERS record takes in PINNED's value_size (4) at byte 36.
    try image.setSymbol("COUNTERS", size: 40)
    return fails(.legacyMapDefinitionHasUnknownFields(map: "COUNTERS", size: 40, offset: 36))
  },
  Corruption("legacy_long", "legacy record of 22 bytes with a non-zero byte past map_flags") { image in
    // COUNTERS' bytes 20-21 are its id (field 5); cut at 22 bytes they are unknown bytes.
    try image.setSymbol("COUNTERS", size: 22)
    let maps = try image.section(named: "maps")
    try image.write(UInt8(9), at: Int(maps.offset) + 21)
    return fails(.legacyMapDefinitionHasUnknownFields(map: "COUNTERS", size: 22, offset: 21))
  },
  Corruption("legacy_long", "legacy record with iproute2 inner_id and inner_idx") { image in
    // A 36-byte COUNTERS record reads PINNED's type (1) and key_size (4) as inner_id/inner_idx.
    try image.setSymbol("COUNTERS", size: 36)
    return fails(.legacyMapInMapNotSupported(map: "COUNTERS", innerID: 1, innerIndex: 4))
  },
  Corruption("legacy_long", "legacy pinning 7") { image in
    let pinned = try image.symbol(named: "PINNED")
    try image.write(UInt32(7), at: image.fileOffset(inSection: "maps", pinned.value + 24))
    return fails(.unknownPinning(map: "PINNED", value: 7))
  },

  // MARK: BTF maps
  Corruption("blocklist_btf", "BTF map of unknown type 200") { image in
    let array = try btfMapAttributeArray(image, map: "BLOCKLIST", member: "type")
    // ARRAY record: 12-byte header, then type, index_type, nelems.
    try image.write(UInt32(200), at: image.btfTypeRecordOffsets()[Int(array)] + 12 + 8)
    return fails(.unknownMapType(map: "BLOCKLIST", type: 200))
  },
  Corruption("blocklist_btf", "BTF map attribute the reader does not know") { image in
    // Rename BLOCKLIST's `key` member to the string "STATS".
    let object = try BPFObject(bytes: image.bytes)
    let stats = try #require(object.btf?.firstType(named: "STATS", kind: .variable))
    try image.write(stats.type.nameOffset, at: btfMapMemberNameOffset(image, map: "BLOCKLIST", member: "key"))
    return fails(.unknownBTFMapAttribute(map: "BLOCKLIST", attribute: "STATS"))
  },
  Corruption("blocklist_btf", "BTF map symbol without a DATASEC entry") { image in
    // Give the BLOCKLIST symbol the name "LICENSE", which `.maps` does not list.
    let license = try image.symbol(named: "LICENSE")
    let blocklist = try image.symbol(named: "BLOCKLIST")
    try image.write(try image.u32(license.entryOffset), at: blocklist.entryOffset)
    return .invalidBTFMapDefinition(map: "LICENSE")
  },
  Corruption("blocklist_btf", ".maps without .BTF") { image in
    // Rename `.BTF` to `BTF` by pointing its name one byte further.
    let btf = try image.section(named: ".BTF")
    try image.setSection(btf.index, .name, to: UInt64(btf.nameOffset) + 1)
    return fails(.btfMapsWithoutBTF)
  },
  Corruption("map_in_map", "map-in-map slot holding a program") { image in
    let program = try image.symbol(named: "xdp_maps")
    try image.setRelocation(in: ".rel.maps", entry: 0, symbolIndex: UInt32(program.index))
    return fails(.invalidMapInitialValue(map: "OUTER", slot: 1, symbol: "xdp_maps"))
  },
  Corruption("map_in_map", "program array slot holding a map") { image in
    let inner = try image.symbol(named: "INNER")
    try image.setRelocation(in: ".rel.maps", entry: 1, symbolIndex: UInt32(inner.index))
    return fails(.invalidMapInitialValue(map: "JUMP_TABLE", slot: 2, symbol: "INNER"))
  },
  Corruption("map_in_map", "map-in-map slot not 8-byte aligned") { image in
    let first = try image.relocations(in: ".rel.maps")[0].offset
    try image.setRelocation(in: ".rel.maps", entry: 0, offset: first + 4)
    return fails(.invalidMapInitialValue(map: "OUTER", slot: -1, symbol: "INNER"))
  },

  // MARK: Other sections
  Corruption("xdp_pass", "license not NUL-terminated") { image in
    try image.write(UInt8(ascii: "X"), at: image.fileOffset(inSection: "license", 3))
    return fails(.invalidLicense(size: 4))
  },
  Corruption("extern", "version section of 3 bytes") { image in
    let version = try image.section(named: "version")
    try image.setSymbol("_version", size: 0)
    try image.setSection(version.index, .size, to: 3)
    return fails(.invalidVersionSection(size: 3))
  },
  Corruption("xdp_pass", ".BTF with bad magic") { image in
    try image.write(UInt16(0x1234), at: image.fileOffset(inSection: ".BTF"))
    return fails(.btf(.badMagic(.btf, found: 0x1234)))
  },
  Corruption("xdp_pass", ".BTF byte-swapped magic") { image in
    try image.write(UInt16(0x9feb), at: image.fileOffset(inSection: ".BTF"))
    return fails(.btf(.bigEndian(.btf)))
  },
  Corruption("xdp_pass", ".BTF.ext with bad magic") { image in
    try image.write(UInt16(0), at: image.fileOffset(inSection: ".BTF.ext"))
    return fails(.btf(.badMagic(.btfExt, found: 0)))
  },
]
