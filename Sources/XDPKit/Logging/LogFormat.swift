import XDPKitMaps

/// A piece of a parsed log format: literal text, or one argument's conversion.
enum LogFormatPiece: Sendable, Equatable {
  case text(String)
  case argument(index: Int, conversion: LogConversion)

  /// Parses `format` and checks each conversion against the argument it prints.
  static func parse(_ format: String, arguments: [LogArgumentKind], id: UInt32) throws(LogDescriptorError) -> [LogFormatPiece] {
    var pieces: [LogFormatPiece] = []
    var literal = ""
    var index = 0
    var characters = format.unicodeScalars[...]
    while let c = characters.popFirst() {
      guard c == "%" else {
        literal.unicodeScalars.append(c)
        continue
      }
      if characters.first == "%" {
        characters.removeFirst()
        literal += "%"
        continue
      }
      var specifier = "%"
      // Length modifiers: the argument's own width decides, so `l` and `ll` are accepted.
      while let m = characters.first, m == "l" {
        specifier.unicodeScalars.append(m)
        characters.removeFirst()
      }
      guard let letter = characters.popFirst() else {
        throw .unsupportedSpecifier(id: id, format: format, specifier: specifier)
      }
      specifier.unicodeScalars.append(letter)
      let conversion: LogConversion
      switch letter {
      case "d", "i": conversion = .signed
      case "u": conversion = .unsigned
      case "x": conversion = .hexLower
      case "X": conversion = .hexUpper
      case "c" where specifier.count == 2: conversion = .character
      case "s" where specifier.count == 2: conversion = .string
      case "p" where specifier.count == 2:
        if characters.starts(with: "I4".unicodeScalars) {
          conversion = .ipv4
          specifier += "I4"
          characters.removeFirst(2)
        } else if characters.starts(with: "I6".unicodeScalars) {
          conversion = .ipv6
          specifier += "I6"
          characters.removeFirst(2)
          if characters.first == "c" { characters.removeFirst(); specifier += "c" }
        } else if characters.first == "M" {
          conversion = .mac
          specifier += "M"
          characters.removeFirst()
        } else {
          throw .unsupportedSpecifier(id: id, format: format, specifier: specifier + String(String.UnicodeScalarView(characters.prefix(2))))
        }
      default:
        throw .unsupportedSpecifier(id: id, format: format, specifier: specifier)
      }
      if index < arguments.count, !conversion.accepts(arguments[index]) {
        throw .argumentKindMismatch(id: id, format: format, argument: index, specifier: specifier, kind: arguments[index])
      }
      if !literal.isEmpty { pieces.append(.text(literal)) }
      literal = ""
      pieces.append(.argument(index: index, conversion: conversion))
      index += 1
    }
    if !literal.isEmpty { pieces.append(.text(literal)) }
    guard index == arguments.count else {
      throw .argumentCountMismatch(id: id, format: format, specifiers: index, arguments: arguments.count)
    }
    return pieces
  }
}

/// How one argument is printed.
enum LogConversion: Sendable, Equatable {
  /// `%d`, `%i`: the argument's bits as a signed number of its width.
  case signed
  /// `%u`: as an unsigned number of its width.
  case unsigned
  /// `%x`, `%X`: as an unsigned number of its width, in hexadecimal.
  case hexLower, hexUpper
  /// `%c`: the low byte as a character.
  case character
  /// `%s`: the bytes up to the first NUL.
  case string
  /// `%pI4`: 4 bytes in network order, dotted quad.
  case ipv4
  /// `%pI6`, `%pI6c`: 16 bytes, RFC 5952 text.
  case ipv6
  /// `%pM`: 6 bytes, colon-separated lowercase hex.
  case mac

  func accepts(_ kind: LogArgumentKind) -> Bool {
    switch (self, kind) {
    case (.signed, .integer), (.unsigned, .integer), (.hexLower, .integer), (.hexUpper, .integer),
      (.character, .integer):
      return true
    case (.string, .bytes): return true
    case (.ipv4, .bytes(4)), (.ipv6, .bytes(16)), (.mac, .bytes(6)): return true
    default: return false
    }
  }

  /// The text of an argument of `kind` stored in `bytes` (exactly `kind.size` of them).
  func render(_ bytes: UnsafeRawBufferPointer, kind: LogArgumentKind, into text: inout String) {
    switch self {
    case .signed, .unsigned, .hexLower, .hexUpper, .character:
      let width = kind.size
      var raw: UInt64 = 0
      for i in 0..<width { raw |= UInt64(bytes[i]) << (8 * UInt64(i)) }
      switch self {
      case .signed:
        let shift = UInt64(64 - 8 * width)
        text += String(Int64(bitPattern: raw << shift) >> Int64(shift))
      case .unsigned: text += String(raw)
      case .hexLower: text += String(raw, radix: 16)
      case .hexUpper: text += String(raw, radix: 16, uppercase: true)
      default: text.unicodeScalars.append(Unicode.Scalar(UInt8(truncatingIfNeeded: raw)))
      }
    case .string:
      let end = bytes.firstIndex(of: 0) ?? bytes.count
      text += String(decoding: bytes[..<end], as: UTF8.self)
    case .ipv4:
      for i in 0..<4 {
        if i > 0 { text += "." }
        text += String(bytes[i])
      }
    case .ipv6:
      text += IPv6Address(bytes: bytes)?.description ?? ""
    case .mac:
      let hex = "0123456789abcdef".unicodeScalars.map { $0 }
      for i in 0..<6 {
        if i > 0 { text += ":" }
        text.unicodeScalars.append(hex[Int(bytes[i] >> 4)])
        text.unicodeScalars.append(hex[Int(bytes[i] & 0xf)])
      }
    }
  }
}
