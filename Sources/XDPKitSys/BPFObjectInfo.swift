import CXDPKit
import SystemPackage
import XDPKitObject

/// What the kernel reports about a loaded program (`struct bpf_prog_info`).
///
/// Fields a kernel does not fill are zero. ``runCount`` and ``runTimeNanoseconds`` count only
/// while statistics are enabled (sysctl `kernel.bpf_stats_enabled` or BPF_ENABLE_STATS).
public struct ProgramInfo: Sendable, Hashable {
  /// `type`.
  public var type: BPFProgramType
  /// The kernel-wide id (`id`).
  public var id: UInt32
  /// The program's tag: 8 bytes of a hash over its instructions (`tag`).
  public var tag: [UInt8]
  /// The name given at load time, at most 15 bytes (`name`).
  public var name: String
  /// Size of the JIT-compiled code in bytes (`jited_prog_len`); 0 without the JIT.
  public var jitedSize: Int
  /// Size of the instructions after the verifier's rewrites, in bytes (`xlated_prog_len`).
  public var translatedSize: Int
  /// When the program was loaded, in nanoseconds since boot (`load_time`).
  public var loadTime: UInt64
  /// The uid of the loading process (`created_by_uid`).
  public var createdByUID: UInt32
  /// Ids of the maps the program uses (`map_ids`).
  public var mapIDs: [UInt32]
  /// The interface the program is offloaded or bound to (`ifindex`); 0 for none.
  public var interfaceIndex: UInt32
  /// Whether the license is GPL-compatible (`gpl_compatible`).
  public var isGPLCompatible: Bool
  /// Id of the program's BTF (`btf_id`); 0 when loaded without BTF.
  public var btfID: UInt32
  /// Number of runs (`run_cnt`).
  public var runCount: UInt64
  /// Total run time in nanoseconds (`run_time_ns`).
  public var runTimeNanoseconds: UInt64
  /// Runs skipped because the program was already running on the CPU (`recursion_misses`).
  public var recursionMisses: UInt64
  /// Instructions the verifier processed (`verified_insns`).
  public var verifiedInstructions: UInt32
  /// Id of the BTF object holding ``attachBTFID`` (`attach_btf_obj_id`).
  public var attachBTFObjectID: UInt32
  /// `attach_btf_id`.
  public var attachBTFID: UInt32

  /// The tag as 16 lowercase hex digits, as bpftool prints it.
  public var tagString: String {
    tag.map { byte in
      let digits = String(byte, radix: 16)
      return byte < 16 ? "0" + digits : digits
    }.joined()
  }
}

/// What the kernel reports about a map (`struct bpf_map_info`).
public struct MapInfo: Sendable, Hashable {
  /// `type`.
  public var type: BPFMapType
  /// The kernel-wide id (`id`).
  public var id: UInt32
  /// `key_size`.
  public var keySize: UInt32
  /// `value_size`.
  public var valueSize: UInt32
  /// `max_entries`.
  public var maxEntries: UInt32
  /// `map_flags`.
  public var flags: MapCreateFlags
  /// The name given at creation, at most 15 bytes (`name`).
  public var name: String
  /// The interface the map is offloaded to (`ifindex`); 0 for a host map.
  public var interfaceIndex: UInt32
  /// `btf_vmlinux_value_type_id`.
  public var btfVmlinuxValueTypeID: UInt32
  /// Id of the map's BTF (`btf_id`); 0 when created without BTF.
  public var btfID: UInt32
  /// `btf_key_type_id`.
  public var btfKeyTypeID: UInt32
  /// `btf_value_type_id`.
  public var btfValueTypeID: UInt32
  /// `map_extra`.
  public var mapExtra: UInt64
}

/// What the kernel reports about a link (`struct bpf_link_info`).
public struct LinkInfo: Sendable, Hashable {
  /// `type`.
  public var type: BPFLinkType
  /// The kernel-wide id (`id`).
  public var id: UInt32
  /// Id of the attached program (`prog_id`).
  public var programID: UInt32
  /// For XDP links, the interface the program is attached to (`xdp.ifindex`); 0 once the
  /// interface is gone. `nil` for other link types.
  public var xdpInterfaceIndex: UInt32?
}

/// What the kernel reports about a BTF object (`struct bpf_btf_info`).
public struct BTFInfo: Sendable, Hashable {
  /// The kernel-wide id (`id`).
  public var id: UInt32
  /// Size of the raw BTF in bytes (`btf_size`).
  public var size: Int
  /// `name`: "vmlinux" or a module's name for kernel BTF, usually empty for loaded BTF.
  public var name: String
  /// Whether the BTF describes the kernel or a module (`kernel_btf`).
  public var isKernelBTF: Bool
}

