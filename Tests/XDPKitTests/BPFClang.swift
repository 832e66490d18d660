import Foundation
import XDPKitTestSupport

/// The BPF clang the build plugin uses ($BPF_CLANG, the toolchain's, /usr/bin's), for tests
/// that compile C of their own.
enum BPFClang {
  /// Compiles `source` with `flags` (`-c` and the output are added) in a temporary directory
  /// that is removed again; returns clang's result and, when it succeeded, the object's bytes.
  static func compile(_ source: String, flags: [String]) throws -> (result: CommandResult, object: [UInt8]?) {
    var candidates = ["/opt/swift/usr/bin/clang", "/usr/bin/clang"]
    if let explicit = ProcessInfo.processInfo.environment["BPF_CLANG"] { candidates.insert(explicit, at: 0) }
    let clang = try Command.locate("clang with the BPF target", candidates: candidates)
    let token = UUID().uuidString
    let sourceFile = FileManager.default.temporaryDirectory.appendingPathComponent("xdpkit-clang-\(token).c")
    let objectFile = FileManager.default.temporaryDirectory.appendingPathComponent("xdpkit-clang-\(token).o")
    defer {
      try? FileManager.default.removeItem(at: sourceFile)
      try? FileManager.default.removeItem(at: objectFile)
    }
    try source.write(to: sourceFile, atomically: true, encoding: .utf8)
    let result = try Command.run(clang, flags + ["-c", sourceFile.path, "-o", objectFile.path], timeout: .seconds(60))
    let object = result.succeeded ? (try? Data(contentsOf: objectFile)).map { [UInt8]($0) } : nil
    return (result, object)
  }
}
