import Foundation
import Testing
import XDPKitTestSupport

/// The manifest sample of WritingPrograms.md ("In your package") cannot compile inside a test
/// target: it is PackageDescription. Manifest/Package.swift holds it in a whole manifest, which
/// SwiftPM evaluates here; SampleDriftTests checks the article shows it verbatim.
@Suite("The manifest sample is a manifest SwiftPM accepts")
struct ManifestSampleTests {
  @Test("swift package dump-package reads it: the plugin on MyFilters, XDPKit by URL")
  func manifestEvaluates() throws {
    let swift = try Command.locate("swift", candidates: Self.swiftCandidates())
    let directory = FileManager.default.temporaryDirectory.appending(path: "xdpkit-manifest-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try FileManager.default.copyItem(
      at: Repository.root.appending(path: SampleSources.manifest), to: directory.appending(path: "Package.swift"))

    let result = try Command.run(
      swift, ["package", "--package-path", directory.path, "dump-package"], timeout: .seconds(120))
    #expect(result.status == 0, "\(result.standardError)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    let targets = try #require(json["targets"] as? [[String: Any]])
    #expect(targets.compactMap { $0["name"] as? String } == ["MyFilters", "my-service"])
    let plugins = (targets.first?["pluginUsages"] as? [[String: Any]]) ?? []
    #expect("\(plugins)".contains("BPFCompilerPlugin"))
    #expect(targets.first?["exclude"] as? [String] == ["BPF"])
  }

  /// `swift` next to the running toolchain's, then on PATH.
  static func swiftCandidates() -> [String] {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    return ["/opt/swift/usr/bin/swift"] + path.split(separator: ":").map { "\($0)/swift" }
  }
}