extension BPF {
  /// Describes the program `program`, with the ids of the maps it uses (fetched with a second
  /// call when there are any).
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_GET_INFO_BY_FD.
  public static func programInfo(_ program: BPFFileDescriptor) throws(SyscallError) -> ProgramInfo {
    var info = bpf_prog_info()
    try objectInfo(program.rawValue, &info)
    var mapIDs: [UInt32] = []
    if info.nr_map_ids > 0 {
      var ids = [UInt32](repeating: 0, count: Int(info.nr_map_ids))
      var second = bpf_prog_info()
      second.nr_map_ids = UInt32(ids.count)
      let result = ids.withUnsafeMutableBytes { buffer in
        second.map_ids = address(buffer.baseAddress)
        return objectInfoResult(program.rawValue, &second)
      }
      try result.get()
      // The program may use fewer maps by now (never more than the buffer holds).
      mapIDs = Array(ids.prefix(min(Int(second.nr_map_ids), ids.count)))
    }
    return ProgramInfo(
      type: BPFProgramType(rawValue: info.type),
      id: info.id,
      tag: withUnsafeBytes(of: info.tag) { Array($0) },
      name: decodeObjectName(info.name),
      jitedSize: Int(info.jited_prog_len),
      translatedSize: Int(info.xlated_prog_len),
      loadTime: info.load_time,
      createdByUID: info.created_by_uid,
      mapIDs: mapIDs,
      interfaceIndex: info.ifindex,
      isGPLCompatible: info.gpl_compatible != 0,
      btfID: info.btf_id,
      runCount: info.run_cnt,
      runTimeNanoseconds: info.run_time_ns,
      recursionMisses: info.recursion_misses,
      verifiedInstructions: info.verified_insns,
      attachBTFObjectID: info.attach_btf_obj_id,
      attachBTFID: info.attach_btf_id)
  }

  /// Describes the map `map`.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_GET_INFO_BY_FD.
  public static func mapInfo(_ map: BPFFileDescriptor) throws(SyscallError) -> MapInfo {
    var info = bpf_map_info()
    try objectInfo(map.rawValue, &info)
    return MapInfo(
      type: BPFMapType(rawValue: info.type),
      id: info.id,
      keySize: info.key_size,
      valueSize: info.value_size,
      maxEntries: info.max_entries,
      flags: MapCreateFlags(rawValue: info.map_flags),
      name: decodeObjectName(info.name),
      interfaceIndex: info.ifindex,
      btfVmlinuxValueTypeID: info.btf_vmlinux_value_type_id,
      btfID: info.btf_id,
      btfKeyTypeID: info.btf_key_type_id,
      btfValueTypeID: info.btf_value_type_id,
      mapExtra: info.map_extra)
  }

  /// Describes the link `link`.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_GET_INFO_BY_FD.
  public static func linkInfo(_ link: BPFFileDescriptor) throws(SyscallError) -> LinkInfo {
    var info = bpf_link_info()
    try objectInfo(link.rawValue, &info)
    let type = BPFLinkType(rawValue: info.type)
    return LinkInfo(
      type: type, id: info.id, programID: info.prog_id,
      xdpInterfaceIndex: type == .xdp ? info.xdp.ifindex : nil)
  }

  /// Describes the BTF object `btf`, with its name (fetched with a second call when it has
  /// one).
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_GET_INFO_BY_FD.
  public static func btfInfo(_ btf: BPFFileDescriptor) throws(SyscallError) -> BTFInfo {
    var info = bpf_btf_info()
    try objectInfo(btf.rawValue, &info)
    var name = ""
    if info.name_len > 0 {
      // Room for the name and its NUL; the kernel answers ENOSPC if that is too small.
      var bytes = [UInt8](repeating: 0, count: Int(info.name_len) + 1)
      var second = bpf_btf_info()
      let result = bytes.withUnsafeMutableBytes { buffer in
        second.name = address(buffer.baseAddress)
        second.name_len = UInt32(buffer.count)
        return objectInfoResult(btf.rawValue, &second)
      }
      try result.get()
      name = bytes.withUnsafeBytes { decodeCString($0) }
    }
    return BTFInfo(
      id: info.id, size: Int(info.btf_size), name: name, isKernelBTF: info.kernel_btf != 0)
  }

