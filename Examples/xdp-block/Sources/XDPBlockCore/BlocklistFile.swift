import Foundation
import XDPKit
import Yams

/// A declarative blocklist: the file `xdp-block run --config FILE` reads, that a fleet
/// distributes (a Kubernetes ConfigMap, a configuration-management template).
///
/// The file is YAML, and JSON is accepted as the YAML subset it is. Its top level is a
/// mapping; `block:` lists addresses and CIDR prefixes, in flow or block style:
///
/// ```yaml
/// # xdp-block blocklist
/// block:
///   - 192.0.2.1
///   - 198.51.100.0/24
///   - "2001:db8::/64"
/// mode: native        # optional: auto, native or generic
/// events: true        # optional: report drop events
/// ```
///
/// `block: [192.0.2.1, 198.51.100.0/24]` and `{"block": ["192.0.2.1"]}` say the same. An
/// absent, empty or null `block:` is an empty list, and so is an empty file. An entry listed
/// twice (also as "192.0.2.1" and "192.0.2.1/32") counts once. Any other key is an error
/// (a typo must not pass unnoticed), and every error names the line (``BlocklistFileError``).
///
/// Entries are parsed by ``BlockEntry/init(parsing:)``, the same rules as the command line's.
public struct BlocklistFile: Sendable, Equatable {
  /// The keys the top-level mapping may have.
  public enum Key: String, Sendable, CaseIterable {
    /// The entries to block: a list of addresses and CIDR prefixes.
    case block
    /// The attach mode: `auto`, `native` or `generic`.
    case mode
    /// Whether drop events are reported: `true` or `false`.
    case events
  }

  /// The modes `mode:` accepts.
  public static let modes: [XDPAttachMode] = [.auto, .native, .generic]

  /// The entries of `block:`, each once, in the order of first appearance.
  public var entries: [BlockEntry]
  /// The `mode:` setting, `nil` when the file has none.
  public var mode: XDPAttachMode?
  /// The `events:` setting, `nil` when the file has none.
  public var events: Bool?

  /// A blocklist with `entries` (kept as given) and settings.
  public init(entries: [BlockEntry] = [], mode: XDPAttachMode? = nil, events: Bool? = nil) {
    self.entries = entries
    self.mode = mode
    self.events = events
  }

  /// The entries as a set, the `desired` side of ``BlocklistReconcile/plan(current:desired:)``.
  public var entrySet: Set<BlockEntry> { Set(entries) }

  /// Parses the file at `path`, which root must be able to trust: following only symbolic
  /// links root or the effective user owns (a Kubernetes ConfigMap mount is a chain of them),
  /// through directories nobody else can write, to a regular file nobody else can write (see
  /// ``TrustedFile``).
  ///
  /// Throws ``BlocklistFileError/untrusted(path:reason:)`` naming the path and the check that
  /// failed, ``BlocklistFileError/unreadable(_:)`` when it cannot be read, and the first
  /// problem in its text otherwise.
  public init(contentsOf path: String) throws(BlocklistFileError) {
    try self.init(bytes: try TrustedFile.read(path: path), source: path)
  }

  /// Parses `bytes`, which must be UTF-8; `source` names them in errors (a path).
  public init(bytes: [UInt8], source: String) throws(BlocklistFileError) {
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw .notUTF8(source: source, line: Self.firstNonUTF8Line(bytes))
    }
    try self.init(parsing: text, source: source)
  }

  /// Parses `text`; `source` names it in errors (a path).
  public init(parsing text: String, source: String) throws(BlocklistFileError) {
    let root: Node?
    do {
      root = try Yams.compose(yaml: text)
    } catch {
      throw Self.syntaxError(error, text: text, source: source)
    }
    self = try Self.interpret(root, source: source)
  }
}

// MARK: - From YAML nodes to a blocklist

extension BlocklistFile {
  /// How the error of a wrong entry calls it (the description adds a hint for that case).
  static let entryWording = "an entry of block"

  private static func interpret(_ root: Node?, source: String) throws(BlocklistFileError) -> BlocklistFile {
    var file = BlocklistFile()
    guard let root, !isNull(root) else { return file }
    guard case .mapping(let mapping) = root else {
      throw .wrongType(
        source: source, line: line(of: root), what: "the file", expected: "a mapping with a block: key",
        found: shape(of: root))
    }
    for (keyNode, value) in mapping {
      guard case .scalar(let scalar) = keyNode, !isNull(keyNode) else {
        throw .wrongType(
          source: source, line: line(of: keyNode), what: "a key", expected: "a name", found: shape(of: keyNode))
      }
      guard let key = Key(rawValue: scalar.string) else {
        throw .unknownKey(source: source, line: line(of: keyNode), key: scalar.string)
      }
      switch key {
      case .block: file.entries = try entries(value, source: source)
      case .mode: file.mode = try mode(value, source: source)
      case .events: file.events = try flag(value, key: key, source: source)
      }
    }
    return file
  }

