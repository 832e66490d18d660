import ArgumentParser
import Foundation
import XDPKit
import XDPKitGenerator

extension ObjectGenerator.AccessLevel: ExpressibleByArgument {}

/// `xdpkit generate FILE [--type-name NAME] [--access-level public|internal] [--type C-TYPE]… [--output FILE]`:
/// typed Swift for a BPF object, from its BTF.
struct Generate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write typed Swift for a BPF object: its C types, a Config for .rodata, and typed maps, programs and globals.")

  @Argument(help: "The BPF object file (clang -g -target bpf -c).")
  var file: String

  @Option(help: "The generated type's name (default: from the file name, xdp_firewall.o → XDPFirewall).")
  var typeName: String?

  @Option(help: "The access level of the generated declarations.")
  var accessLevel: ObjectGenerator.AccessLevel = .public

  @Option(name: .customLong("type"), help: ArgumentHelp(
    "Also declare this C type (drop_event, struct drop_event), for records no map or global reaches; repeatable.",
    valueName: "name"))
  var types: [String] = []

  @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
  var output: String?

  func run() throws {
    let bytes: [UInt8]
    do { bytes = try FileContents.read(path: file) } catch {
      throw ToolError("cannot read \(file): \(error.reason)")
    }
    var generator: ObjectGenerator
    do {
      generator = try ObjectGenerator(bytes: bytes, fileName: URL(fileURLWithPath: file).lastPathComponent,
                                      typeName: typeName, accessLevel: accessLevel)
    } catch {
      throw ToolError("\(file): not a BPF object xdpkit can read: \(error)")
    }
    generator.extraTypes = types
    let text: String
    do { text = try generator.generate() } catch {
      throw ToolError("\(file): cannot generate Swift: \(error)")
    }
    if let output {
      do { try text.write(toFile: output, atomically: true, encoding: .utf8) } catch {
        throw ToolError("cannot write \(output): \(error.localizedDescription)")
      }
    } else {
      print(text, terminator: "")
    }
  }
}
