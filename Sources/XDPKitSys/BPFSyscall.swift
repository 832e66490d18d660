import CXDPKit
import Glibc
import SystemPackage

/// The bpf(2) system call, one static function per command.
///
/// Every function issues exactly the command its documentation names, reads errno in the same
/// function that made the call, and retries `EINTR` (and, for BPF_PROG_LOAD, a bounded number of
/// `EAGAIN`s). Nothing here holds policy: which map to create, when to capture a verifier log and
/// how to treat "not found" are decided by the layers above.
///
/// Functions that create kernel objects return a ``BPFFileDescriptor`` that owns the new
/// descriptor; the kernel makes every bpf(2) descriptor close-on-exec. Functions on the hot path
/// of map access take raw descriptor numbers and pointers, never allocate, and return a `Result`
/// so that the map layer can turn `ENOENT` into `nil` without a throw.
public enum BPF {}

extension BPF {
  /// How many times BPF_PROG_LOAD (and BPF_BTF_LOAD) is reissued after `EAGAIN`, which the
  /// verifier returns when it was interrupted by a signal or ran out of a transient resource.
  public static let againRetryLimit = 5

  /// Size of `union bpf_attr` as passed to the kernel. The kernel accepts a smaller union than
  /// its own (it treats the missing tail as zero) and rejects a larger one only when the extra
  /// bytes are not zero.
  @usableFromInline
  static var attributeSize: UInt32 { UInt32(MemoryLayout<bpf_attr>.size) }

  /// Size of the attributes of the single-element map commands: the union up to and
  /// including `flags` (32 bytes), as libbpf passes them. The kernel copies only `size` bytes
  /// and treats the rest as zero, so the hot map paths skip copying the other 112.
  @inlinable
  static var elementAttributeSize: UInt32 { cxdpkit_bpf_map_elem_attr_size() }

  /// Issues `command` with the first `size` bytes of `attributes` (all of them by default),
  /// retrying `EINTR` always and `EAGAIN` up to `againRetries` times. Returns the non-negative
  /// result of the call.
  @inlinable @inline(__always)
  static func invoke(
    _ command: BPFCommand, _ attributes: inout bpf_attr, size: UInt32 = attributeSize,
    againRetries: Int = 0
  ) -> Result<Int, SyscallError> {
    let cmd = Int32(bitPattern: command.rawValue)
    return retrying(command, againRetries: againRetries) {
      cxdpkit_bpf(cmd, &attributes, size)
    }
  }

  /// Runs `call` (one system call that returns -1 and sets errno on failure) until it succeeds
  /// or fails with an error other than `EINTR`, or `EAGAIN` after `againRetries` repetitions.
  /// errno is read immediately after `call` returns, before anything else can change it.
  ///
  /// This is the one place that turns a raw result into a `Result`; tests drive it with fake
  /// calls to check the retry rules, which a real kernel does not trigger on demand.
  @inlinable @inline(__always)
  static func retrying(
    _ command: BPFCommand, againRetries: Int, _ call: () -> Int
  ) -> Result<Int, SyscallError> {
    var againLeft = againRetries
    while true {
      let result = call()
      if result >= 0 { return .success(result) }
      let code = Errno(rawValue: Glibc.errno)
      if code == .interrupted { continue }
      if code == .resourceTemporarilyUnavailable && againLeft > 0 {
        againLeft -= 1
        continue
      }
      return .failure(SyscallError(command: command, errno: code))
    }
  }

  /// Issues a command whose result is a new file descriptor and takes ownership of it.
  static func newDescriptor(
    _ command: BPFCommand, _ attributes: inout bpf_attr, againRetries: Int = 0
  ) -> Result<BPFFileDescriptor, SyscallError> {
    invoke(command, &attributes, againRetries: againRetries).map {
      BPFFileDescriptor(adopting: Int32(truncatingIfNeeded: $0))
    }
  }

  /// A user-space address as the kernel's `__aligned_u64` pointer fields expect it.
  @inlinable @inline(__always)
  static func address(_ pointer: UnsafeRawPointer?) -> UInt64 {
    UInt64(UInt(bitPattern: pointer))
  }

  /// A descriptor number as the kernel's `__u32` fd fields expect it.
  @inlinable @inline(__always)
  static func fdField(_ fd: Int32) -> UInt32 { UInt32(bitPattern: fd) }
}

// MARK: - Object names

/// The C type of `map_name`, `prog_name` and the `name` fields of the info structs.
typealias BPFObjectNameTuple = (
  CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar,
  CChar, CChar, CChar, CChar, CChar, CChar, CChar, CChar
)

extension BPF {
  /// The longest object name the kernel stores, in bytes: BPF_OBJ_NAME_LEN less the NUL.
  public static let maximumObjectNameLength = Int(BPF_OBJ_NAME_LEN) - 1

  /// Fills `tuple` with at most ``maximumObjectNameLength`` UTF-8 bytes of `name` and a NUL.
  static func encodeObjectName(_ name: String, into tuple: inout BPFObjectNameTuple) {
    var name = name
    name.withUTF8 { utf8 in
      withUnsafeMutableBytes(of: &tuple) { buffer in
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        // One copy of the first bytes (at most maximumObjectNameLength: the last byte stays NUL).
        let count = Swift.min(utf8.count, maximumObjectNameLength)
        if count > 0 { buffer.baseAddress!.copyMemory(from: utf8.baseAddress!, byteCount: count) }
      }
    }
  }

  /// The NUL-terminated string in `tuple`.
  static func decodeObjectName(_ tuple: BPFObjectNameTuple) -> String {
    withUnsafeBytes(of: tuple) { decodeCString($0) }
  }

  /// The bytes of `buffer` up to its first NUL (or all of them), as UTF-8 with invalid
  /// sequences repaired.
  static func decodeCString(_ buffer: UnsafeRawBufferPointer) -> String {
    let end = buffer.firstIndex(of: 0) ?? buffer.endIndex
    return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[..<end]), as: UTF8.self)
  }
}
