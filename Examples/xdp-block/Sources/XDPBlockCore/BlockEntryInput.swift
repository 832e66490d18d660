import XDPKit

/// Entries read from a blocklist file or standard input: one address or CIDR prefix per line,
/// `#` starts a comment that runs to the end of the line, blank lines are ignored and
/// surrounding whitespace (spaces, tabs, a carriage return) is trimmed.
///
/// ```
/// # blocked for scanning
/// 192.0.2.1
/// 198.51.100.0/24   # whole range
/// ```
extension BlockEntry {
  /// The name that stands for standard input in place of a path: `-`.
  public static let standardInputName = "-"

  /// The most bytes a file of entries (or standard input) may hold: 256 MiB, about ten
  /// million IPv6 prefixes — far more than the maps hold, and bounded so that `--file
  /// /dev/zero` or a runaway pipe cannot exhaust memory.
  public static let maximumInputBytes = 256 << 20

  /// Parses the entries in `bytes`, all or nothing: the first bad line throws
  /// ``XDPBlockError/invalidLine(source:line:text:reason:)`` naming `source` and the line
  /// number (counted from 1).
  public static func parseLines(_ bytes: [UInt8], source: String) throws(XDPBlockError) -> [BlockEntry] {
    var entries: [BlockEntry] = []
    var lineNumber = 0
    var start = 0
    while start < bytes.count {
      lineNumber += 1
      var end = start
      while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
      var last = end
      // A comment runs to the end of the line.
      var index = start
      while index < last {
        if bytes[index] == UInt8(ascii: "#") { last = index }
        index += 1
      }
      var first = start
      while first < last && isBlank(bytes[first]) { first += 1 }
      while last > first && isBlank(bytes[last - 1]) { last -= 1 }
      if first < last {
        let text = String(decoding: bytes[first..<last], as: UTF8.self)
        do {
          entries.append(try BlockEntry(parsingTrimmed: text))
        } catch {
          throw .invalidLine(source: source, line: lineNumber, text: text, reason: error)
        }
      }
      start = end + 1
    }
    return entries
  }

  /// Reads and parses the entries of the file at `path`, or of standard input when `path` is
  /// ``standardInputName``. FIFOs (`--file <(…)`) are read like files.
  ///
  /// Throws ``XDPBlockError/unreadableInput(_:)`` when the file cannot be read or holds more
  /// than ``maximumInputBytes`` (``FileReadError/tooLarge(path:limit:)``), and
  /// ``XDPBlockError/invalidLine(source:line:text:reason:)`` for its first bad line.
  public static func read(from path: String) throws(XDPBlockError) -> [BlockEntry] {
    let bytes: [UInt8]
    do {
      if path == standardInputName {
        bytes = try FileContents.readToEnd(0, path: "standard input", limit: maximumInputBytes)
      } else {
        bytes = try FileContents.read(path: path, requireRegularFile: false, limit: maximumInputBytes)
      }
    } catch {
      throw .unreadableInput(error)
    }
    return try parseLines(bytes, source: path == standardInputName ? "standard input" : path)
  }

  private static func isBlank(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
  }
}
