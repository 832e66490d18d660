// libFuzzer target over the BTF parsers alone. Mutating whole objects rarely gets deep into
// `.BTF`; mutating the section itself does.
//
// Input: a 4-byte little-endian length N, then N bytes of `.BTF`, then the rest as `.BTF.ext`
// (an N past the end means "all of it is .BTF"). Fuzz/run.sh builds the seeds that way from
// the fixtures' sections. `BTF(bytes:)` runs on the first part; when it parses, the types are
// walked (FuzzSupport) and `BTFExt(bytes:btf:)` runs on the second part.

import CFuzzerDriver
import FuzzSupport
import Glibc
import XDPKitObject

/// Keeps the checksum observable.
nonisolated(unsafe) var sink = 0

let callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32 = { data, size in
  let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
  guard bytes.count >= 4 else { return 0 }
  let declared = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
  let split = 4 + min(declared, bytes.count - 4)
  do throws(BTFError) {
    let btf = try BTF(bytes: bytes[4..<split])
    sink &+= exercise(btf)
    let ext = try BTFExt(bytes: bytes[split...], btf: btf)
    sink &+= exercise(ext)
  } catch {
    sink &+= error.description.utf8.count
  }
  return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
