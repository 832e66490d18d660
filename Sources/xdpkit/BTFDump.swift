import ArgumentParser
import Foundation
import XDPKit

/// `xdpkit btf dump ID|FILE`.
struct BTFCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "btf", abstract: "Dump BTF: the kernel's, a loaded object's, or a file's.", subcommands: [BTFDump.self])
}

/// `xdpkit btf dump ID|FILE [--format raw|c] [--json]`: the types of BTF the kernel holds (by
/// BTF id, as `prog show` and `map list` print it) or of a file (raw BTF such as
/// `/sys/kernel/btf/vmlinux`, or an ELF object's `.BTF` section), one line per type id or as C.
struct BTFDump: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dump", abstract: "Print BTF types, one per line or as C declarations.",
    discussion: """
      The BTF is the kernel's BTF object with the given id (see `xdpkit prog show` and `xdpkit map list`), \
      or a file: raw BTF such as /sys/kernel/btf/vmlinux, or an ELF object whose .BTF section is read. \
      A module's BTF (/sys/kernel/btf/MODULE, or a kernel BTF id of a module) is split BTF: it is read on top of \
      the kernel's, and only the module's types are printed.

      The raw format prints one entry per type id: its kind, name and fields, then one indented line per member, \
      value or parameter. The C format prints typedefs, structs, unions, enums, forward declarations and function \
      prototypes in an order that compiles; --no-functions leaves the prototypes out (kernel BTF has C library \
      names such as memcpy among its functions).
      """)

  enum Format: String, ExpressibleByArgument, CaseIterable {
    case raw, c
  }

  @Argument(help: "A kernel BTF id, or a file: raw BTF or a BPF object.") var source: String
  @Option(help: "raw: one entry per type id; c: C declarations.") var format: Format = .raw
  @Option(help: "The base of split BTF in a file (default: the kernel's for /sys/kernel/btf/MODULE).")
  var base: String?
  @Flag(inversion: .prefixedNo, help: "With --format c, write a prototype for each function.") var functions = true
  @Flag(help: "Print the types as JSON (the raw form).") var json = false

  func validate() throws {
    if json && format == .c { throw ValidationError("--json prints the raw form; leave out --format c") }
  }

  func run() throws {
    let (btf, firstID) = try Self.read(source, base: base)
    if json { return try Inventory.printJSON((Int(firstID)..<btf.types.count).map { BTFTypeSummary(btf, BTFTypeID($0)) }) }
    switch format {
    case .raw: print(btf.rawDump(from: firstID), terminator: "")
    case .c: print(btf.cDeclarations(from: firstID, functions: functions), terminator: "")
    }
  }

  /// The BTF `source` names and the first type id to print (past the base of split BTF).
  static func read(_ source: String, base: String?) throws -> (BTF, BTFTypeID) {
    if let id = UInt32(source) { return try kernelBTF(id: id) }
    let bytes: [UInt8]
    do { bytes = try FileContents.read(path: source) } catch { throw ToolError("cannot read \(source): \(error.reason)") }
    if bytes.starts(with: [0x7F, 0x45, 0x4C, 0x46]) {
      let section: ArraySlice<UInt8>
      do {
        let elf = try ELFFile(bytes: bytes)
        guard let btf = elf.section(named: ".BTF"), !btf.isNoBits else {
          throw ToolError("\(source): no .BTF section", hint: "compile with -g to have clang write BTF")
        }
        section = elf.contents(of: btf)
      } catch let error as ToolError { throw error } catch {
        throw ToolError("\(source): not an ELF file xdpkit can read: \(error)")
      }
      do { return (try BTF(bytes: section), 1) } catch { throw ToolError("\(source): .BTF section: \(error)") }
    }
    guard bytes.starts(with: [0x9F, 0xEB]) else {
      let start = bytes.prefix(4).map { String(format: "%02x", $0) }.joined(separator: " ")
      throw ToolError("\(source): neither BTF nor an ELF object (" + (bytes.isEmpty ? "empty" : "it starts with \(start)") + ")")
    }
    let basePath = base ?? Self.defaultBase(for: source)
    guard let basePath else {
      do { return (try BTF(bytes: bytes), 1) } catch {
        throw ToolError("\(source): \(error)", hint: "if it is split BTF (a module's), give its base: --base /sys/kernel/btf/vmlinux")
      }
    }
    let baseBTF: BTF
    do { baseBTF = try KernelBTF.load(path: basePath).btf } catch { throw ToolError("base BTF \(basePath): \(error)") }
    do { return (try BTF(splitBytes: bytes, base: baseBTF), BTFTypeID(baseBTF.types.count)) } catch {
      throw ToolError("\(source): not split BTF on top of \(basePath): \(error)")
    }
  }

  /// A module's BTF under /sys/kernel/btf is split BTF on top of vmlinux.
  static func defaultBase(for path: String) -> String? {
    let url = URL(fileURLWithPath: path).standardizedFileURL
    guard url.deletingLastPathComponent().path == "/sys/kernel/btf", url.lastPathComponent != "vmlinux" else { return nil }
    return KernelBTF.vmlinuxPath
  }

  /// The kernel's BTF object `id`; a module's on top of vmlinux.
  static func kernelBTF(id: UInt32) throws -> (BTF, BTFTypeID) {
    let info: BTFInfo
    let bytes: [UInt8]
    do {
      let fd = try BPF.openBTF(id: id)
      info = try BPF.btfInfo(fd)
      bytes = try BPF.btfBytes(fd)
    } catch where error.errno == .noSuchFileOrDirectory {
      throw ToolError("BTF id \(id): no such BTF object", hint: "`xdpkit prog show` and `xdpkit map list` print BTF ids")
    } catch {
      throw ToolError("BTF id \(id): \(error)", hint: Inventory.rootHint)
    }
    if info.isKernelBTF && info.name != "vmlinux" {
      let base: BTF
      do { base = try KernelBTF.load().btf } catch { throw ToolError("BTF id \(id) (\(info.name)): its base: \(error)") }
      do { return (try BTF(splitBytes: bytes, base: base), BTFTypeID(base.types.count)) } catch {
        throw ToolError("BTF id \(id) (\(info.name)): \(error)")
      }
    }
    do { return (try BTF(bytes: bytes), 1) } catch { throw ToolError("BTF id \(id): \(error)") }
  }
}

