import XDPKitObject

/// How an argument of a log call is stored in a record, as the header's `_Generic` recorded it.
public enum LogArgumentKind: Sendable, Equatable, CustomStringConvertible {
  /// An integer of `width` bytes (1, 2, 4 or 8), little-endian.
  case integer(width: Int, signed: Bool)
  /// `count` bytes copied from a pointer or an array (an address, a MAC, a string).
  case bytes(count: Int)

  /// Bytes the argument occupies in a record.
  public var size: Int {
    switch self {
    case .integer(let width, _): return width
    case .bytes(let count): return count
    }
  }

  public var description: String {
    switch self {
    case .integer(let width, let signed): return "a \(signed ? "signed" : "unsigned") \(width * 8)-bit integer"
    case .bytes(let count): return "\(count) byte(s)"
    }
  }
}

/// One log call site: its level, format and argument kinds, read from the object's
/// `.xdpkit.log` section (see `Programs/include/xdpkit_log.h` for the layout).
public struct LogDescriptor: Sendable, Equatable {
  /// The id records carry (the call's `__COUNTER__` value).
  public var id: UInt32
  /// The call's level.
  public var level: ProgramLogLevel
  /// The function that contains the call, from the descriptor's symbol; `nil` if it has none.
  public var function: String?
  /// The format string.
  public var format: String
  /// The arguments' kinds, in order.
  public var arguments: [LogArgumentKind]
  /// The format, parsed and checked against ``arguments``.
  let pieces: [LogFormatPiece]

  /// Bytes of arguments a record of this call carries.
  public var argumentBytes: Int { arguments.reduce(0) { $0 + $1.size } }
}

/// The descriptors of one object, by id.
public struct LogDescriptorTable: Sendable {
  /// The section the header places descriptors in.
  public static let sectionName = ".xdpkit.log"
  /// Bytes before the format string: id, size, level, argc, kinds[8], sizes[8].
  static let fixedSize = 24
  /// Bit of a kind byte for a signed integer.
  static let signedBit: UInt8 = 0x10
  /// Bit of a kind byte for bytes copied from a pointer or array.
  static let bytesBit: UInt8 = 0x80
  /// The symbol suffix of a descriptor; the symbol is `function.__xdpkit_log_descriptor_ID`.
  static let symbolMarker = ".__xdpkit_log_descriptor_"

  /// The descriptors by id.
  public let descriptors: [UInt32: LogDescriptor]

  private init(descriptors: [UInt32: LogDescriptor]) { self.descriptors = descriptors }

  /// Whether the object has no log calls.
  public var isEmpty: Bool { descriptors.isEmpty }

  /// Reads the `.xdpkit.log` section of `object`; an object without it has no descriptors.
  public init(object: BPFObject) throws(LogDescriptorError) {
    guard let section = object.elf.section(named: Self.sectionName), !section.isNoBits else {
      self = LogDescriptorTable(descriptors: [:])
      return
    }
    var functions: [Int: String] = [:]
    let marker = Array(Self.symbolMarker.utf8)
    for symbol in object.elf.symbols where Int(symbol.sectionIndex) == section.index {
      let name = Array(symbol.name.utf8)
      guard name.count > marker.count else { continue }
      for start in 0...(name.count - marker.count) where name[start..<(start + marker.count)].elementsEqual(marker) {
        functions[Int(symbol.value)] = String(decoding: name[..<start], as: UTF8.self)
        break
      }
    }
    try self.init(sectionBytes: Array(object.elf.contents(of: section)), functions: functions)
  }

  /// Parses descriptors from the section's bytes; `functions` names the function of the
  /// descriptor at each offset.
  public init(sectionBytes bytes: [UInt8], functions: [Int: String] = [:]) throws(LogDescriptorError) {
    var table: [UInt32: LogDescriptor] = [:]
    var offsets: [UInt32: Int] = [:]
    var offset = 0
    while offset < bytes.count {
      // Descriptors start at multiples of 8; what lies between them is zero padding.
      if bytes[offset..<min(offset + 8, bytes.count)].allSatisfy({ $0 == 0 }) {
        offset += 8
        continue
      }
      let descriptor = try Self.descriptor(in: bytes, at: offset, function: functions[offset])
      if let first = offsets[descriptor.id] {
        throw .duplicateID(id: descriptor.id, offsets: [first, offset])
      }
      offsets[descriptor.id] = offset
      table[descriptor.id] = descriptor
      let size = Int(Self.u16(bytes, offset + 4))
      offset += (size + 7) & ~7
    }
    self.descriptors = table
  }

  /// The descriptor with id `id`.
  public subscript(id: UInt32) -> LogDescriptor? { descriptors[id] }

  static func u16(_ bytes: [UInt8], _ at: Int) -> UInt16 {
    UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
  }

  static func descriptor(in bytes: [UInt8], at offset: Int, function: String?) throws(LogDescriptorError) -> LogDescriptor {
    guard offset + fixedSize <= bytes.count else {
      throw .malformed(offset: offset, reason: "\(bytes.count - offset) bytes left, a descriptor needs at least \(fixedSize + 1)")
    }
    let id = UInt32(u16(bytes, offset)) | UInt32(u16(bytes, offset + 2)) << 16
    let size = Int(u16(bytes, offset + 4))
    guard size > fixedSize, offset + size <= bytes.count else {
      throw .malformed(offset: offset, reason: "size \(size) is less than \(fixedSize + 1) or more than the \(bytes.count - offset) bytes left")
    }
    guard let level = ProgramLogLevel(rawValue: bytes[offset + 6]) else {
      throw .malformed(offset: offset, reason: "level \(bytes[offset + 6]) is not 1 (error) to 5 (trace)")
    }
    let argc = Int(bytes[offset + 7])
    guard argc <= 8 else { throw .malformed(offset: offset, reason: "\(argc) arguments, at most 8") }
    var arguments: [LogArgumentKind] = []
    for i in 0..<argc {
      let kind = bytes[offset + 8 + i]
      let count = Int(bytes[offset + 16 + i])
      if kind & bytesBit != 0 {
        guard count > 0 else { throw .malformed(offset: offset, reason: "argument \(i + 1) has 0 bytes") }
        arguments.append(.bytes(count: count))
      } else {
        let width = Int(kind & 0x0f)
        guard [1, 2, 4, 8].contains(width), width == count else {
          throw .malformed(offset: offset, reason: "argument \(i + 1) has kind 0x\(String(kind, radix: 16)) and size \(count)")
        }
        arguments.append(.integer(width: width, signed: kind & signedBit != 0))
      }
    }
    let text = bytes[(offset + fixedSize)..<(offset + size)]
    guard text.last == 0, let nul = text.firstIndex(of: 0) else {
      throw .malformed(offset: offset, reason: "the format string is not NUL-terminated")
    }
    let format = String(decoding: text[..<nul], as: UTF8.self)
    let pieces = try LogFormatPiece.parse(format, arguments: arguments, id: id)
    return LogDescriptor(id: id, level: level, function: function, format: format, arguments: arguments, pieces: pieces)
  }
}
