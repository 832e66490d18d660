/// A record read from a ``RingBuffer`` that does not fit the type it was to be decoded as.
///
/// Creating a ring buffer and waiting on it fail with ``MapError``; this error is only about
/// decoding records, in ``RingBuffer/records(as:)``.
public enum RingBufferError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A record's length is not the size of the Swift type it was to be decoded as. `expected`
  /// is `MemoryLayout<Record>.stride` (like C's `sizeof`, tail padding included); `actual` is
  /// the length in the record's header (the size the program passed to `bpf_ringbuf_output`
  /// or `bpf_ringbuf_reserve`).
  case recordSizeMismatch(map: String, expected: Int, actual: Int)

  /// What did not fit, naming the map and both sizes in bytes.
  public var description: String {
    switch self {
    case .recordSizeMismatch(let map, let expected, let actual):
      return "ring buffer \(map): a record of \(actual) bytes, the Swift record type's stride"
        + " is \(expected) bytes"
    }
  }
}
