import CXDPKit
import Glibc
import XDPKitSys

/// One CPU's perf event of a ``PerfEventArray``: the PERF_COUNT_SW_BPF_OUTPUT event and its
/// mmap(2)'d ring, owned (unmapped and closed when this value goes away).
///
/// The ring is a metadata page (`struct perf_event_mmap_page`) followed by a power-of-two data
/// area. The kernel advances `data_head` (read with acquire ordering); the reader advances
/// `data_tail` (stored with release ordering) past the records it has read, which frees them.
final class PerfEventRing: @unchecked Sendable {
  /// The CPU the event counts on.
  let cpu: Int
  /// The perf event descriptor, owned.
  let event: BPFFileDescriptor
  /// The metadata page and the data area.
  private let base: UnsafeMutableRawPointer
  /// The length of the whole mapping.
  private let length: Int
  /// The size of the data area, a power of two.
  let capacity: Int
  private let pageSize: Int

  private static let headOffset = Int(cxdpkit_perf_data_head_offset())
  private static let tailOffset = Int(cxdpkit_perf_data_tail_offset())
  /// PERF_RECORD_LOST: `u64 id; u64 lost;` after the header.
  static let recordLost = UInt32(PERF_RECORD_LOST.rawValue)
  /// PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW: `u32 size; u8 data[size];` after the header.
  static let recordSample = UInt32(PERF_RECORD_SAMPLE.rawValue)

  /// Opens the event on `cpu`, maps `pageCount` data pages (a power of two) and enables it.
  ///
  /// The corresponding calls are perf_event_open(2), mmap(2) and
  /// `ioctl(PERF_EVENT_IOC_ENABLE)`.
  init(cpu: Int, pageCount: Int, pageSize: Int) throws(SyscallError) {
    let fd = cxdpkit_perf_event_open_bpf_output(Int32(cpu))
    guard fd >= 0 else { throw SyscallError(operation: .perfEventOpen(cpu: cpu), errno: .current) }
    let event = BPFFileDescriptor(adopting: fd)
    let length = (pageCount + 1) * pageSize
    let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
    guard let address, address != MAP_FAILED else {
      throw SyscallError(operation: .mmap, errno: .current)
    }
    guard cxdpkit_perf_event_enable(fd, 1) == 0 else {
      let error = SyscallError(operation: .perfEventIoctl, errno: .current)
      _ = munmap(address, length)
      throw error
    }
    self.cpu = cpu
    self.event = event
    self.base = address
    self.length = length
    self.capacity = pageCount * pageSize
    self.pageSize = pageSize
  }

  deinit {
    _ = cxdpkit_perf_event_enable(event.rawValue, 0)
    _ = munmap(base, length)
  }

  /// Whether the kernel has written records not yet read.
  var hasData: Bool {
    cxdpkit_load_acquire_u64(base + Self.headOffset) != (base + Self.tailOffset).load(as: UInt64.self)
  }

  /// What one record of the ring is.
  enum Record {
    /// A sample's raw bytes (as the kernel padded them: a multiple of 8 with the size field).
    case sample([UInt8])
    /// `count` samples the kernel dropped because the ring was full.
    case lost(UInt64)
    /// A record of another type, skipped.
    case other
  }

  /// Reads records, oldest first, until `body` returns `false` or the ring is empty, freeing
  /// each one after `body` has seen it. The caller serialises calls.
  func consume(_ body: (Record) -> Bool) {
    let head = cxdpkit_load_acquire_u64(base + Self.headOffset)
    var tail = (base + Self.tailOffset).load(as: UInt64.self)
    let data = UnsafeRawPointer(base + pageSize)
    let mask = UInt64(capacity - 1)
    while tail < head {
      // Records are 8-byte aligned and the area a power of two: a header never wraps.
      let header = data + Int(tail & mask)
      let type = header.load(as: UInt32.self)
      let size = Int(header.load(fromByteOffset: 6, as: UInt16.self))
      guard size >= 8, UInt64(size) <= head - tail else { break }
      let bytes = copy(from: tail, count: size, data: data, mask: mask)
      let record: Record
      switch type {
      case Self.recordSample where size >= 12:
        let rawSize = Int(UInt32(bytes[8]) | UInt32(bytes[9]) << 8 | UInt32(bytes[10]) << 16 | UInt32(bytes[11]) << 24)
        record = .sample(Array(bytes[12..<min(size, 12 + rawSize)]))
      case Self.recordLost where size >= 24:
        var lost: UInt64 = 0
        for i in 0..<8 { lost |= UInt64(bytes[16 + i]) << (8 * UInt64(i)) }
        record = .lost(lost)
      default:
        record = .other
      }
      let more = body(record)
      tail += UInt64(size)
      cxdpkit_store_release_u64(base + Self.tailOffset, tail)
      if !more { break }
    }
  }

  /// `count` bytes of the record at position `position`, copied out (the body may wrap).
  private func copy(from position: UInt64, count: Int, data: UnsafeRawPointer, mask: UInt64) -> [UInt8] {
    let start = Int(position & mask)
    let first = min(count, capacity - start)
    var bytes = [UInt8](UnsafeRawBufferPointer(start: data + start, count: first))
    if first < count { bytes += UnsafeRawBufferPointer(start: data, count: count - first) }
    return bytes
  }
}