  private static func entries(_ node: Node, source: String) throws(BlocklistFileError) -> [BlockEntry] {
    if isNull(node) { return [] }
    guard case .sequence(let sequence) = node else {
      throw .wrongType(source: source, line: line(of: node), what: "block", expected: "a list", found: shape(of: node))
    }
    var entries: [BlockEntry] = []
    var seen = Set<BlockEntry>()
    entries.reserveCapacity(sequence.count)
    for item in sequence {
      guard case .scalar(let scalar) = item, !isNull(item) else {
        throw .wrongType(
          source: source, line: line(of: item), what: entryWording, expected: "an address or CIDR prefix",
          found: shape(of: item))
      }
      // Quoted text may carry spaces; the command line's parser trims them the same way
      // (only when there are any: most of a large file's entries have none).
      let raw = scalar.string
      let padded = raw.first?.isWhitespace == true || raw.last?.isWhitespace == true
      let text = padded ? raw.trimmingCharacters(in: .whitespaces) : raw
      let entry: BlockEntry
      do throws(EntryParseError) {
        guard !text.isEmpty else { throw EntryParseError.address(.invalidIPv4Address(text)) }
        entry = try BlockEntry(parsingTrimmed: text)
      } catch {
        throw .invalidEntry(source: source, line: line(of: item), text: scalar.string, reason: error)
      }
      if seen.insert(entry).inserted { entries.append(entry) }
    }
    return entries
  }

  private static func mode(_ node: Node, source: String) throws(BlocklistFileError) -> XDPAttachMode {
    let allowed = modes.map(\.rawValue)
    guard case .scalar(let scalar) = node, !isNull(node) else {
      throw .wrongType(
        source: source, line: line(of: node), what: Key.mode.rawValue, expected: "one of \(allowed.joined(separator: ", "))",
        found: shape(of: node))
    }
    guard let mode = XDPAttachMode(rawValue: scalar.string), modes.contains(mode) else {
      throw .invalidSetting(source: source, line: line(of: node), key: Key.mode.rawValue, value: scalar.string, allowed: allowed)
    }
    return mode
  }

  private static func flag(_ node: Node, key: Key, source: String) throws(BlocklistFileError) -> Bool {
    guard case .scalar(let scalar) = node, !isNull(node) else {
      throw .wrongType(
        source: source, line: line(of: node), what: key.rawValue, expected: "true or false", found: shape(of: node))
    }
    guard let value = node.bool else {
      throw .invalidSetting(
        source: source, line: line(of: node), key: key.rawValue, value: scalar.string, allowed: ["true", "false"])
    }
    return value
  }

  private static func isNull(_ node: Node) -> Bool { node.null != nil }

  private static func line(of node: Node) -> Int { node.mark?.line ?? 1 }

  /// What a node is, as errors say it.
  private static func shape(of node: Node) -> String {
    switch node {
    case .mapping: return "a mapping"
    case .sequence: return "a list"
    case .alias: return "an alias"
    case .scalar: return isNull(node) ? "null" : "text"
    }
  }
}

// MARK: - Errors from the YAML parser

extension BlocklistFile {
  private static func syntaxError(_ error: any Error, text: String, source: String) -> BlocklistFileError {
    guard let error = error as? YamlError else {
      return .syntax(source: source, line: 1, column: 1, problem: "\(error)")
    }
    switch error {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      let detail = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
      return .syntax(source: source, line: mark.line, column: mark.column, problem: problem + detail)
    case .reader(let problem, let offset, _, _):
      let (line, column) = position(ofCharacter: offset ?? 0, in: text)
      return .syntax(source: source, line: line, column: column, problem: problem)
    case .duplicatedKeysInMapping(let duplicates, let context):
      return .duplicateKey(source: source, line: context.mark.line, key: duplicates.first ?? "")
    default:
      return .syntax(source: source, line: 1, column: 1, problem: "\(error)")
    }
  }

  /// Line and column (from 1) of the character at `offset` (in Characters) of `text`.
  private static func position(ofCharacter offset: Int, in text: String) -> (line: Int, column: Int) {
    var line = 1
    var column = 1
    for character in text.prefix(offset) {
      if character == "\n" || character == "\r\n" {
        line += 1
        column = 1
      } else {
        column += 1
      }
    }
    return (line, column)
  }

  /// The number (from 1) of the first line of `bytes` that is not UTF-8.
  private static func firstNonUTF8Line(_ bytes: [UInt8]) -> Int {
    var line = 1
    for piece in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
      if String(validating: piece, as: UTF8.self) == nil { return line }
      line += 1
    }
    return line
  }
}
