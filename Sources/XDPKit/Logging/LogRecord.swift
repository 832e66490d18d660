/// One decoded log record: which call wrote it, when, where, and its message.
public struct LogRecord: Sendable, Equatable {
  /// The call's descriptor.
  public var descriptor: LogDescriptor
  /// `bpf_ktime_get_ns()` when the record was written: nanoseconds since boot, not counting
  /// suspend (CLOCK_MONOTONIC).
  public var kernelTimestamp: UInt64
  /// The CPU the program ran on.
  public var cpu: Int
  /// The formatted message.
  public var message: String

  /// The call's level.
  public var level: ProgramLogLevel { descriptor.level }

  /// Bytes of the record header (`struct xdpkit_log_header`): u64 timestamp, u32 id, u16 cpu,
  /// u8 argc, u8 length.
  public static let headerSize = 16

  /// Decodes a record as the ring holds it, with the descriptors of the object that wrote it.
  ///
  /// - Throws: ``LogRecordError`` saying what does not fit.
  public init(decoding bytes: UnsafeRawBufferPointer, descriptors: LogDescriptorTable) throws(LogRecordError) {
    guard bytes.count >= Self.headerSize else {
      throw .truncated(length: bytes.count, expected: Self.headerSize)
    }
    let timestamp = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
    let id = bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
    let cpu = bytes.loadUnaligned(fromByteOffset: 12, as: UInt16.self).littleEndian
    let argc = Int(bytes[14])
    let length = Int(bytes[15])
    guard bytes.count >= Self.headerSize + length else {
      throw .truncated(length: bytes.count, expected: Self.headerSize + length)
    }
    guard let descriptor = descriptors[id] else { throw .unknownFormat(id: id) }
    guard argc == descriptor.arguments.count else {
      throw .argumentCountMismatch(id: id, expected: descriptor.arguments.count, actual: argc)
    }
    guard length == descriptor.argumentBytes else {
      throw .argumentLengthMismatch(id: id, expected: descriptor.argumentBytes, actual: length)
    }
    // Conversions take the arguments in order, so each one starts where the previous ended.
    var message = ""
    var offset = Self.headerSize
    for piece in descriptor.pieces {
      switch piece {
      case .text(let text): message += text
      case .argument(let index, let conversion):
        let kind = descriptor.arguments[index]
        conversion.render(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + kind.size)]), kind: kind, into: &message)
        offset += kind.size
      }
    }
    self.descriptor = descriptor
    self.kernelTimestamp = timestamp
    self.cpu = Int(cpu)
    self.message = message
  }

  /// Decodes a record from an array of bytes.
  public init(decoding bytes: [UInt8], descriptors: LogDescriptorTable) throws(LogRecordError) {
    let result = bytes.withUnsafeBytes { raw in
      Result { () throws(LogRecordError) in try LogRecord(decoding: raw, descriptors: descriptors) }
    }
    self = try result.get()
  }
}
