import XDPKitMaps
import XDPKitObject
import XDPKitSys

/// Creates a map directly with BPF_MAP_CREATE and wraps it as the loader would.
func makeMap(
  _ type: BPFMapType, keySize: Int, valueSize: Int, maxEntries: Int,
  flags: MapCreateFlags = [], name: String = "test_map", innerMap: BPFMap? = nil
) throws -> BPFMap {
  try BPF.raiseMemlockLimitIfNeeded()
  var attributes = MapCreateAttributes(
    type: type, keySize: UInt32(keySize), valueSize: UInt32(valueSize),
    maxEntries: UInt32(maxEntries), flags: flags, name: name)
  attributes.innerMap = innerMap?.fileDescriptor
  let fd = try BPF.createMap(attributes)
  return BPFMap(
    fileDescriptor: fd, name: name, type: type, keySize: keySize, valueSize: valueSize,
    maxEntries: maxEntries, flags: flags.rawValue)
}

/// A C `struct { __u32 a; __u8 b; }`: 8 bytes in C (sizeof includes the tail padding),
/// `size` 5 and `stride` 8 in Swift.
struct PaddedKey: Hashable, BitwiseCopyable {
  var a: UInt32
  var b: UInt8
}

/// A two-word value, to have a value type that is not an integer.
struct Pair: Hashable, BitwiseCopyable {
  var first: UInt64
  var second: UInt64
}

/// The possible CPUs as the map layer sees them.
func possibleCPUs() throws -> Int { try SystemInfo.possibleCPUCount() }

/// Loads a program that returns XDP_PASS: `r0 = 2; exit`, as 8-byte instruction slots in
/// host order.
func loadPassProgram() throws -> BPFFileDescriptor {
  let movR0Pass: UInt64 = 0x0000_0002_0000_00B7  // BPF_ALU64 | BPF_MOV | BPF_K, dst r0, imm 2
  let exit: UInt64 = 0x95  // BPF_JMP | BPF_EXIT
  let attributes = ProgramLoadAttributes(
    type: .xdp, instructions: [movR0Pass, exit], license: "GPL", name: "maps_pass")
  return try BPF.loadProgram(attributes).result.get()
}
