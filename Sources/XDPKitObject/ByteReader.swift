/// Bounds-checked little-endian reads over an immutable byte buffer.
///
/// Every read in the object reader goes through this type. Offsets and counts are checked with
/// overflow-safe arithmetic against the buffer's size, so a malformed object throws instead of
/// trapping.
public struct ByteReader: Sendable {
  /// The bytes being read. Indices start at zero.
  public let bytes: [UInt8]

  /// Creates a reader over `bytes`.
  public init(_ bytes: [UInt8]) {
    self.bytes = bytes
  }

  /// Number of bytes in the buffer.
  public var count: Int { bytes.count }

  /// Returns the byte range `offset ..< offset + count` if it lies wholly inside the buffer.
  @inlinable
  public func range(at offset: UInt64, count length: UInt64) -> Range<Int>? {
    guard let start = Int(exactly: offset), let length = Int(exactly: length) else { return nil }
    let (end, overflow) = start.addingReportingOverflow(length)
    guard !overflow, start >= 0, length >= 0, end <= bytes.count else { return nil }
    return start..<end
  }

  /// Returns the bytes `offset ..< offset + count`, or `nil` when that range leaves the buffer.
  @inlinable
  public func slice(at offset: UInt64, count length: UInt64) -> ArraySlice<UInt8>? {
    guard let r = range(at: offset, count: length) else { return nil }
    return bytes[r]
  }

  /// Reads a little-endian fixed-width integer at `offset`, or `nil` when it does not fit.
  @inlinable
  public func read<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T? {
    let size = MemoryLayout<T>.size
    guard offset >= 0, offset <= bytes.count, bytes.count - offset >= size else { return nil }
    return bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
  }

  /// Reads a NUL-terminated string starting at `offset` that must end before `limit`.
  /// Returns `nil` when `offset` is outside `0..<limit` or no NUL byte is found before `limit`.
  public func cString(at offset: Int, limit: Int) -> String? {
    let end = Swift.min(limit, bytes.count)
    guard offset >= 0, offset < end else { return nil }
    var i = offset
    while i < end {
      if bytes[i] == 0 {
        return String(decoding: bytes[offset..<i], as: UTF8.self)
      }
      i += 1
    }
    return nil
  }
}

extension ArraySlice where Element == UInt8 {
  /// Reads a little-endian integer at `offset` bytes from the start of the slice, or `nil`.
  @inlinable
  func readLE<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T? {
    let size = MemoryLayout<T>.size
    guard offset >= 0, offset <= count, count - offset >= size else { return nil }
    var value: T = 0
    let base = startIndex + offset
    for i in 0..<size {
      value |= T(truncatingIfNeeded: self[base + i]) << (8 * i)
    }
    return value
  }
}

/// Finds the NUL that ends a string, eight bytes at a time.
enum NULScan {
  /// The number of bytes from `start` to the first NUL before `limit` in `bytes`, or `nil`
  /// when there is none. `start` and `limit` must lie in `bytes` (`start` may equal `limit`).
  @inline(__always)
  static func length(of bytes: UnsafeRawBufferPointer, from start: Int, limit: Int) -> Int? {
    var i = start
    // A word has a zero byte exactly when (w − 0x01…01) & ~w & 0x80…80 is non-zero; the lowest
    // set bit marks the first zero byte (little-endian).
    while limit - i >= 8 {
      let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
      let zero = (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
      if zero != 0 { return i - start + zero.trailingZeroBitCount / 8 }
      i += 8
    }
    while i < limit {
      if bytes[i] == 0 { return i - start }
      i += 1
    }
    return nil
  }
}
