/// Writing records without decoding them: the loader's edits to an object's BTF (DATASEC sizes
/// and variable offsets) change words in place and keep the record layout, so the BTF can be
/// written back by copying its type sections.
extension BTFRecords {
  /// These records with each edit's `words` written over the record of type `id` (not 0),
  /// from word `from` on (0: name offset, 1: info, 2: size or type, then the trailing data).
  /// The words must lie inside that record. Each segment an edit touches is copied once;
  /// `self` is unchanged.
  func patched(_ edits: [BTFTypes.Patch]) -> BTFRecords {
    // Each segment's bytes, shared until first written: the first edit of a segment copies
    // its bytes once, the later ones write in place.
    var copies = segments.map(\.bytes)
    var touched = [Bool](repeating: false, count: segments.count)
    for edit in edits {
      var s = segments.count - 1
      while s > 0 && edit.id < segments[s].firstID { s -= 1 }
      let segment = segments[s]
      let start = segment.sectionStart + Int(segment.offsets[edit.id - segment.firstID]) + 4 * edit.from
      copies[s].withUnsafeMutableBytes { raw in
        for (i, word) in edit.words.enumerated() {
          raw.storeBytes(of: word.littleEndian, toByteOffset: start + 4 * i, as: UInt32.self)
        }
      }
      touched[s] = true
    }
    var changed = segments
    for s in segments.indices where touched[s] {
      let segment = segments[s]
      changed[s] = Segment(
        bytes: copies[s], sectionStart: segment.sectionStart, sectionLength: segment.sectionLength,
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
