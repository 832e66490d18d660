/// Writing records without decoding them: the loader's edits to an object's BTF (DATASEC sizes
/// and variable offsets) change words in place and keep the record layout, so the BTF can be
/// written back by copying its type sections.
extension BTFRecords {
  /// These records with each edit's `words` written over the record of type `id` (not 0),
  /// from word `from` on (0: name offset, 1: info, 2: size or type, then the trailing data).
  /// The words must lie inside that record. The type section of each segment an edit touches
  /// is copied once (not the strings or the rest of the bytes it was read from); `self` is
  /// unchanged.
  func patched(_ edits: [BTFTypes.Patch]) -> BTFRecords {
    var changed = segments
    // The copies made so far, by segment: the first edit of a segment copies its type
    // section, the later ones write in place.
    var copies = [[UInt8]?](repeating: nil, count: segments.count)
    for edit in edits {
      var s = segments.count - 1
      while s > 0 && edit.id < segments[s].firstID { s -= 1 }
      let segment = segments[s]
      // Taken out and put back, so that writing it does not copy it again.
      var bytes = copies[s].take()
        ?? Array(segment.bytes[segment.sectionStart..<(segment.sectionStart + segment.sectionLength)])
      let start = Int(segment.offsets[edit.id - segment.firstID]) + 4 * edit.from
      bytes.withUnsafeMutableBytes { raw in
        var at = start
        for word in edit.words {
          raw.storeBytes(of: word.littleEndian, toByteOffset: at, as: UInt32.self)
          at += 4
        }
      }
      copies[s] = bytes
    }
    for s in segments.indices {
      guard let bytes = copies[s] else { continue }
      let segment = segments[s]
      changed[s] = Segment(
        bytes: bytes, sectionStart: 0, sectionLength: segment.sectionLength,
        offsets: segment.offsets, firstID: segment.firstID, dataSectionIDs: segment.dataSectionIDs)
    }
    return BTFRecords(segments: changed, strings: strings)
  }

  /// Appends the type sections, in id order, to `output`: the encoding of every type but void.
  func appendTypeSections(to output: inout [UInt8]) {
    for segment in segments {
      output += segment.bytes[segment.sectionStart..<(segment.sectionStart + segment.sectionLength)]
    }
  }

  /// The total length of the type sections.
  var typeSectionsLength: Int { segments.reduce(0) { $0 + $1.sectionLength } }
}
