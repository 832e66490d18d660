import XDPKitObject
import CXDPKit
import SystemPackage

/// The `prog_flags` of BPF_PROG_LOAD.
public struct ProgramLoadFlags: OptionSet, Hashable, Sendable {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  /// BPF_F_STRICT_ALIGNMENT: verify alignment as if the architecture required it.
  public static let strictAlignment = Self(rawValue: BPF_F_STRICT_ALIGNMENT)
  /// BPF_F_ANY_ALIGNMENT: skip alignment checks (testing only).
  public static let anyAlignment = Self(rawValue: BPF_F_ANY_ALIGNMENT)
  /// BPF_F_TEST_RND_HI32: randomise the upper halves of 32-bit results (testing only).
  public static let testRandomHigh32 = Self(rawValue: BPF_F_TEST_RND_HI32)
  /// BPF_F_TEST_STATE_FREQ: check verifier state pruning often (testing only).
  public static let testStateFrequency = Self(rawValue: BPF_F_TEST_STATE_FREQ)
  /// BPF_F_SLEEPABLE: the program may sleep.
  public static let sleepable = Self(rawValue: BPF_F_SLEEPABLE)
  /// BPF_F_XDP_HAS_FRAGS: the XDP program understands multi-buffer packets.
  public static let xdpHasFragments = Self(rawValue: BPF_F_XDP_HAS_FRAGS)
}

/// BTF.ext records handed to BPF_PROG_LOAD: `struct bpf_func_info` or `struct bpf_line_info`
/// entries, each ``recordSize`` bytes, back to back in ``bytes``.
///
/// The record size is the one the object file declares; the kernel accepts records larger than
/// its own structs as long as the extra bytes are zero.
public struct BTFExtRecords: Sendable, Hashable {
  /// The size of one record (`func_info_rec_size`, `line_info_rec_size`).
  public var recordSize: UInt32
  /// The records.
  public var bytes: [UInt8]

  /// Records of `recordSize` bytes each. `bytes.count` must be a multiple of `recordSize`.
  public init(recordSize: UInt32, bytes: [UInt8]) {
    precondition(
      recordSize > 0 && bytes.count % Int(recordSize) == 0,
      "BTF.ext records: \(bytes.count) bytes is not a multiple of the record size \(recordSize)")
    self.recordSize = recordSize
    self.bytes = bytes
  }

  /// The number of records (`func_info_cnt`, `line_info_cnt`).
  public var count: Int { bytes.count / Int(recordSize) }
}

/// What BPF_PROG_LOAD should load.
public struct ProgramLoadAttributes: Sendable, Hashable {
  /// The kind of program (`prog_type`).
  public var type: BPFProgramType
  /// The attach type the verifier checks the program for (`expected_attach_type`); `nil`
  /// passes 0, which is what XDP programs attached to an interface use.
  public var expectedAttachType: BPFAttachType?
  /// The instructions (`insns`, `insn_cnt`): each element is one 8-byte `struct bpf_insn` slot
  /// in host byte order, so the array's bytes are exactly what the kernel reads. A 64-bit
  /// immediate load (`lddw`) takes two elements.
  public var instructions: [UInt64]
  /// The license string (`license`); programs that call GPL-only helpers need a
  /// GPL-compatible one such as "GPL" or "Dual BSD/GPL".
  public var license: String
  /// The program's name as the kernel shows it (`prog_name`). Like map names, at most 15
  /// bytes are kept (a longer name is truncated) and only ASCII letters, digits, `_` and `.`
  /// are accepted.
  public var name: String
  /// `kern_version`: checked only for kprobe programs on very old kernels.
  public var kernelVersion: UInt32
  /// `prog_flags`.
  public var flags: ProgramLoadFlags
  /// The object's BTF (`prog_btf_fd`), needed for ``functionInfo`` and ``lineInfo``.
  public var btf: BPFFileDescriptor?
  /// `func_info`, `func_info_rec_size`, `func_info_cnt`.
  public var functionInfo: BTFExtRecords?
  /// `line_info`, `line_info_rec_size`, `line_info_cnt`.
  public var lineInfo: BTFExtRecords?
  /// `attach_btf_id`: the kernel BTF type a tracing or LSM program attaches to.
  public var attachBTFID: UInt32
  /// `attach_prog_fd` / `attach_btf_obj_fd` (one union in the kernel): the program an
  /// extension or fentry program attaches to, or the module BTF that ``attachBTFID`` is in.
  public var attachTarget: BPFFileDescriptor?
  /// `prog_ifindex`: the interface to offload to or bind to; 0 for none.
  public var interfaceIndex: UInt32
  /// `fd_array`: descriptors that instructions refer to by index (`BPF_PSEUDO_MAP_IDX`,
  /// kfunc module BTFs). Empty passes no array.
  public var descriptorArray: [Int32]

  /// Attributes for loading `instructions` as a program of `type`; everything else zero or
  /// absent.
  public init(
    type: BPFProgramType, instructions: [UInt64], license: String, name: String = "",
    expectedAttachType: BPFAttachType? = nil, flags: ProgramLoadFlags = []
  ) {
    self.type = type
    self.expectedAttachType = expectedAttachType
    self.instructions = instructions
    self.license = license
    self.name = name
    self.kernelVersion = 0
    self.flags = flags
    self.btf = nil
    self.functionInfo = nil
    self.lineInfo = nil
    self.attachBTFID = 0
    self.attachTarget = nil
    self.interfaceIndex = 0
    self.descriptorArray = []
  }
}

