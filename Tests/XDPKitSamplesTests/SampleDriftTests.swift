import Foundation
import Testing

/// Every Swift code block in README.md, Documentation/ and the DocC catalog is a sample that this
/// target compiles: the block is marked `<!-- sample: NAME -->` on the line before its fence,
/// and a file under Samples/ holds the same lines between `// sample: NAME` and `// sample: end`
/// (indentation removed). These tests fail on any drift between the two, on an unmarked Swift
/// block and on a sample that no document shows.
@Suite("Documentation samples match the compiled files")
struct SampleDriftTests {
  @Test("every Swift block in the documentation is marked and equals its compiled sample")
  func blocksEqualSamples() throws {
    let samples = try SampleSources.load()
    let blocks = try DocumentationBlocks.load()
    #expect(!blocks.isEmpty)
    for block in blocks {
      guard let name = block.sample else {
        Issue.record("\(block.location): a Swift block without a <!-- sample: NAME --> marker")
        continue
      }
      guard let sample = samples[name] else {
        Issue.record("\(block.location): sample \(name) is in no file under Tests/XDPKitSamplesTests/Samples")
        continue
      }
      #expect(block.lines == sample.lines, "\(block.location) differs from \(sample.location)")
    }
    let shown = Set(blocks.compactMap(\.sample))
    for name in samples.keys.sorted() where !shown.contains(name) {
      Issue.record("sample \(name) (\(samples[name]!.location)) is shown by no document")
    }
  }

  @Test("the extraction finds the README's quick start")
  func readmeQuickStart() throws {
    let blocks = try DocumentationBlocks.load().filter { $0.file == "README.md" }
    #expect(blocks.map(\.sample) == ["QuickStart"])
    #expect(blocks.first?.lines.first?.hasPrefix("// BPF/xdp_firewall.c") == true)
  }

  @Test("a block is taken between its fences, and a marker names it only on the line before")
  func extraction() {
    let text = """
      Text.
      <!-- sample: One -->
      ```swift
      let a = 1
        let b = 2
      ```

      ```swift
      let c = 3
      ```
      ```sh
      ls
      ```
      """
    let blocks = DocumentationBlocks.blocks(in: text, file: "X.md")
    #expect(blocks.map(\.sample) == ["One", nil])
    #expect(blocks.map(\.lines) == [["let a = 1", "  let b = 2"], ["let c = 3"]])
    #expect(blocks.map(\.line) == [3, 8])
  }

  @Test("a sample's lines lose their common indentation, and an unterminated sample is an error")
  func sampleExtraction() throws {
    let text = """
      func f() {
        // sample: Two
        let a = 1
        if a > 0 {
          print(a)
        }
        // sample: end
      }
      """
    let samples = try SampleSources.samples(in: text, file: "F.swift")
    #expect(samples["Two"]?.lines == ["let a = 1", "if a > 0 {", "  print(a)", "}"])
    #expect(throws: SampleSources.Malformed.self) {
      try SampleSources.samples(in: "// sample: Three\nlet x = 1\n", file: "G.swift")
    }
    let parts = "// sample: Four\nimport A\n// sample: end\nfunc f() {\n  // sample: Four\n  let a = 1\n  // sample: end\n  hidden()\n  // sample: Four\n  let b = a\n  // sample: end\n}\n"
    #expect(try SampleSources.samples(in: parts, file: "H.swift")["Four"]?.lines == ["import A", "let a = 1", "let b = a"])
  }
}

/// The repository's root, found from this file's path.
enum Repository {
  static let root: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// The Markdown files whose Swift blocks must be samples: README.md, Documentation/*.md and
  /// the XDPKit DocC catalog's articles, relative to the root.
  static func documents() throws -> [String] {
    let manager = FileManager.default
    var files = ["README.md"]
    for directory in ["Documentation", "Sources/XDPKit/Documentation.docc"] {
      let names = try manager.contentsOfDirectory(atPath: root.appending(path: directory).path)
      files += names.filter { $0.hasSuffix(".md") }.sorted().map { "\(directory)/\($0)" }
    }
    return files
  }
}

/// A fenced Swift code block of a Markdown file.
struct DocumentationBlock {
  var file: String
  /// The 1-based line of the opening fence.
  var line: Int
  /// The name from a `<!-- sample: NAME -->` marker on the line before the fence.
  var sample: String?
  var lines: [String]
  var location: String { "\(file):\(line)" }
}

