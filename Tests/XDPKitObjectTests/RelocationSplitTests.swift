import Testing

@testable import XDPKitObject

/// Each program gets the relocations inside its own instructions, in file order, whether its
/// section's list is sorted by offset (binary search) or not (a filter).
@Suite("Relocations split by program")
struct RelocationSplitTests {
  /// The definition: the section's entries whose offset lies in the function, in file order.
  static func expected(_ program: BPFProgram, in object: BPFObject) -> [BPFRelocation] {
    let entries = object.relocations.first { $0.targetSectionIndex == program.function.sectionIndex }?.entries ?? []
    return entries.filter {
      $0.offset >= program.function.offset && $0.offset < program.function.offset + program.function.size
    }
  }

  @Test("every fixture's programs get exactly their relocations", arguments: everyFixture)
  func eachFixture(fixture: String) throws {
    let object = try BPFObject(bytes: try fixtureBytes(fixture))
    for program in object.programs {
      #expect(program.relocations == Self.expected(program, in: object), "\(fixture): \(program.name)")
    }
  }

  /// calls.o: `xdp_first` (bytes 0–63) and `xdp_second` (64–143) share section `xdp`, whose
  /// five relocations are at 0x20, 0x30 | 0x50, 0x68, 0x80.
  @Test("two programs of one section, relocations sorted and reversed")
  func sortedAndReversed() throws {
    let sorted = try BPFObject(bytes: try fixtureBytes("calls"))
    #expect(try sorted.program(named: "xdp_first").relocations.map(\.offset) == [0x20, 0x30])
    #expect(try sorted.program(named: "xdp_second").relocations.map(\.offset) == [0x50, 0x68, 0x80])

    var image = try ObjectImage(fixture: "calls")
    let rels = try image.relocations(in: ".relxdp")
    try #require(rels.map(\.offset) == [0x20, 0x30, 0x50, 0x68, 0x80])
    for (entry, source) in zip(rels.indices, rels.reversed()) {
      try image.setRelocation(in: ".relxdp", entry: entry, offset: source.offset, symbolIndex: source.symbolIndex,
                              type: source.type)
    }
    let reversed = try BPFObject(bytes: image.bytes)
    let first = try reversed.program(named: "xdp_first")
    let second = try reversed.program(named: "xdp_second")
    #expect(first.relocations.map(\.offset) == [0x30, 0x20])
    #expect(second.relocations.map(\.offset) == [0x80, 0x68, 0x50])
    #expect(first.relocations == Self.expected(first, in: reversed))
    #expect(second.relocations == Self.expected(second, in: reversed))
    // The same relocations, only in another order.
    #expect(first.relocations.reversed() == (try sorted.program(named: "xdp_first").relocations))
    #expect(second.relocations.reversed() == (try sorted.program(named: "xdp_second").relocations))
  }
}
