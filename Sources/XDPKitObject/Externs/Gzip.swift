/// Why gzip data could not be decompressed.
public enum GzipError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The data does not start with a gzip member header (1f 8b 08).
  case notGzip
  /// The data ends before the stream does.
  case truncated
  /// A block or code in the deflate stream is invalid; `detail` says which.
  case invalidStream(String)
  /// The trailer's CRC-32 or length does not match what was decompressed.
  case checksumMismatch
  /// The output would exceed the limit given.
  case tooLarge(limit: Int)

  public var description: String {
    switch self {
    case .notGzip: return "not gzip data"
    case .truncated: return "gzip data ends early"
    case .invalidStream(let detail): return "invalid deflate stream: \(detail)"
    case .checksumMismatch: return "gzip CRC-32 or length mismatch"
    case .tooLarge(let limit): return "decompressed data exceeds \(limit) bytes"
    }
  }
}

/// A gzip (RFC 1952) reader with its own inflate (RFC 1951), for `/proc/config.gz`.
public enum Gzip {
  /// Decompresses the first member of `data`, checking its CRC-32 and length.
  public static func decompress(_ data: [UInt8], limit: Int = 64 << 20) throws(GzipError) -> [UInt8] {
    guard data.count >= 18, data[0] == 0x1f, data[1] == 0x8b, data[2] == 8 else { throw .notGzip }
    let flags = data[3]
    var position = 10
    if flags & 0x04 != 0 {  // FEXTRA
      guard position + 2 <= data.count else { throw .truncated }
      position += 2 + Int(data[position]) | Int(data[position + 1]) << 8
    }
    for flag in [UInt8(0x08), 0x10] where flags & flag != 0 {  // FNAME, FCOMMENT
      while true {
        guard position < data.count else { throw .truncated }
        position += 1
        if data[position - 1] == 0 { break }
      }
    }
    if flags & 0x02 != 0 { position += 2 }  // FHCRC
    guard position <= data.count else { throw .truncated }
    var inflater = Inflater(data: data, position: position, limit: limit)
    try inflater.run()
    let end = (inflater.bitPosition + 7) / 8
    guard end + 8 <= data.count else { throw .truncated }
    func word(_ at: Int) -> UInt32 {
      UInt32(data[at]) | UInt32(data[at + 1]) << 8 | UInt32(data[at + 2]) << 16 | UInt32(data[at + 3]) << 24
    }
    guard word(end) == crc32(inflater.output), word(end + 4) == UInt32(truncatingIfNeeded: inflater.output.count)
    else { throw .checksumMismatch }
    return inflater.output
  }

  /// CRC-32 (IEEE 802.3, reflected, as gzip uses it).
  public static func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xffff_ffff
    for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
    return ~crc
  }

  private static let crcTable: [UInt32] = (0..<256).map { n in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 != 0 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
    return c
  }
}

/// A canonical Huffman code: symbol counts per length and symbols ordered by code.
private struct Huffman {
  var counts = [Int](repeating: 0, count: 16)
  var symbols: [Int] = []

  init(lengths: ArraySlice<Int>) throws(GzipError) {
    for length in lengths { counts[length] += 1 }
    counts[0] = 0
    var left = 1
    for length in 1..<16 {
      left <<= 1
      left -= counts[length]
      guard left >= 0 else { throw .invalidStream("over-subscribed code lengths") }
    }
    var offsets = [Int](repeating: 0, count: 16)
    for length in 1..<15 { offsets[length + 1] = offsets[length] + counts[length] }
    symbols = [Int](repeating: 0, count: lengths.count)
    for (symbol, length) in lengths.enumerated() where length != 0 {
      symbols[offsets[length]] = symbol
      offsets[length] += 1
    }
  }
}

private struct Inflater {
  let data: [UInt8]
  var bitPosition: Int
  let limit: Int
  var output: [UInt8] = []

  init(data: [UInt8], position: Int, limit: Int) {
    self.data = data
    self.bitPosition = position * 8
    self.limit = limit
  }

  static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
  static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
  static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
  static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
  static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

  mutating func bits(_ count: Int) throws(GzipError) -> Int {
    var value = 0
    for i in 0..<count {
      let byte = bitPosition >> 3
      guard byte < data.count else { throw .truncated }
      value |= Int((data[byte] >> UInt8(bitPosition & 7)) & 1) << i
      bitPosition += 1
    }
    return value
  }

  mutating func decode(_ code: Huffman) throws(GzipError) -> Int {
    var value = 0, first = 0, index = 0
    for length in 1..<16 {
      value |= try bits(1)
      let count = code.counts[length]
      if value - first < count { return code.symbols[index + value - first] }
      index += count
      first = (first + count) << 1
      value <<= 1
    }
    throw .invalidStream("no code matches")
  }

