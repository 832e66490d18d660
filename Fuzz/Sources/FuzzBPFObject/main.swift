// libFuzzer target over the BPF object reader: every input is handed to `BPFObject(bytes:)`,
// which runs the ELF reader, the program/map/data/relocation classification, and the `.BTF`
// and `.BTF.ext` parsers. When an input parses, the derived values are walked as a user would
// walk them, so the code behind them runs on fuzzed data too.
//
// The reader promises to throw on malformed input and never trap: any trap, and any memory
// error AddressSanitizer sees, is a finding.
//
// The executable keeps its own `main` (this file) and hands control to libFuzzer through
// LLVMFuzzerRunDriver, so that SwiftPM's executable conventions stay untouched. See README.md.

import CFuzzerDriver
import Glibc
import XDPKitObject

/// Walks everything derived from a parsed object. Returns a value that depends on what was
/// read, so that the optimizer cannot drop the work.
func exercise(_ object: BPFObject) -> Int {
  var checksum = 0
  for program in object.programs {
    for instruction in program.function.instructions {
      checksum &+= Int(instruction.opcode) &+ instruction.description.utf8.count
      checksum &+= instruction.bytes.count
    }
    checksum &+= program.relocations.count &+ "\(program.kind)".utf8.count
    checksum &+= program.programType.map { "\($0)".utf8.count } ?? 0
  }
  for function in object.functions { checksum &+= function.instructionCount }
  checksum &+= "\(object.maps)".utf8.count
  // Not "\(object.dataSections)": a `.bss` of declared size up to 1 GiB is zero-filled by the
  // reader, and printing those bytes would turn it into a multi-gigabyte string.
  for data in object.dataSections {
    checksum &+= data.initialBytes.count &+ "\(data.variables)".utf8.count &+ data.name.utf8.count
    checksum &+= object.dataSection(named: data.name) != nil ? 1 : 0
  }
  checksum &+= "\(object.relocations)".utf8.count
  checksum &+= (object.license?.utf8.count ?? 0) &+ Int(object.kernelVersion ?? 0)
  for section in object.elf.sections where section.type == ELFConstants.shtRel {
    checksum &+= (try? object.elf.relocations(in: section).count) ?? -1
  }
  for map in object.maps {
    checksum &+= ((try? object.map(named: map.name)) != nil) ? 1 : 0
  }

  if let btf = object.btf {
    let encoded = btf.encoded()
    checksum &+= encoded.count
    // What the encoder writes, the parser must read back, and encoding that again must give
    // the same bytes.
    do {
      let again = try BTF(bytes: encoded)
      if again.encoded() != encoded {
        fatalError("BTF round trip: encoded() of a re-parsed BTF differs from the first encoding")
      }
    } catch {
      fatalError("BTF round trip: encoded() output does not parse: \(error)")
    }
    for id in 0..<UInt32(btf.types.count) {
      if let size = try? btf.resolvedSize(of: id) { checksum &+= size }
      if let skipped = try? btf.skippingModifiers(id) { checksum &+= Int(skipped) }
      if let skipped = try? btf.skippingQualifiers(id) { checksum &+= Int(skipped) }
      if let name = try? btf.name(of: id) { checksum &+= name.utf8.count }
      checksum &+= "\(btf.types[Int(id)])".utf8.count
    }
  }
  if let ext = object.btfExt {
    checksum &+= "\(ext.funcInfo)".utf8.count &+ "\(ext.lineInfo)".utf8.count
    checksum &+= "\(ext.coreRelocations)".utf8.count
  }
  return checksum
}

/// Keeps the checksum observable.
nonisolated(unsafe) var sink = 0

let callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32 = { data, size in
  let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
  do throws(ObjectError) {
    let object = try BPFObject(bytes: bytes)
    sink &+= exercise(object)
  } catch {
    // Error descriptions format the numbers they carry; run that code too.
    sink &+= error.description.utf8.count
  }
  return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
