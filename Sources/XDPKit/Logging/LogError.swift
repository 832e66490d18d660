/// Why the log descriptors of an object (its `.xdpkit.log` section) cannot be used. Found when
/// forwarding starts, before any record is read.
public enum LogDescriptorError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The bytes at `offset` of the section are not a descriptor.
  case malformed(offset: Int, reason: String)
  /// Two descriptors have the same id (objects linked from several compilation units).
  case duplicateID(id: UInt32, offsets: [Int])
  /// The format string has a conversion the decoder does not support.
  case unsupportedSpecifier(id: UInt32, format: String, specifier: String)
  /// The format string converts a different number of arguments than the call passes.
  case argumentCountMismatch(id: UInt32, format: String, specifiers: Int, arguments: Int)
  /// Argument `argument` (from 0) does not fit its conversion: an integer for `%pI4`, or bytes
  /// of the wrong length for an address.
  case argumentKindMismatch(id: UInt32, format: String, argument: Int, specifier: String, kind: LogArgumentKind)

  public var description: String {
    switch self {
    case .malformed(let offset, let reason):
      return "log descriptor at offset \(offset) of .xdpkit.log: \(reason)"
    case .duplicateID(let id, let offsets):
      return "log descriptor id \(id) appears at offsets \(offsets.map(String.init).joined(separator: ", ")) of .xdpkit.log"
    case .unsupportedSpecifier(let id, let format, let specifier):
      return "log format #\(id) \"\(format)\": unsupported conversion \(specifier)"
    case .argumentCountMismatch(let id, let format, let specifiers, let arguments):
      return "log format #\(id) \"\(format)\" has \(specifiers) conversion(s) but the call passes \(arguments) argument(s)"
    case .argumentKindMismatch(let id, let format, let argument, let specifier, let kind):
      return "log format #\(id) \"\(format)\": argument \(argument + 1) is \(kind), which \(specifier) cannot print"
    }
  }
}

/// Why one log record could not be decoded. The forwarder logs it once, as an error, and goes
/// on with the next record.
public enum LogRecordError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The record is shorter than its header, or than the header says.
  case truncated(length: Int, expected: Int)
  /// No descriptor has the record's id.
  case unknownFormat(id: UInt32)
  /// The record carries a different number of arguments than its descriptor.
  case argumentCountMismatch(id: UInt32, expected: Int, actual: Int)
  /// The record's argument bytes differ in length from what its descriptor describes.
  case argumentLengthMismatch(id: UInt32, expected: Int, actual: Int)

  public var description: String {
    switch self {
    case .truncated(let length, let expected):
      return "log record of \(length) bytes is truncated: expected \(expected)"
    case .unknownFormat(let id):
      return "log record names format #\(id), which the object does not contain"
    case .argumentCountMismatch(let id, let expected, let actual):
      return "log record of format #\(id) has \(actual) argument(s), the format has \(expected)"
    case .argumentLengthMismatch(let id, let expected, let actual):
      return "log record of format #\(id) has \(actual) bytes of arguments, the format has \(expected)"
    }
  }
}
