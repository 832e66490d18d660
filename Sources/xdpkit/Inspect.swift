import ArgumentParser
import Foundation
import XDPKit

/// `xdpkit inspect FILE [--json]`: what a BPF object contains, without loading it.
struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show the programs, maps, global data, relocations and BTF of a BPF object.")

  @Argument(help: "The BPF object file (clang -target bpf -c).")
  var file: String

  @Flag(help: "Print JSON instead of text.")
  var json = false

  func run() throws {
    let object = try readObject(file)
    let report = ObjectReport(object)
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      print(String(decoding: try encoder.encode(report), as: UTF8.self))
    } else {
      print(report.text(file: file), terminator: "")
    }
  }
}

/// Reads and parses the object at `path`; errors name the file and say what is wrong with it
/// ("no such file", "is a directory", "not a regular file (character device)", or the
/// reader's error).
func readObject(_ path: String) throws -> BPFObject {
  let bytes: [UInt8]
  do { bytes = try FileContents.read(path: path) } catch {
    throw ToolError("cannot read \(path): \(error.reason)")
  }
  do { return try BPFObject(bytes: bytes) } catch {
    throw ToolError("\(path): not a BPF object xdpkit can read: \(error)")
  }
}
