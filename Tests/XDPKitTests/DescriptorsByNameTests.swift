import Testing

@testable import XDPKit

@Suite("Map descriptors by name for the linker")
struct DescriptorsByNameTests {
  /// Names of equal and different lengths, long (heap) and short (inline) strings.
  private static let names = [
    "a", "b", "ab", "ba", "cidr4_entries", "cidr6_entries", "a_name_longer_than_fifteen_bytes",
    "a_name_longer_than_fifteen_bytez", "", "ünïcode",
  ]

  @Test("as a list: every name finds its own descriptor; others find none")
  func list() {
    let pairs = Self.names.enumerated().map { ($0.element, Int32(100 + $0.offset)) }
    let table = DescriptorsByName(pairs, count: pairs.count)
    for (name, descriptor) in pairs { #expect(table[name] == descriptor, "\(name)") }
    for missing in ["c", "abc", "cidr4_entriez", "a_name_longer_than_fifteen_bytes_", "unicode"] {
      #expect(table[missing] == nil, "\(missing)")
    }
  }

  @Test("past the list limit, a dictionary answers the same")
  func dictionary() {
    let count = DescriptorsByName.listLimit + 5
    let pairs = (0..<count).map { ("map_\($0)", Int32($0 + 3)) }
    let table = DescriptorsByName(pairs, count: pairs.count)
    for (name, descriptor) in pairs { #expect(table[name] == descriptor) }
    #expect(table["map_\(count)"] == nil)
    #expect(table[""] == nil)
  }

  @Test("empty")
  func empty() {
    let table = DescriptorsByName([], count: 0)
    #expect(table["a"] == nil)
    #expect(table[""] == nil)
  }
}
