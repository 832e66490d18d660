import Testing

@testable import XDPKitObject

/// The word-at-a-time NUL search that measures string-table names: the first NUL wherever it
/// falls in or across 8-byte words, bounded by the limit, and none past it.
@Suite("NUL scan")
struct NULScanTests {
  @Test func findsTheFirstNULAtEveryPosition() {
    for length in 0..<40 {
      for start in 0..<9 {
        var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: start + length)
        bytes += [0, UInt8(ascii: "b"), 0]
        // A high byte before the NUL must not be taken for one (0x80 and 0x01 patterns).
        if length > 1 { bytes[start + length - 1] = 0x80 }
        if length > 2 { bytes[start] = 0x01 }
        let found = bytes.withUnsafeBytes { NULScan.length(of: $0, from: start, limit: $0.count) }
        #expect(found == length, "start \(start), length \(length)")
      }
    }
  }

  @Test func stopsAtTheLimit() {
    let bytes = [UInt8](repeating: 0x7F, count: 30) + [0]
    for limit in 0...30 {
      #expect(bytes.withUnsafeBytes { NULScan.length(of: $0, from: 0, limit: limit) } == nil)
    }
    #expect(bytes.withUnsafeBytes { NULScan.length(of: $0, from: 0, limit: 31) } == 30)
    #expect(bytes.withUnsafeBytes { NULScan.length(of: $0, from: 30, limit: 31) } == 0)
    #expect(bytes.withUnsafeBytes { NULScan.length(of: $0, from: 31, limit: 31) } == nil)
  }
}