  mutating func run() throws(GzipError) {
    var last = false
    while !last {
      last = try bits(1) == 1
      switch try bits(2) {
      case 0: try stored()
      case 1: try codes(Self.fixedLiterals, Self.fixedDistances)
      case 2:
        let (literals, distances) = try dynamicCodes()
        try codes(literals, distances)
      default: throw .invalidStream("block type 3")
      }
    }
  }

  mutating func stored() throws(GzipError) {
    bitPosition = (bitPosition + 7) & ~7
    let start = bitPosition >> 3
    guard start + 4 <= data.count else { throw .truncated }
    let length = Int(data[start]) | Int(data[start + 1]) << 8
    let complement = Int(data[start + 2]) | Int(data[start + 3]) << 8
    guard length == ~complement & 0xffff else { throw .invalidStream("stored block length check") }
    guard start + 4 + length <= data.count else { throw .truncated }
    guard output.count + length <= limit else { throw .tooLarge(limit: limit) }
    output.append(contentsOf: data[(start + 4)..<(start + 4 + length)])
    bitPosition = (start + 4 + length) * 8
  }

  static let fixedLiterals: Huffman = {
    var lengths = [Int](repeating: 8, count: 288)
    for i in 144..<256 { lengths[i] = 9 }
    for i in 256..<280 { lengths[i] = 7 }
    // Fixed lengths are always a valid code.
    return (try? Huffman(lengths: lengths[...])) ?? Huffman.empty
  }()
  static let fixedDistances: Huffman = (try? Huffman(lengths: [Int](repeating: 5, count: 30)[...])) ?? Huffman.empty

  mutating func dynamicCodes() throws(GzipError) -> (Huffman, Huffman) {
    let literalCount = try bits(5) + 257
    let distanceCount = try bits(5) + 1
    let codeLengthCount = try bits(4) + 4
    guard literalCount <= 286, distanceCount <= 30 else { throw .invalidStream("too many codes") }
    var codeLengths = [Int](repeating: 0, count: 19)
    for i in 0..<codeLengthCount { codeLengths[Self.codeLengthOrder[i]] = try bits(3) }
    let lengthCode = try Huffman(lengths: codeLengths[...])
    var lengths: [Int] = []
    while lengths.count < literalCount + distanceCount {
      let symbol = try decode(lengthCode)
      switch symbol {
      case 0..<16: lengths.append(symbol)
      case 16:
        guard let previous = lengths.last else { throw .invalidStream("repeat with no previous length") }
        lengths += [Int](repeating: previous, count: 3 + (try bits(2)))
      case 17: lengths += [Int](repeating: 0, count: 3 + (try bits(3)))
      default: lengths += [Int](repeating: 0, count: 11 + (try bits(7)))
      }
    }
    guard lengths.count == literalCount + distanceCount else { throw .invalidStream("code lengths overrun") }
    guard lengths[256] != 0 else { throw .invalidStream("no end-of-block code") }
    return (try Huffman(lengths: lengths[0..<literalCount]), try Huffman(lengths: lengths[literalCount...]))
  }

  mutating func codes(_ literals: Huffman, _ distances: Huffman) throws(GzipError) {
    while true {
      let symbol = try decode(literals)
      if symbol < 256 {
        guard output.count < limit else { throw .tooLarge(limit: limit) }
        output.append(UInt8(symbol))
        continue
      }
      if symbol == 256 { return }
      let index = symbol - 257
      guard index < Self.lengthBase.count else { throw .invalidStream("length symbol \(symbol)") }
      let length = Self.lengthBase[index] + (try bits(Self.lengthExtra[index]))
      let distanceSymbol = try decode(distances)
      guard distanceSymbol < Self.distanceBase.count else { throw .invalidStream("distance symbol \(distanceSymbol)") }
      let distance = Self.distanceBase[distanceSymbol] + (try bits(Self.distanceExtra[distanceSymbol]))
      guard distance <= output.count else { throw .invalidStream("distance \(distance) before the start") }
      guard output.count + length <= limit else { throw .tooLarge(limit: limit) }
      let start = output.count - distance
      for i in 0..<length { output.append(output[start + i]) }
    }
  }
}

extension Huffman {
  /// A code that decodes nothing; stands in for the fixed tables, which are always valid.
  static let empty = Huffman(counts: [Int](repeating: 0, count: 16), symbols: [])

  private init(counts: [Int], symbols: [Int]) {
    self.counts = counts
    self.symbols = symbols
  }
}
