import Testing

@testable import XDPKitObject

/// Split BTF as a kernel module has it, on top of `base`: one struct `name` of two ints
/// (`pad` at 0, `field` at byte 4), referring to the base's type `int`.
func splitBTFBytes(base: BTF, int: BTFTypeID, name: String = "xdpkit_missing") -> [UInt8] {
  let baseLength = UInt32(base.strings.count)
  let strings = Array("\(name)\u{0}pad\u{0}field\u{0}".utf8)
  let nameOffset = baseLength, padOffset = baseLength + UInt32(name.utf8.count + 1)
  let fieldOffset = padOffset + 4
  let types = btfWords([
    nameOffset, 4 << 24 | 2, 8,
    padOffset, int, 0,
    fieldOffset, int, 32,
  ])
  return btfWords([0x0001_EB9F, 24, 0, UInt32(types.count), UInt32(types.count), UInt32(strings.count)])
    + types + strings
}

@Suite("Split BTF (kernel modules)")
struct BTFSplitTests {
  @Test("split types get ids after the base's and names from the split string table")
  func parse() throws {
    var base = BTFBuilder()
    let int = try base.int("int", size: 4, signed: true)
    _ = try base.composite("task_struct", size: 4, [("pid", int, 0, 0)])
    let split = try BTF(splitBytes: splitBTFBytes(base: base.btf, int: int), base: base.btf)
    #expect(split.types.count == base.btf.types.count + 1)
    let id = BTFTypeID(base.btf.types.count)
    #expect(split.types[Int(id)].name == "xdpkit_missing")
    guard case .struct(8, let members) = split.types[Int(id)].body else {
      Issue.record("not a struct of 8 bytes: \(split.types[Int(id)].body)")
      return
    }
    #expect(members.map(\.name) == ["pad", "field"])
    #expect(members.map(\.type) == [int, int])
    #expect(try split.name(of: int) == "int")

    // A module's CO-RE index holds only its own types.
    let target = CORETarget(btf: split, indexingFrom: base.btf.types.count)
    #expect(target.candidates(named: "xdpkit_missing___local", kind: .struct) == [id])
    #expect(target.candidates(named: "task_struct", kind: .struct) == [])
  }

  @Test("a split type referring past the split types is an error naming it")
  func danglingReference() throws {
    var base = BTFBuilder()
    _ = try base.int("int", size: 4, signed: true)
    #expect(throws: BTFError.typeIDOutOfRange(typeID: 2, target: 9, count: 3)) {
      try BTF(splitBytes: splitBTFBytes(base: base.btf, int: 9), base: base.btf)
    }
  }
}