extension BPF {
  /// Loads a program, optionally with a verifier log, in one BPF_PROG_LOAD (repeated only for
  /// `EINTR` and up to ``againRetryLimit`` times for `EAGAIN`).
  ///
  /// This is the bare command: it neither retries with a log nor grows `log`.
  /// ``loadProgramCapturingLog(_:logLevel:)`` implements that policy. A verification failure is
  /// usually `EACCES` or `EINVAL`; `ENOSPC` means the log did not fit into the buffer.
  ///
  /// The corresponding bpf(2) command is BPF_PROG_LOAD.
  public static func loadProgram(
    _ attributes: ProgramLoadAttributes, log: BPFLogBuffer? = nil
  ) -> BPFLoadAttempt {
    var attr = bpf_attr()
    attr.prog_type = attributes.type.rawValue
    attr.expected_attach_type = attributes.expectedAttachType?.rawValue ?? 0
    attr.kern_version = attributes.kernelVersion
    attr.prog_flags = attributes.flags.rawValue
    var name = attr.prog_name
    encodeObjectName(attributes.name, into: &name)
    attr.prog_name = name
    attr.prog_btf_fd = attributes.btf.map { fdField($0.rawValue) } ?? 0
    attr.attach_btf_id = attributes.attachBTFID
    attr.attach_prog_fd = attributes.attachTarget.map { fdField($0.rawValue) } ?? 0
    attr.prog_ifindex = attributes.interfaceIndex
    if let log {
      attr.log_level = log.level.rawValue
      attr.log_size = UInt32(clamping: log.buffer.count)
      attr.log_buf = address(log.buffer.baseAddress)
    }

    let functionInfo = attributes.functionInfo
    let lineInfo = attributes.lineInfo
    let result = attributes.instructions.withUnsafeBytes { instructions in
      attributes.license.withCString { license in
        (functionInfo?.bytes ?? []).withUnsafeBytes { functionRecords in
          (lineInfo?.bytes ?? []).withUnsafeBytes { lineRecords in
            attributes.descriptorArray.withUnsafeBytes { descriptors in
              attr.insns = address(instructions.baseAddress)
              attr.insn_cnt = UInt32(clamping: attributes.instructions.count)
              attr.license = address(license)
              if let functionInfo {
                attr.func_info = address(functionRecords.baseAddress)
                attr.func_info_rec_size = functionInfo.recordSize
                attr.func_info_cnt = UInt32(clamping: functionInfo.count)
              }
              if let lineInfo {
                attr.line_info = address(lineRecords.baseAddress)
                attr.line_info_rec_size = lineInfo.recordSize
                attr.line_info_cnt = UInt32(clamping: lineInfo.count)
              }
              if !attributes.descriptorArray.isEmpty {
                attr.fd_array = address(descriptors.baseAddress)
              }
              let offset = Int(cxdpkit_bpf_prog_load_log_true_size_offset())
              BPFAttributeBytes.clear(&attr, from: offset)
              return invoke(.programLoad, &attr, againRetries: againRetryLimit)
            }
          }
        }
      }
    }
    let trueSize = BPFAttributeBytes.loadUInt32(
      attr, at: Int(cxdpkit_bpf_prog_load_log_true_size_offset()))
    return BPFLoadAttempt(
      result: result.map { BPFFileDescriptor(adopting: Int32(truncatingIfNeeded: $0)) },
      logTrueSize: log != nil && trueSize > 0 ? Int(trueSize) : nil)
  }
}

extension BPF {
  /// Makes `program` hold a reference to `map` although its code does not use it (5.10+), so
  /// that the map lives as long as the program and shows among its maps: how `.rodata` with
  /// `bpf_metadata_*` variables reaches `bpftool prog show`.
  ///
  /// The corresponding bpf(2) command is BPF_PROG_BIND_MAP.
  public static func bindMap(_ map: BPFFileDescriptor, to program: BPFFileDescriptor) throws(SyscallError) {
    var attr = bpf_attr()
    attr.prog_bind_map.prog_fd = fdField(program.rawValue)
    attr.prog_bind_map.map_fd = fdField(map.rawValue)
    _ = try invoke(.programBindMap, &attr).get()
  }
}

/// Raw access to bytes of `union bpf_attr` that the uapi headers do not name (fields that
/// newer kernels appended after the headers were cut).
enum BPFAttributeBytes {
  /// Sets every byte of `attr` from `offset` to the end to zero.
  static func clear(_ attr: inout bpf_attr, from offset: Int) {
    withUnsafeMutableBytes(of: &attr) { bytes in
      guard offset < bytes.count else { return }
      bytes[offset...].initializeMemory(as: UInt8.self, repeating: 0)
    }
  }

  /// The `__u32` at `offset` in `attr`.
  static func loadUInt32(_ attr: bpf_attr, at offset: Int) -> UInt32 {
    withUnsafeBytes(of: attr) { bytes in
      precondition(offset + 4 <= bytes.count, "offset \(offset) is outside union bpf_attr")
      return bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
    }
  }
}