/// One type in `btf dump --json`: its id, kind and name, and the fields of its kind.
struct BTFTypeSummary: Encodable {
  struct Item: Encodable {
    var name: String?
    var type: UInt32?
    var bitOffset: UInt32?
    var bitfieldSize: UInt8?
    var value: Int64?
    var unsignedValue: UInt64?
    var offset: UInt32?
    var size: UInt32?
  }

  var id: UInt32
  var kind: String
  var name: String?
  var size: UInt32?
  var type: UInt32?
  var bits: UInt8?
  var bitOffset: UInt8?
  var encoding: [String]?
  var elementType: UInt32?
  var indexType: UInt32?
  var count: UInt32?
  var signed: Bool?
  var forwardKind: String?
  var linkage: String?
  var component: Int32?
  var items: [Item]?

  init(_ btf: BTF, _ id: BTFTypeID) {
    let type = btf.types[Int(id)]
    self.id = id
    kind = type.kind.description
    name = type.name
    switch type.body {
    case .void: break
    case .int(let info):
      size = info.size
      bits = info.bits
      bitOffset = info.offset
      encoding = [(BTFType.IntegerEncoding.signed, "signed"), (.char, "char"), (.bool, "bool")]
        .filter { info.encoding.contains($0.0) }.map(\.1)
    case .pointer(let target), .typedef(let target), .volatile(let target), .const(let target), .restrict(let target),
      .typeTag(let target):
      self.type = target
    case .array(let info):
      elementType = info.elementType
      indexType = info.indexType
      count = info.count
    case .struct(let size, let members), .union(let size, let members):
      self.size = size
      items = members.map { Item(name: $0.name, type: $0.type, bitOffset: $0.bitOffset, bitfieldSize: $0.bitfieldSize) }
    case .enum(let size, let values):
      self.size = size
      signed = type.kindFlag
      items = values.map {
        type.kindFlag ? Item(name: $0.name, value: Int64($0.value)) : Item(name: $0.name, unsignedValue: UInt64($0.unsignedValue))
      }
    case .enum64(let size, let values):
      self.size = size
      signed = type.kindFlag
      items = values.map { type.kindFlag ? Item(name: $0.name, value: $0.signedValue) : Item(name: $0.name, unsignedValue: $0.value) }
    case .forward: forwardKind = type.forwardKind == .union ? "union" : "struct"
    case .function(let prototype, let linkage):
      self.type = prototype
      self.linkage = linkage.description
    case .functionPrototype(let returnType, let parameters):
      self.type = returnType
      items = parameters.map { Item(name: $0.name, type: $0.type) }
    case .variable(let variableType, let linkage):
      self.type = variableType
      self.linkage = linkage.description
    case .dataSection(let size, let entries):
      self.size = size
      items = entries.map { Item(type: $0.type, offset: $0.offset, size: $0.size) }
    case .float(let size): self.size = size
    case .declarationTag(let tagged, let component):
      self.type = tagged
      self.component = component
    }
  }
}
