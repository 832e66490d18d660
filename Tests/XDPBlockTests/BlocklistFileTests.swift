import Foundation
import Testing
import XDPBlockCore
import XDPKit

@Suite("Blocklist file: the declarative YAML/JSON format and its errors")
struct BlocklistFileTests {
  private static let source = "blocklist.yaml"

  private func parse(_ text: String) throws -> BlocklistFile {
    try BlocklistFile(parsing: text, source: Self.source)
  }

  /// The error `text` gives, or a failed expectation.
  private func error(_ text: String) -> BlocklistFileError? {
    do throws(BlocklistFileError) {
      let file = try BlocklistFile(parsing: text, source: Self.source)
      Issue.record("parsed, expected an error: \(file)")
      return nil
    } catch {
      return error
    }
  }

  /// The line of the syntax error `text` gives; `nil` for any other outcome.
  private func syntaxErrorLine(_ text: String) -> Int? {
    guard case .syntax(_, let line, _, _) = error(text) else { return nil }
    return line
  }

  private func entries(_ texts: [String]) throws -> [BlockEntry] {
    try texts.map { try BlockEntry(parsing: $0) }
  }

  // MARK: - Good files

  @Test("A flow-style YAML list with settings")
  func flowList() throws {
    let file = try parse("""
      block: [192.0.2.1, 198.51.100.0/24, "2001:db8::/64", 2001:db8::7]
      mode: native
      events: true
      """)
    #expect(file.entries == (try entries(["192.0.2.1", "198.51.100.0/24", "2001:db8::/64", "2001:db8::7"])))
    #expect(file.entries.map(\.kind) == ["exact", "prefix", "prefix", "exact"])
    #expect(file.mode == .native)
    #expect(file.events == true)
  }

