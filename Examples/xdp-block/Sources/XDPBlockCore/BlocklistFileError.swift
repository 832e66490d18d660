import XDPKit

/// Why a declarative blocklist file (``BlocklistFile``) was refused. Every case but
/// ``unreadable(_:)`` names the file (`source`) and the line (counted from 1) where the
/// problem is, so that the person who edited the file can find it.
public enum BlocklistFileError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The file could not be read: it does not exist, is a directory or not a regular file, or
  /// open(2), fstat(2) or read(2) failed with the errno that ``FileReadError/syscall(path:call:_:)``
  /// carries.
  case unreadable(FileReadError)
  /// `path` (the file, a directory on the way to it, or a symbolic link there) fails a check
  /// that makes the file root's to trust (see ``TrustedFile``); `reason` says which.
  case untrusted(path: String, reason: String)
  /// The bytes of line `line` are not UTF-8.
  case notUTF8(source: String, line: Int)
  /// The text is not YAML (or JSON): `problem` is the parser's own wording.
  case syntax(source: String, line: Int, column: Int, problem: String)
  /// The top-level mapping holds `key` twice; `line` is where it first appears.
  case duplicateKey(source: String, line: Int, key: String)
  /// The value at `line` has the wrong shape: `what` ("the file", "block", "an entry of block",
  /// "mode", …) should be `expected` ("a list", "true or false", …) and is `found` ("a mapping",
  /// "a list", "text", "null").
  case wrongType(source: String, line: Int, what: String, expected: String, found: String)
  /// Line `line` holds `text` in the `block:` list, which is not an address or a CIDR prefix.
  case invalidEntry(source: String, line: Int, text: String, reason: EntryParseError)
  /// The top-level mapping has a key the format does not know (a typo is an error, not
  /// ignored). ``BlocklistFile/Key`` lists the known keys.
  case unknownKey(source: String, line: Int, key: String)
  /// Setting `key` at `line` is `value`, which is none of `allowed`.
  case invalidSetting(source: String, line: Int, key: String, value: String, allowed: [String])

  /// The line the problem is on, counted from 1; `nil` when the file could not be read.
  public var line: Int? {
    switch self {
    case .unreadable, .untrusted: return nil
    case .notUTF8(_, let line), .syntax(_, let line, _, _), .duplicateKey(_, let line, _),
      .wrongType(_, let line, _, _, _), .invalidEntry(_, let line, _, _), .unknownKey(_, let line, _),
      .invalidSetting(_, let line, _, _, _):
      return line
    }
  }

  /// The file the problem is in.
  public var source: String {
    switch self {
    case .unreadable(let error): return error.path
    case .untrusted(let path, _): return path
    case .notUTF8(let source, _), .syntax(let source, _, _, _), .duplicateKey(let source, _, _),
      .wrongType(let source, _, _, _, _), .invalidEntry(let source, _, _, _), .unknownKey(let source, _, _),
      .invalidSetting(let source, _, _, _, _):
      return source
    }
  }

  /// `<file> line <n>: <what is wrong>`, `cannot read <file>: <reason>`, or `refusing to read
  /// the blocklist through <path>: <check>`.
  public var description: String {
    switch self {
    case .unreadable(let error):
      return "cannot read blocklist file \(error.path): \(error.reason)"
    case .untrusted(let path, let reason):
      return "refusing to read the blocklist through \(path): \(reason)"
    case .notUTF8(let source, let line):
      return "\(source) line \(line): not UTF-8 text"
    case .syntax(let source, let line, let column, let problem):
      return "\(source) line \(line), column \(column): not YAML or JSON: \(problem)"
    case .duplicateKey(let source, let line, let key):
      return "\(source) line \(line): key \"\(key)\" appears more than once"
    case .wrongType(let source, let line, let what, let expected, let found):
      // `- 2001:db8::` reads as a mapping: a plain scalar ends at a ':' before a space or line end.
      let hint = what == BlocklistFile.entryWording && found == "a mapping"
        ? " (quote an IPv6 address that ends in \":\", as in \"2001:db8::\")" : ""
      return "\(source) line \(line): \(what) must be \(expected), not \(found)\(hint)"
    case .invalidEntry(let source, let line, let text, let reason):
      return "\(source) line \(line): \"\(text)\" is not an address or CIDR prefix: \(reason)"
    case .unknownKey(let source, let line, let key):
      let known = BlocklistFile.Key.allCases.map(\.rawValue).joined(separator: ", ")
      return "\(source) line \(line): unknown key \"\(key)\" (known keys: \(known))"
    case .invalidSetting(let source, let line, let key, let value, let allowed):
      return "\(source) line \(line): \(key) is \"\(value)\", expected one of \(allowed.joined(separator: ", "))"
    }
  }
}
