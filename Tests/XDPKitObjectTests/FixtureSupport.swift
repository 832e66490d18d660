// Locating the committed fixture objects. They live next to this file in Fixtures/ (with the C
// sources and build.sh that produce them); SwiftPM excludes the folder from the target, so the
// tests find it through #filePath rather than Bundle.module.

import Foundation

/// The folder holding the fixture `.c` sources and `.o` objects.
let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .appendingPathComponent("Fixtures")

/// Every fixture object's name, without the `.o`.
let allFixtureNames = [
  "xdp_pass", "blocklist_btf", "blocklist_legacy", "legacy_long", "globals", "calls",
  "map_in_map", "multi_prog", "extern", "extern_ksym",
]

/// A fixture that could not be read.
struct FixtureError: Error, CustomStringConvertible {
  var description: String
}

/// The path of `Fixtures/<name>.o`.
func fixturePath(_ name: String) -> String {
  fixturesDirectory.appendingPathComponent(name + ".o").path
}

/// The bytes of `Fixtures/<name>.o`.
func fixtureBytes(_ name: String) throws -> [UInt8] {
  guard let data = FileManager.default.contents(atPath: fixturePath(name)) else {
    throw FixtureError(description: "cannot read fixture \(fixturePath(name))")
  }
  return [UInt8](data)
}