enum DocumentationBlocks {
  static func load() throws -> [DocumentationBlock] {
    try Repository.documents().flatMap { file in
      blocks(in: try String(contentsOf: Repository.root.appending(path: file), encoding: .utf8), file: file)
    }
  }

  /// The ```swift blocks of `text`; other fenced blocks are skipped whole.
  static func blocks(in text: String, file: String) -> [DocumentationBlock] {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var result: [DocumentationBlock] = []
    var index = 0
    while index < lines.count {
      let fence = lines[index].trimmingCharacters(in: .whitespaces)
      guard fence.hasPrefix("```") else { index += 1; continue }
      let isSwift = fence.dropFirst(3).trimmingCharacters(in: .whitespaces) == "swift"
      var end = index + 1
      while end < lines.count, !lines[end].trimmingCharacters(in: .whitespaces).hasPrefix("```") { end += 1 }
      if isSwift {
        let marker = index > 0 ? sampleName(inMarker: lines[index - 1]) : nil
        result.append(DocumentationBlock(
          file: file, line: index + 1, sample: marker, lines: Array(lines[(index + 1)..<min(end, lines.count)])))
      }
      index = end + 1
    }
    return result
  }

  /// `NAME` of a `<!-- sample: NAME -->` line.
  static func sampleName(inMarker line: String) -> String? {
    let trimmed = line.trimmingCharacters(in: .whitespaces)
    guard trimmed.hasPrefix("<!-- sample:"), trimmed.hasSuffix("-->") else { return nil }
    return trimmed.dropFirst("<!-- sample:".count).dropLast("-->".count).trimmingCharacters(in: .whitespaces)
  }
}

/// The samples marked in the Swift files under Samples/.
struct SampleSource {
  var location: String
  var lines: [String]
}

enum SampleSources {
  struct Malformed: Error, CustomStringConvertible {
    var description: String
  }

  static let directory = "Tests/XDPKitSamplesTests/Samples"
  /// A package manifest whose samples ManifestSampleTests evaluates with `swift package dump-package`.
  static let manifest = "Tests/XDPKitSamplesTests/Manifest/Package.swift"

  static func load() throws -> [String: SampleSource] {
    let url = Repository.root.appending(path: directory)
    var all: [String: SampleSource] = [:]
    let files = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
      .filter { $0.hasSuffix(".swift") }.map { "\(directory)/\($0)" } + [manifest]
    for file in files {
      let text = try String(contentsOf: Repository.root.appending(path: file), encoding: .utf8)
      for (sample, source) in try samples(in: text, file: file) {
        if let earlier = all[sample] {
          throw Malformed(description: "sample \(sample) is in both \(earlier.location) and \(source.location)")
        }
        all[sample] = source
      }
    }
    return all
  }

  /// The samples of one file: the lines between `// sample: NAME` and `// sample: end`, with
  /// the indentation they share removed. A name that appears again continues its sample (each
  /// part loses its own indentation), so that code the document does not show (a test's
  /// traffic, the function around it) can sit between two parts.
  static func samples(in text: String, file: String) throws(Malformed) -> [String: SampleSource] {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var parts: [String: (line: Int, parts: [[String]])] = [:]
    var open: (name: String, line: Int)?
    for (index, line) in lines.enumerated() {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.hasPrefix("// sample:") {
        let name = trimmed.dropFirst("// sample:".count).trimmingCharacters(in: .whitespaces)
        if name == "end" {
          guard open != nil else { throw Malformed(description: "\(file):\(index + 1): an end without a sample") }
          open = nil
        } else {
          if let started = open {
            throw Malformed(description: "\(file):\(index + 1): sample \(name) starts inside \(started.name)")
          }
          open = (name, index + 1)
          parts[name, default: (index + 1, [])].parts.append([])
        }
      } else if let started = open {
        parts[started.name]!.parts[parts[started.name]!.parts.count - 1].append(line)
      }
    }
    if let started = open { throw Malformed(description: "\(file):\(started.line): sample \(started.name) has no end") }
    return parts.mapValues { SampleSource(location: "\(file):\($0.line)", lines: $0.parts.flatMap(dedented)) }
  }

  static func dedented(_ lines: [String]) -> [String] {
    let indents = lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
      .map { $0.prefix { $0 == " " }.count }
    let common = indents.min() ?? 0
    return lines.map { $0.trimmingCharacters(in: .whitespaces).isEmpty ? "" : String($0.dropFirst(common)) }
  }
}
