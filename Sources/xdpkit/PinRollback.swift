import Glibc
import XDPKit

/// What one `xdpkit load --pin` run pinned, and the directories it made, taken back when the
/// run fails: its own pins by name, then each directory it made, deepest first, if it is
/// empty. Pins another run added meanwhile, and the directories holding them, stay.
struct PinRollback {
  /// The directories of the pin path (and its `maps`) that did not exist before the run,
  /// outermost first.
  var missingDirectories: [String]
  /// The pins this run made, in its directories.
  var created: [(directory: BPFFSDirectory, name: String)] = []
  /// Whether the run succeeded, so that nothing is taken back.
  private var kept = false

  init(missingDirectories: [String]) {
    self.missingDirectories = missingDirectories
  }

  /// The run succeeded: keep everything.
  mutating func keep() { kept = true }

  /// Unless the run succeeded, removes its pins and then its directories that are empty.
  func rollBack() {
    guard !kept else { return }
    for (directory, name) in created.reversed() { _ = try? directory.remove(name) }
    for path in missingDirectories.reversed() {
      // Removes only an empty directory (unlinkat with AT_REMOVEDIR), never one another run filled.
      guard let (parent, name) = try? BPFFSDirectory.split(path) else { continue }
      _ = try? BPFFSDirectory.open(parent).remove(name)
    }
  }

  /// The components of the absolute `path` that do not exist yet (lstat, not following a
  /// symbolic link): all of them from the first missing one on, outermost first.
  static func missingDirectories(of path: String) -> [String] {
    var missing: [String] = []
    var prefix = ""
    for component in path.split(separator: "/") {
      prefix += "/" + component
      var info = stat()
      if !missing.isEmpty || lstat(prefix, &info) != 0 { missing.append(prefix) }
    }
    return missing
  }
}
