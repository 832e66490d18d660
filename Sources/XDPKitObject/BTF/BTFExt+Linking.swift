extension BTFExt {
  /// The blocks whose records a linker moves with their functions.
  package enum RebasedBlock: Sendable {
    /// `func_info`: `struct bpf_func_info`, two words.
    case functions
    /// `line_info`: `struct bpf_line_info`, four words.
    case lines
  }

  /// Appends to `output` the kernel's form of the `func_info` or `line_info` records (`block`)
  /// of ELF section `section` whose instruction offset lies in `lower..<upper`: a record's
  /// first word becomes the instruction index `base + (offset - lower) / 8`, and the words
  /// the kernel's record has after it are copied (one for `struct bpf_func_info`, three for
  /// `struct bpf_line_info`). The words are stored little-endian (their bytes are the
  /// kernel's records). Records are read in place, in file order; nothing is decoded.
  ///
  /// This is what a linker does for each function it lays out: it moves the function's
  /// records to where the function now starts.
  package func appendKernelRecords(
    _ block: RebasedBlock, inSection section: String, offsets lower: UInt64, _ upper: UInt64,
    base: UInt32, to output: inout [UInt32]
  ) {
    let part: BTFError.Part = block == .functions ? .funcInfo : .lineInfo
    let words = block == .functions ? 2 : 4
    var name = section
    name.withUTF8 { wanted in
      for group in groups where group.part == part && nameMatches(group.nameOffset, wanted) {
        let first = output.count
        // Room for every record of the group, written in place (no capacity check per word),
        // then trimmed to the records taken: one pass over the records.
        output.append(contentsOf: repeatElement(0, count: group.count * words))
        let taken = bytes.withUnsafeBytes { raw in
          output.withUnsafeMutableBufferPointer { out in
            var at = first
            var record = group.start
            for _ in 0..<group.count {
              let recordOffset = UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: record, as: UInt32.self)))
              if recordOffset >= lower && recordOffset < upper {
                out[at] = (base &+ UInt32(truncatingIfNeeded: (recordOffset &- lower) / 8)).littleEndian
                // Little-endian in the file and in the output: the bytes are copied as they are.
                out[at &+ 1] = raw.loadUnaligned(fromByteOffset: record &+ 4, as: UInt32.self)
                if words == 4 {
                  out[at &+ 2] = raw.loadUnaligned(fromByteOffset: record &+ 8, as: UInt32.self)
                  out[at &+ 3] = raw.loadUnaligned(fromByteOffset: record &+ 12, as: UInt32.self)
                }
                at &+= words
              }
              record &+= group.recordSize
            }
            return at - first
          }
        }
        output.removeLast(group.count * words - taken)
      }
    }
  }
}
