import Foundation
import Testing
import XDPKitTestSupport

/// The command-line tools' texts: help written as paragraphs (the argument parser wraps them
/// to the terminal), errors in one format.
@Suite("CLI text")
struct CLITextTests {
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// Every line of a multi-line `discussion:` or `help:` literal in `directory` that ends
  /// without `\` while the next line of the same paragraph goes on: a hard wrap.
  static func hardWrappedLines(in directory: String) throws -> [String] {
    let folder = packageRoot.appendingPathComponent(directory)
    var found: [String] = []
    for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".swift") {
      let lines = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
        .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      var index = 0
      while index < lines.count {
        let line = lines[index]
        let opens = line.hasSuffix("\"\"\"") && (line.contains("discussion:") || line.contains("help:") || line.contains("abstract:"))
        index += 1
        guard opens else { continue }
        while index + 1 < lines.count, !lines[index].contains("\"\"\"") {
          let current = lines[index].trimmingCharacters(in: .whitespaces)
          let next = lines[index + 1].trimmingCharacters(in: .whitespaces)
          if !current.isEmpty, !next.isEmpty, !next.hasPrefix("\"\"\""), !current.hasSuffix("\\") {
            found.append("\(directory)/\(file):\(index + 1): \(current)")
          }
          index += 1
        }
      }
    }
    return found
  }

  @Test("help and discussion texts of xdpkit and xdp-block are paragraphs, not hard-wrapped lines",
        arguments: ["Sources/xdpkit", "Examples/xdp-block/Sources/xdp-block"])
  func paragraphs(directory: String) throws {
    #expect(try Self.hardWrappedLines(in: directory) == [])
  }

  @Test("xdpkit load --help: a paragraph of the discussion reaches the reader whole, wrapped by the parser")
  func loadHelp() throws {
    let help = try Command.run(PrivilegeTests.toolPath(), ["load", "--help"], timeout: .seconds(60))
    let text = help.standardOutput.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    #expect(text.contains("or the error with the verifier log. Exits non-zero when anything failed to load."))
    // The parser wraps at its width; the source's line breaks do not show.
    #expect(!help.standardOutput.contains("the\nverifier log"))
  }

  @Test("errors: `error: <what>: <why>` and a hint where there is a known fix, in both tools")
  func errors() throws {
    let missing = try Command.run(PrivilegeTests.toolPath(), ["btf", "dump", "/nonexistent/x.o"], timeout: .seconds(60))
    #expect(missing.status == 1)
    #expect(missing.standardError == "error: cannot read /nonexistent/x.o: no such file\n")
    let source = TestFixtures.directory.appendingPathComponent("btf_dump.c").path
    let notBTF = try Command.run(PrivilegeTests.toolPath(), ["btf", "dump", source], timeout: .seconds(60))
    #expect(notBTF.standardError == "error: \(source): neither BTF nor an ELF object (it starts with 2f 2f 20 53)\n")
    let usage = try Command.run(PrivilegeTests.toolPath(), ["btf", "dump"], timeout: .seconds(60))
    #expect(usage.standardError == "error: Missing expected argument '<source>'\nhint: `xdpkit btf dump --help` shows the usage\n")
    let json = try Command.run(PrivilegeTests.toolPath(), ["btf", "dump", source, "--format", "c", "--json"], timeout: .seconds(60))
    #expect(json.standardError == "error: --json prints the raw form; leave out --format c\nhint: `xdpkit btf dump --help` shows the usage\n")
  }
}