  @Test("A block-style list, one entry a line, with comments; settings absent are nil")
  func blockList() throws {
    let file = try parse("""
      # blocked sources
      block:
        - 192.0.2.1            # a scanner
        - 198.51.100.0/24
        - '203.0.113.7'
        - "2001:db8::"
        - 2001:db8:1::/48
        - ::192.0.2.9
      """)
    #expect(file.entries == (try entries([
      "192.0.2.1", "198.51.100.0/24", "203.0.113.7", "2001:db8::", "2001:db8:1::/48", "::192.0.2.9",
    ])))
    #expect(file.mode == nil)
    #expect(file.events == nil)
  }

  @Test("JSON is accepted, also indented with tabs")
  func json() throws {
    let file = try parse("""
      {
      \t"block": ["192.0.2.1", "2001:db8::/32"],
      \t"mode": "generic",
      \t"events": false
      }
      """)
    #expect(file.entries == (try entries(["192.0.2.1", "2001:db8::/32"])))
    #expect(file.mode == .generic)
    #expect(file.events == false)
  }

  @Test("Duplicates count once, in the order of first appearance; /32 is the address")
  func duplicates() throws {
    let file = try parse("block: [192.0.2.1, 198.51.100.0/24, 192.0.2.1/32, 198.51.100.0/24, 192.0.2.2]")
    #expect(file.entries == (try entries(["192.0.2.1", "198.51.100.0/24", "192.0.2.2"])))
    #expect(file.entrySet.count == 3)
  }

  @Test("An empty file, a file of comments, `block:` null or empty: no entries", arguments: [
    "", "# nothing blocked yet\n", "---\n", "block:\n", "block: []\n", "block: ~\n", "mode: auto\n", "{}",
  ])
  func empty(text: String) throws {
    #expect(try parse(text).entries == [])
  }

  @Test("Quoted entries with surrounding spaces are trimmed, as on the command line")
  func trimmed() throws {
    #expect(try parse("block: [' 192.0.2.1 ']").entries == (try entries(["192.0.2.1"])))
  }

  @Test("The file is read from a path through symbolic links")
  func readsPath() throws {
    let directory = try TemporaryDirectory()
    try Data("block:\n  - 203.0.113.0/24\n".utf8).write(to: URL(fileURLWithPath: directory.path + "/real.yaml"))
    try FileManager.default.createSymbolicLink(atPath: directory.path + "/link.yaml", withDestinationPath: "real.yaml")
    let file = try BlocklistFile(contentsOf: directory.path + "/link.yaml")
    #expect(file.entries == (try entries(["203.0.113.0/24"])))
  }

  // MARK: - Errors name the line

  @Test("A bad entry names its line, its text and the reason")
  func badEntry() throws {
    let text = """
      block:
        - 192.0.2.1
        - 198.51.100.0/24
        - 198.51.100.0/33
      """
    let found = error(text)
    #expect(found == .invalidEntry(
      source: Self.source, line: 4, text: "198.51.100.0/33",
      reason: .address(.prefixLengthOutOfRange("198.51.100.0/33", length: 33, maximum: 32))))
    #expect(found?.line == 4)
    #expect(found?.description
      == "blocklist.yaml line 4: \"198.51.100.0/33\" is not an address or CIDR prefix: prefix length 33 in \"198.51.100.0/33\" exceeds 32")
  }

  @Test("Bad entries in a flow list and in JSON name their lines")
  func badEntryFlow() throws {
    #expect(error("mode: auto\nblock: [192.0.2.1,\n  192.0.2.300]") == .invalidEntry(
      source: Self.source, line: 3, text: "192.0.2.300", reason: .address(.invalidIPv4Address("192.0.2.300"))))
    #expect(error("{\n \"block\": [\n  \"192.0.2.1\",\n  \"192.0.2.1/24\"\n ]\n}") == .invalidEntry(
      source: Self.source, line: 4, text: "192.0.2.1/24", reason: .address(.hostBitsSet("192.0.2.1/24"))))
    #expect(error("block:\n  - ''") == .invalidEntry(
      source: Self.source, line: 2, text: "", reason: .address(.invalidIPv4Address(""))))
    #expect(error("block:\n  - 42") == .invalidEntry(
      source: Self.source, line: 2, text: "42", reason: .address(.invalidIPv4Address("42"))))
  }

  @Test("An unknown key is an error naming the key and its line")
  func unknownKey() throws {
    let found = error("block: [192.0.2.1]\n\nblok:\n  - 192.0.2.2\n")
    #expect(found == .unknownKey(source: Self.source, line: 3, key: "blok"))
    #expect(found?.description == "blocklist.yaml line 3: unknown key \"blok\" (known keys: block, mode, events)")
  }

  @Test("A syntax error names its line and column")
  func syntax() throws {
    let found = error("block:\n  - 192.0.2.1\n  - [198.51.100.0/24\nmode: auto\n")
    guard case .syntax(let source, let line, let column, let problem) = found else {
      Issue.record("expected a syntax error, got \(String(describing: found))")
      return
    }
    #expect(source == Self.source)
    #expect(line == 4)
    #expect(column == 5)
    #expect(problem.contains("did not find expected ',' or ']'"))
    #expect(found?.description
      == "blocklist.yaml line 4, column 5: not YAML or JSON: did not find expected ',' or ']' (while parsing a flow sequence at line 3)")
    // A tab where YAML wants indentation.
    #expect(syntaxErrorLine("block:\n  - 192.0.2.1\n\t- 192.0.2.2\n") == 3)
  }

  /// Files whose values have the wrong shape: the text, the line, what, expected and found.
  static let wrongTypeCases: [(String, Int, String, String, String)] = [
    ("block: 192.0.2.1\n", 1, "block", "a list", "text"),
    ("block:\n  a: 192.0.2.1\n", 2, "block", "a list", "a mapping"),
    ("- 192.0.2.1\n", 1, "the file", "a mapping with a block: key", "a list"),
    ("block:\n  - 192.0.2.1\n  - [192.0.2.2]\n", 3, "an entry of block", "an address or CIDR prefix", "a list"),
    ("block:\n  -\n  - 192.0.2.2\n", 2, "an entry of block", "an address or CIDR prefix", "null"),
    ("events:\n  - true\n", 2, "events", "true or false", "a list"),
    ("mode: [native]\n", 1, "mode", "one of auto, native, generic", "a list"),
    ("[a, b]: 1\n", 1, "a key", "a name", "a list"),
  ]

  @Test("Wrong types name the line and what was found", arguments: wrongTypeCases)
  func wrongType(text: String, line: Int, what: String, expected: String, found: String) throws {
    #expect(error(text) == .wrongType(source: Self.source, line: line, what: what, expected: expected, found: found))
  }

  @Test("An unquoted IPv6 address ending in ':' is a mapping: the error says to quote it")
  func unquotedTrailingColon() throws {
    let found = error("block:\n  - 192.0.2.1\n  - 2001:db8::\n")
    #expect(found == .wrongType(
      source: Self.source, line: 3, what: "an entry of block", expected: "an address or CIDR prefix", found: "a mapping"))
    #expect(found?.description == "blocklist.yaml line 3: an entry of block must be an address or CIDR prefix, not a mapping"
      + " (quote an IPv6 address that ends in \":\", as in \"2001:db8::\")")
  }

  @Test("Settings outside their values name the line and the allowed values")
  func invalidSettings() throws {
    let mode = error("block: []\nmode: offload\n")
    #expect(mode == .invalidSetting(
      source: Self.source, line: 2, key: "mode", value: "offload", allowed: ["auto", "native", "generic"]))
    #expect(mode?.description == "blocklist.yaml line 2: mode is \"offload\", expected one of auto, native, generic")
    #expect(error("events: 'true'\n") == .invalidSetting(
      source: Self.source, line: 1, key: "events", value: "true", allowed: ["true", "false"]))
    #expect(error("events: maybe\n") == .invalidSetting(
      source: Self.source, line: 1, key: "events", value: "maybe", allowed: ["true", "false"]))
  }

  @Test("A key given twice is an error naming the key and its first line")
  func duplicateKey() throws {
    #expect(error("mode: auto\nblock: [192.0.2.1]\nblock: [192.0.2.2]\n")
      == .duplicateKey(source: Self.source, line: 2, key: "block"))
  }

  @Test("Bytes that are not UTF-8 name their line")
  func notUTF8() throws {
    let bytes = Array("block:\n  - 192.0.2.1\n  - ".utf8) + [0xFF, 0xFE] + Array("\n".utf8)
    #expect(throws: BlocklistFileError.notUTF8(source: "x.yaml", line: 3)) {
      try BlocklistFile(bytes: bytes, source: "x.yaml")
    }
  }

  @Test("A control character names its line")
  func controlCharacter() throws {
    #expect(syntaxErrorLine("block:\n  - 192.0.2.1\n  - 192.0.2.2\u{07}\n") == 3)
  }

  @Test("An unreadable file carries the read error: a missing file, a directory")
  func unreadable() throws {
    let directory = try TemporaryDirectory()
    let missing = directory.path + "/absent.yaml"
    #expect(throws: BlocklistFileError.unreadable(.noSuchFile(path: missing))) {
      try BlocklistFile(contentsOf: missing)
    }
    #expect(throws: BlocklistFileError.unreadable(.isDirectory(path: directory.path))) {
      try BlocklistFile(contentsOf: directory.path)
    }
    let error = BlocklistFileError.unreadable(.noSuchFile(path: missing))
    #expect(error.line == nil)
    #expect(error.source == missing)
    #expect(error.description == "cannot read blocklist file \(missing): no such file")
  }
}

/// A directory under the temporary directory, removed with everything in it on deinit.
final class TemporaryDirectory {
  let path: String

  init() throws {
    // No "//" in the path: errors that name a checked component name it normalised.
    var template = Array((NSTemporaryDirectory() as NSString).appendingPathComponent("xdp-block-test-XXXXXX").utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw CocoaError(.fileWriteUnknown)
    }
    path = String(cString: made)
  }

  deinit {
    try? FileManager.default.removeItem(atPath: path)
  }
}
