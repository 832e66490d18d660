import Foundation
import XDPKit
import XDPKitSys
import XDPKitTestSupport

/// bpftool (libbpf's loader), driven by the xlated differential test.
enum Bpftool {
  /// Where Debian, Ubuntu and hand installs put it.
  static let candidates = ["/usr/sbin/bpftool", "/sbin/bpftool", "/usr/bin/bpftool", "/usr/local/sbin/bpftool"]

  /// bpftool's path, or `nil` when it is not installed.
  static var path: String? { candidates.first { FileManager.default.isExecutableFile(atPath: $0) } }

  /// `bpftool prog loadall object <directory>/programs`, with each of `reusedMaps` taken from
  /// the map pinned at `<directory>/map-<name>` instead of created. No `type`: every fixture's
  /// section names say the program type to libbpf as well.
  ///
  /// bpftool runs in a mount namespace of its own with a fresh bpffs over /sys/fs/bpf, so
  /// that libbpf's pin-by-name maps (pinned under /sys/fs/bpf by default) land in a throwaway
  /// file system and never touch the host's pins; `directory` (on the host's bpffs) is
  /// bind-mounted into that namespace for the program pins. The programs outlive the
  /// namespace through those pins.
  static func loadAll(
    bpftool: String, object: String, directory: String, reusedMaps: [String]
  ) throws -> CommandResult {
    let mountPoint = FileManager.default.temporaryDirectory
      .appendingPathComponent("xdpkit-bpftool-\(getpid())-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(atPath: mountPoint) }
    var command = ["\"$1\"", "prog", "loadall", "\"$2\"", "\"$4/programs\""]
    for name in reusedMaps { command += ["map", "name", name, "pinned", "\"$4/map-\(name)\""] }
    let script = "mount --bind \"$3\" \"$4\" && mount -t bpf bpf /sys/fs/bpf && " + command.joined(separator: " ")
    let unshare = try Command.locate("unshare", candidates: ["/usr/bin/unshare", "/bin/unshare"])
    return try Command.run(
      unshare, ["--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh",
                bpftool, object, directory, mountPoint],
      timeout: .seconds(60))
  }
}

/// One instruction of a loaded program, with what legitimately differs between two loads of
/// the same object taken out: a map's id in a 64-bit immediate load becomes the map's name.
struct XlatedInstruction: Equatable, CustomStringConvertible {
  var instruction: BPFInstruction
  /// The map a `ld_imm64` of a map or map value refers to; its id is zeroed in ``instruction``.
  var map: String?

  var description: String {
    map.map { "\(instruction) map=\($0)" } ?? instruction.description
  }

  /// The xlated instructions of `program`, with map ids replaced by map names.
  ///
  /// Names are compared without libbpf's object-name prefix for data section maps
  /// (`globals.rodata` and `.rodata` are the same map): that prefix is a naming convention,
  /// not part of the code.
  static func of(_ program: BPFFileDescriptor, names: inout [UInt32: String]) throws -> [XlatedInstruction] {
    let instructions = try BPF.translatedInstructions(program)
    var result: [XlatedInstruction] = []
    var previousWasMapLoad = false
    for var instruction in instructions {
      defer { previousWasMapLoad = false }
      if previousWasMapLoad {
        result.append(XlatedInstruction(instruction: instruction))
        continue
      }
      guard instruction.isLoadImmediate64,
            instruction.source == BPFInstruction.pseudoMapFD || instruction.source == BPFInstruction.pseudoMapValue
      else {
        result.append(XlatedInstruction(instruction: instruction))
        continue
      }
      let id = UInt32(bitPattern: instruction.immediate)
      let name: String
      if let known = names[id] {
        name = known
      } else {
        let fd = try BPF.openMap(id: id)
        name = canonicalMapName(try BPF.mapInfo(fd).name)
        names[id] = name
      }
      instruction.immediate = 0
      result.append(XlatedInstruction(instruction: instruction, map: name))
      previousWasMapLoad = true
    }
    return result
  }

  /// `.rodata` for libbpf's `<object>.rodata` (and `.data`, `.bss`, `.kconfig`, `.rodata.str1.1`…).
  static func canonicalMapName(_ name: String) -> String {
    guard let dot = name.firstIndex(of: "."), dot != name.startIndex else { return name }
    let suffix = String(name[dot...])
    let sections = [".data", ".rodata", ".bss", ".kconfig"]
    return sections.contains(where: { suffix == $0 || suffix.hasPrefix($0 + ".") }) ? suffix : name
  }

  /// A short account of where `a` and `b` first differ, with a few instructions around it.
  static func difference(_ a: [XlatedInstruction], _ b: [XlatedInstruction]) -> String? {
    guard a != b else { return nil }
    let first = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
    var lines = ["\(a.count) vs \(b.count) instructions; first difference at #\(first)"]
    for i in max(0, first - 2)..<min(max(a.count, b.count), first + 4) {
      let left = i < a.count ? a[i].description : "-"
      let right = i < b.count ? b[i].description : "-"
      lines.append("  #\(i) XDPKit:  \(left)\n  #\(i) bpftool: \(right)")
    }
    return lines.joined(separator: "\n")
  }
}

/// Byte surgery on a BPF ELF object for the differential test.
enum ELFSymbols {
  /// `bytes` with the `STT_FUNC` symbols named in `names` turned into `STT_NOTYPE`.
  ///
  /// libbpf makes a program of every function symbol in a program section and loads all or
  /// nothing; it ignores code (and relocation records) that no function symbol covers. Hiding
  /// a program that must fail on this kernel (by design of its fixture) lets bpftool load the
  /// others, whose instructions do not change.
  static func hidingFunctions(_ names: Set<String>, in bytes: [UInt8]) throws -> [UInt8] {
    var bytes = bytes
    func read(_ offset: Int, _ size: Int) -> Int {
      (0..<size).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
    }
    let sectionHeaders = read(0x28, 8), headerSize = read(0x3a, 2), count = read(0x3c, 2)
    func header(_ index: Int) -> Int { sectionHeaders + index * headerSize }
    var hidden: Set<String> = []
    for index in 0..<count where read(header(index) + 4, 4) == 2 {  // SHT_SYMTAB
      let symbols = read(header(index) + 24, 8), size = read(header(index) + 32, 8)
      let strings = read(header(read(header(index) + 40, 4)) + 24, 8)
      for symbol in stride(from: symbols, to: symbols + size, by: 24) {
        let info = bytes[symbol + 4]
        guard info & 0x0f == 2 else { continue }  // STT_FUNC
        var end = strings + read(symbol, 4)
        let start = end
        while bytes[end] != 0 { end += 1 }
        let name = String(decoding: bytes[start..<end], as: UTF8.self)
        if names.contains(name) {
          bytes[symbol + 4] = info & 0xf0  // same binding, STT_NOTYPE
          hidden.insert(name)
        }
      }
    }
    guard hidden == names else {
      throw DifferentialTestError("no function symbols \(names.subtracting(hidden).sorted()) in the object")
    }
    return bytes
  }
}

/// A failure of the differential test's own set-up, with what went wrong.
struct DifferentialTestError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
