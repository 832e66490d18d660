import Foundation
import Logging
import Testing
import XDPKitTestSupport
import XDPKit

/// Builds `.xdpkit.log` section bytes and records by hand, in the header's layout.
enum LogBytes {
  /// One descriptor: id, size, level, argc, kinds[8], sizes[8], format, NUL, padded to 8.
  static func descriptor(id: UInt32, level: UInt8 = 3, kinds: [UInt8], sizes: [UInt8], format: String) -> [UInt8] {
    let text = Array(format.utf8) + [0]
    let size = 24 + text.count
    var bytes = le(id) + [UInt8(size & 0xff), UInt8(size >> 8), level, UInt8(kinds.count)]
    bytes += kinds + [UInt8](repeating: 0, count: 8 - kinds.count)
    bytes += sizes + [UInt8](repeating: 0, count: 8 - sizes.count)
    bytes += text
    while bytes.count % 8 != 0 { bytes.append(0) }
    return bytes
  }

  /// One record: timestamp, id, cpu, argc, length, then `arguments`.
  static func record(id: UInt32, cpu: UInt16 = 1, argc: UInt8, arguments: [UInt8], length: UInt8? = nil) -> [UInt8] {
    le(UInt64(123_456_789)) + le(id) + [UInt8(cpu & 0xff), UInt8(cpu >> 8), argc, length ?? UInt8(arguments.count)] + arguments
  }

  static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

@Suite("BPF log records and formats (no kernel)")
struct LogDecoderTests {
  /// Descriptor 0: "SRC: %pI4, ACTION: %u" (4 bytes, u32); 1: "%d %lld %x %c" (s32, s64, u16, s8);
  /// 2: "%pI6 %pM %s" (16, 6, 8 bytes).
  static let section =
    LogBytes.descriptor(id: 0, kinds: [0x80, 0x04], sizes: [4, 4], format: "SRC: %pI4, ACTION: %u")
    + LogBytes.descriptor(id: 1, level: 4, kinds: [0x14, 0x18, 0x02, 0x11], sizes: [4, 8, 2, 1], format: "%d %lld %x %c")
    + LogBytes.descriptor(id: 2, level: 1, kinds: [0x80, 0x80, 0x80], sizes: [16, 6, 8], format: "%pI6 %pM %s")

  static func table() throws -> LogDescriptorTable {
    try LogDescriptorTable(sectionBytes: section, functions: [0: "xdp_firewall"])
  }

  @Test("a well-formed record decodes to the kernel's text")
  func decodes() throws {
    let table = try Self.table()
    #expect(table[0]?.function == "xdp_firewall" && table[0]?.level == .info && table[1]?.level == .debug)
    let record = try LogRecord(
      decoding: LogBytes.record(id: 0, cpu: 3, argc: 2, arguments: [192, 0, 2, 1] + LogBytes.le(UInt32(2))),
      descriptors: table)
    #expect(record.message == "SRC: 192.0.2.1, ACTION: 2")
    #expect(record.cpu == 3 && record.kernelTimestamp == 123_456_789)
    let numbers = try LogRecord(
      decoding: LogBytes.record(
        id: 1, argc: 4,
        arguments: LogBytes.le(Int32(-7)) + LogBytes.le(Int64.min) + LogBytes.le(UInt16(0xbeef)) + [0x7a]),
      descriptors: table)
    #expect(numbers.message == "-7 -9223372036854775808 beef z")
    let v6: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
    let addresses = try LogRecord(
      decoding: LogBytes.record(id: 2, argc: 3, arguments: v6 + [2, 0, 0, 0, 0, 1] + Array("xkv0".utf8) + [0, 9, 9, 9]),
      descriptors: table)
    #expect(addresses.message == "2001:db8::1 02:00:00:00:00:01 xkv0")
    #expect(addresses.level == .error)
  }

