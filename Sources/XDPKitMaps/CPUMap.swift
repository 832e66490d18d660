import XDPKitObject
import XDPKitSys

/// An entry of a ``CPUMap``: the size of the queue that carries redirected frames to the CPU,
/// and the program (of attach type `BPF_XDP_CPUMAP`, section `xdp/cpumap`) that runs on each
/// frame there, if any.
public struct CPUMapEntry: Sendable, Hashable {
  /// The number of frames the CPU's queue holds (`qsize`).
  public var queueSize: UInt32
  /// The kernel id of the entry's program (`bpf_prog.id`), `nil` for none.
  public var programID: UInt32?

  /// Creates an entry.
  public init(queueSize: UInt32, programID: UInt32? = nil) {
    self.queueSize = queueSize
    self.programID = programID
  }
}

/// A view of a CPU map (`BPF_MAP_TYPE_CPUMAP`): an XDP program hands frames to another CPU
/// with `bpf_redirect_map(&map, cpu, flags)`; a kernel thread on that CPU builds the socket
/// buffers and passes them up the stack.
///
/// The key is the CPU number (below ``count`` and a possible CPU). Values are
/// `struct bpf_cpumap_val` (8 bytes: the queue size and an optional program, kernel 5.9+) or,
/// for maps defined with a 4-byte value, the queue size alone. An entry is a kernel thread and
/// a queue: setting it allocates both, removing it stops them.
public struct CPUMap: Sendable {
  let slots: RedirectMapSlots

  /// The map this view reads and writes.
  public var map: BPFMap { slots.map }

  /// The map types this view handles.
  public static var supportedTypes: [BPFMapType] { [.cpuMap] }

  /// Makes a view of `map`, checking its type, the 4-byte key and a 4- or 8-byte value.
  public init(_ map: BPFMap) throws(MapError) {
    slots = try RedirectMapSlots(map, types: Self.supportedTypes, indexed: true)
  }

  /// The number of slots (`max_entries`).
  public var count: Int { map.maxEntries }

  /// Whether entries can carry a program (the value is `struct bpf_cpumap_val`).
  public var supportsPrograms: Bool { slots.supportsPrograms }

  /// Starts CPU `cpu`'s queue of `queueSize` frames, running `program` (of attach type
  /// `BPF_XDP_CPUMAP`) on each frame on that CPU, if given. The kernel refuses a CPU that is
  /// not possible and a queue size of 0 or above 16384 frames (`EINVAL`/`EOVERFLOW`, thrown as
  /// ``MapError/syscall(map:_:)``).
  ///
  /// The corresponding bpf(2) command is BPF_MAP_UPDATE_ELEM.
  public func set(
    queueSize: UInt32, program: BPFFileDescriptor? = nil, forCPU cpu: UInt32
  ) throws(MapError) {
    try slots.set(queueSize, program: program, key: cpu)
  }

  /// The entry of CPU `cpu`, `nil` if it has none.
  ///
  /// The corresponding bpf(2) command is BPF_MAP_LOOKUP_ELEM.
  public func entry(forCPU cpu: UInt32) throws(MapError) -> CPUMapEntry? {
    try slots.entry(cpu).map { CPUMapEntry(queueSize: $0.number, programID: $0.programID) }
  }

  /// Stops CPU `cpu`'s queue. Stopping a CPU without one is not an error (the kernel does not
  /// tell the two apart for CPU maps).
  ///
  /// The corresponding bpf(2) command is BPF_MAP_DELETE_ELEM.
  public func remove(forCPU cpu: UInt32) throws(MapError) {
    _ = try slots.remove(cpu)
  }
}
