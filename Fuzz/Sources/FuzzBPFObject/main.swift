// libFuzzer target over the BPF object reader: every input is handed to `BPFObject(bytes:)`,
// which runs the ELF reader, the program/map/data/relocation classification, and the `.BTF`
// and `.BTF.ext` parsers. When an input parses, everything derived from it is walked
// (FuzzSupport).
//
// The reader promises to throw on malformed input and never trap: any trap, and any memory
// error AddressSanitizer sees, is a finding.
//
// The executable keeps its own `main` (this file) and hands control to libFuzzer through
// LLVMFuzzerRunDriver, so that SwiftPM's executable conventions stay untouched. See README.md.

import CFuzzerDriver
import FuzzSupport
import Glibc
import XDPKitObject

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