  /// The raw bytes of the BTF object `btf` (header, types, strings), as loaded. Kernel module
  /// BTF is split BTF: its bytes are only the module's part.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_GET_INFO_BY_FD, twice (size, then bytes).
  public static func btfBytes(_ btf: BPFFileDescriptor) throws(SyscallError) -> [UInt8] {
    var info = bpf_btf_info()
    try objectInfo(btf.rawValue, &info)
    var bytes = [UInt8](repeating: 0, count: Int(info.btf_size))
    guard !bytes.isEmpty else { return [] }
    var second = bpf_btf_info()
    let result = bytes.withUnsafeMutableBytes { buffer in
      second.btf = address(buffer.baseAddress)
      second.btf_size = UInt32(buffer.count)
      return objectInfoResult(btf.rawValue, &second)
    }
    try result.get()
    return bytes
  }

  /// Fills `info` (one of the `struct bpf_*_info` types) for the object behind `fd`. The
  /// kernel fills as much of the struct as both sides know and leaves the rest zero.
  private static func objectInfo<Info>(_ fd: Int32, _ info: inout Info) throws(SyscallError) {
    try objectInfoResult(fd, &info).get()
  }

  fileprivate static func objectInfoResult<Info>(_ fd: Int32, _ info: inout Info)
    -> Result<Void, SyscallError>
  {
    withUnsafeMutableBytes(of: &info) { buffer in
      var attr = bpf_attr()
      attr.info.bpf_fd = fdField(fd)
      attr.info.info_len = UInt32(buffer.count)
      attr.info.info = address(buffer.baseAddress)
      return invoke(.objectGetInfoByFD, &attr).map { _ in () }
    }
  }
}

extension BPF {
  /// The raw BTF (header, types and strings) of the BTF object `btf`, as it was loaded; for
  /// a module's BTF, split BTF that continues vmlinux's type ids.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_GET_INFO_BY_FD with `btf` and `btf_size`.
  public static func btfData(_ btf: BPFFileDescriptor) throws(SyscallError) -> [UInt8] {
    // The BTF cannot change size, but trust only what the kernel says it wrote.
    try infoBuffer(
      btf.rawValue, size: try btfInfo(btf).size, empty: bpf_btf_info(),
      point: { info, address, length in
        info.btf = address
        info.btf_size = length
      },
      written: { Int($0.btf_size) })
  }
}

extension BPF {
  /// The instructions of the program `program` as the kernel holds them after verification
  /// (the "xlated" instructions: helper calls inlined or rewritten, context accesses
  /// converted, dead code removed).
  ///
  /// In a 64-bit immediate load of a map or map value, the kernel reports the map's id (and
  /// the value offset in the second half) with source `BPF_PSEUDO_MAP_FD` or
  /// `BPF_PSEUDO_MAP_VALUE`. Without the privilege to see kernel addresses, raw addresses
  /// read as zero.
  ///
  /// The corresponding bpf(2) command is BPF_OBJ_GET_INFO_BY_FD with `xlated_prog_insns` and
  /// `xlated_prog_len`.
  public static func translatedInstructions(_ program: BPFFileDescriptor) throws(SyscallError)
    -> [BPFInstruction]
  {
    var first = bpf_prog_info()
    try objectInfo(program.rawValue, &first)
    // A program's instructions do not change once loaded; trust only what the kernel wrote.
    let bytes = try infoBuffer(
      program.rawValue, size: Int(first.xlated_prog_len), empty: bpf_prog_info(),
      point: { info, address, length in
        info.xlated_prog_insns = address
        info.xlated_prog_len = length
      },
      written: { Int($0.xlated_prog_len) })
    let count = bytes.count / 8
    return (0..<count).compactMap { BPFInstruction(bytes, at: $0 * 8) }
  }
}

extension BPF {
  /// Asks the kernel to fill a buffer of `size` bytes that `point` sets into a fresh `empty`
  /// info struct (address, length), and returns it cut to the length that `written` reads
  /// from the struct afterwards.
  fileprivate static func infoBuffer<Info>(
    _ fd: Int32, size: Int, empty: Info, point: (inout Info, UInt64, UInt32) -> Void,
    written: (Info) -> Int
  ) throws(SyscallError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: size)
    guard size > 0 else { return [] }
    var info = empty
    let result = bytes.withUnsafeMutableBytes { buffer in
      point(&info, address(buffer.baseAddress), UInt32(clamping: buffer.count))
      return objectInfoResult(fd, &info)
    }
    try result.get()
    let length = written(info)
    if length < bytes.count { bytes.removeLast(bytes.count - max(0, length)) }
    return bytes
  }
}