  @Test("malformed records give specific errors")
  func malformedRecords() throws {
    let table = try Self.table()
    #expect(throws: LogRecordError.truncated(length: 10, expected: 16)) {
      try LogRecord(decoding: [UInt8](repeating: 0, count: 10), descriptors: table)
    }
    #expect(throws: LogRecordError.truncated(length: 19, expected: 24)) {
      try LogRecord(decoding: LogBytes.record(id: 0, argc: 2, arguments: [1, 2, 3], length: 8), descriptors: table)
    }
    #expect(throws: LogRecordError.unknownFormat(id: 99)) {
      try LogRecord(decoding: LogBytes.record(id: 99, argc: 0, arguments: []), descriptors: table)
    }
    #expect(throws: LogRecordError.argumentCountMismatch(id: 0, expected: 2, actual: 1)) {
      try LogRecord(decoding: LogBytes.record(id: 0, argc: 1, arguments: [1, 2, 3, 4]), descriptors: table)
    }
    #expect(throws: LogRecordError.argumentLengthMismatch(id: 0, expected: 8, actual: 4)) {
      try LogRecord(decoding: LogBytes.record(id: 0, argc: 2, arguments: [1, 2, 3, 4]), descriptors: table)
    }
  }

  @Test("each malformed record is logged once and the next record is still forwarded")
  func forwarderGoesOn() throws {
    let logs = CapturedLogs()
    var forwarder = try LogRecordForwarder(descriptors: Self.table(), logger: logs.logger())
    let good = LogBytes.record(id: 0, argc: 2, arguments: [198, 51, 100, 7] + LogBytes.le(UInt32(1)))
    #expect(forwarder.forward([1, 2, 3]) == .truncated(length: 3, expected: 16))
    #expect(forwarder.forward(LogBytes.record(id: 42, argc: 0, arguments: [])) == .unknownFormat(id: 42))
    #expect(forwarder.forward(LogBytes.record(id: 0, argc: 3, arguments: [1, 2, 3, 4, 5, 6, 7, 8]))
      == .argumentCountMismatch(id: 0, expected: 2, actual: 3))
    #expect(forwarder.forward(good) == nil)
    #expect(forwarder.malformedRecords == 3 && forwarder.forwardedRecords == 1)
    #expect(logs.all.map(\.level) == [.error, .error, .error, .info])
    #expect(logs.all.map(\.message) == [
      "BPF log record dropped: log record of 3 bytes is truncated: expected 16",
      "BPF log record dropped: log record names format #42, which the object does not contain",
      "BPF log record dropped: log record of format #0 has 3 argument(s), the format has 2",
      "SRC: 198.51.100.7, ACTION: 1",
    ])
    #expect(logs.all.last?.metadata == ["program": "xdp_firewall", "cpu": "1", "timestamp": "123456789"])
  }

  @Test("%pI6c prints as %pI6; swift-log levels map to program levels")
  func compressedIPv6AndLevels() throws {
    let table = try LogDescriptorTable(sectionBytes: LogBytes.descriptor(id: 7, kinds: [0x80], sizes: [16], format: "[%pI6c]"))
    let mapped: [UInt8] = [UInt8](repeating: 0, count: 10) + [0xff, 0xff, 192, 0, 2, 1]
    #expect(try LogRecord(decoding: LogBytes.record(id: 7, argc: 1, arguments: mapped), descriptors: table).message == "[::ffff:192.0.2.1]")
    let levels: [Logger.Level] = [.trace, .debug, .info, .notice, .warning, .error, .critical]
    #expect(levels.map(ProgramLogLevel.init) == [.trace, .debug, .info, .info, .warning, .error, .error])
    #expect(ProgramLogLevel.allCases.map(\.loggerLevel) == [.error, .warning, .info, .debug, .trace])
  }

  @Test("the logger's level filters on the Swift side too")
  func loggerLevel() throws {
    let logs = CapturedLogs()
    var forwarder = try LogRecordForwarder(descriptors: Self.table(), logger: logs.logger(level: .info))
    forwarder.forward(LogBytes.record(id: 1, argc: 4, arguments: [UInt8](repeating: 0, count: 15)))
    #expect(logs.all.isEmpty && forwarder.forwardedRecords == 1)
  }

  @Test("malformed descriptors give specific errors")
  func malformedDescriptors() {
    #expect(throws: LogDescriptorError.argumentCountMismatch(id: 5, format: "%u %u", specifiers: 2, arguments: 1)) {
      try LogDescriptorTable(sectionBytes: LogBytes.descriptor(id: 5, kinds: [4], sizes: [4], format: "%u %u"))
    }
    #expect(throws: LogDescriptorError.argumentKindMismatch(
      id: 5, format: "%pI4", argument: 0, specifier: "%pI4", kind: .integer(width: 4, signed: false))) {
      try LogDescriptorTable(sectionBytes: LogBytes.descriptor(id: 5, kinds: [4], sizes: [4], format: "%pI4"))
    }
    #expect(throws: LogDescriptorError.argumentKindMismatch(
      id: 5, format: "%pI6", argument: 0, specifier: "%pI6", kind: .bytes(count: 4))) {
      try LogDescriptorTable(sectionBytes: LogBytes.descriptor(id: 5, kinds: [0x80], sizes: [4], format: "%pI6"))
    }
    #expect(throws: LogDescriptorError.unsupportedSpecifier(id: 5, format: "%f", specifier: "%f")) {
      try LogDescriptorTable(sectionBytes: LogBytes.descriptor(id: 5, kinds: [4], sizes: [4], format: "%f"))
    }
    let once = LogBytes.descriptor(id: 5, kinds: [], sizes: [], format: "x")
    #expect(throws: LogDescriptorError.duplicateID(id: 5, offsets: [0, 32])) {
      try LogDescriptorTable(sectionBytes: once + once)
    }
    #expect(throws: LogDescriptorError.malformed(offset: 0, reason: "level 9 is not 1 (error) to 5 (trace)")) {
      try LogDescriptorTable(sectionBytes: LogBytes.descriptor(id: 5, level: 9, kinds: [], sizes: [], format: "x"))
    }
    #expect(throws: LogDescriptorError.malformed(offset: 0, reason: "size 26 is less than 25 or more than the 25 bytes left")) {
      try LogDescriptorTable(sectionBytes: Array(once.prefix(25)))
    }
    #expect(throws: LogDescriptorError.malformed(offset: 0, reason: "20 bytes left, a descriptor needs at least 25")) {
      try LogDescriptorTable(sectionBytes: Array(once.prefix(20)))
    }
  }

  @Test("the fixture's descriptors parse; an object that includes the header without calls has none")
  func fixtureDescriptors() throws {
    let table = try LogDescriptorTable(object: LogFixture.object())
    #expect(table.descriptors.count == 14)
    #expect(table[0]?.format == "d=%d i=%i u=%u x=%x X=%X" && table[0]?.function == "log_all")
    #expect(table[12]?.arguments == [.integer(width: 4, signed: false)] && table[12]?.function == "log_one")
    #expect(table[3]?.arguments == [.bytes(count: 4), .bytes(count: 16), .bytes(count: 6), .bytes(count: 16)])
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/LogUnused.o").path
    let unused = try BPFObject(bytes: [UInt8](try #require(FileManager.default.contents(atPath: path))))
    #expect(try LogDescriptorTable(object: unused).isEmpty)
    #expect(unused.maps.isEmpty && unused.dataSections.isEmpty)
  }
}
