/// Hands each program the relocations of its own instructions, from its section's list.
///
/// Functions come section by section, so the section's list is looked up once per section.
/// When it is sorted by offset (clang writes it so), each function's relocations are the
/// slice between two binary searches; an object with many programs in one section (64 in the
/// benchmark's large.o) then costs no pass over the whole list per program. An unsorted list
/// is filtered per function, in its own order, as before.
struct RelocationSplit {
  private var sectionIndex = -1
  private var entries: [BPFRelocation] = []
  private var sorted = true

  mutating func relocations(of function: BPFFunction, in all: [SectionRelocations]) -> [BPFRelocation] {
    if function.sectionIndex != sectionIndex {
      sectionIndex = function.sectionIndex
      entries = all.first { $0.targetSectionIndex == function.sectionIndex }?.entries ?? []
      sorted = entries.withUnsafeBufferPointer { list in
        list.indices.dropFirst().allSatisfy { list[$0 - 1].offset <= list[$0].offset }
      }
    }
    let start = function.offset
    let end = function.offset + function.size
    guard sorted else {
      let inside = { (r: BPFRelocation) in r.offset >= start && r.offset < end }
      return entries.allSatisfy(inside) ? entries : entries.filter(inside)
    }
    let lower = firstIndex { $0 >= start }
    let upper = firstIndex { $0 >= end }
    // A program alone in its section shares the section's array instead of copying it.
    if lower == 0 && upper == entries.count { return entries }
    return Array(entries[lower..<upper])
  }

  /// The first index whose offset `isAtOrPast` accepts (offsets are sorted).
  private func firstIndex(_ isAtOrPast: (UInt64) -> Bool) -> Int {
    entries.withUnsafeBufferPointer { list in
      var low = 0
      var high = list.count
      while low < high {
        let middle = low + (high - low) / 2
        if isAtOrPast(list[middle].offset) { high = middle } else { low = middle + 1 }
      }
      return low
    }
  }
}
