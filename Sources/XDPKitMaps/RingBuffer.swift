import CXDPKit
import Dispatch
import Glibc
import Synchronization
import XDPKitObject
import XDPKitSys

/// The reading end of a BPF ring buffer map (BPF_MAP_TYPE_RINGBUF): the records BPF programs
/// write with `bpf_ringbuf_output` or `bpf_ringbuf_reserve` and `bpf_ringbuf_submit`, read in the
/// order they were committed, without a system call per record.
///
/// The ring is shared memory: ``init(_:)`` maps the map's consumer page (read-write) and its
/// producer page and data area (read-only) with mmap(2), and reading a record is reading that
/// memory and then moving the consumer position past it, which frees the space for producers.
/// Waiting for records is an epoll(7) wait on the map descriptor, which the kernel makes
/// readable when a producer commits a record.
///
/// Three ways to read:
/// - ``drain(_:)``: every record available now, handed to a closure in place (no copy), without
///   blocking.
/// - ``poll(timeout:_:)``: the same, but first waits (blocking the calling thread) until there is
///   at least one record or the timeout passes.
/// - ``records()`` and ``records(as:)``: an `AsyncSequence` of records, copied out as bytes or
///   decoded as a `BitwiseCopyable` type, that waits without blocking a task's thread.
///
/// A record is delivered once, to one reader: readers on several threads or tasks share the
/// records between them (each call takes an internal lock while it consumes). Discarded records
/// (`bpf_ringbuf_discard`) are skipped. A record that a producer has reserved but not yet
/// committed stops reading, so records are always delivered in ring order; it is read by the
/// next call once committed.
///
/// The kernel keeps one consumer position per map, and the lock is per `RingBuffer`: make one
/// `RingBuffer` for a map and share it. Two of them over the same map (or two processes)
/// reading at the same time would race on that position and could see a record twice.
///
/// The mappings are unmapped and the epoll descriptor is closed when the last reference goes
/// away; the ``map`` stays open for as long as this object (or another holder) has it.
public final class RingBuffer: Sendable, CustomStringConvertible {
  /// The ring buffer map.
  public let map: BPFMap
  /// The size of the data area in bytes: the map's `max_entries` as the kernel reports it.
  /// A record occupies its length plus an 8-byte header, rounded up to a multiple of 8.
  public let capacity: Int

  /// The mmap(2)'d regions, unmapped when this object is destroyed.
  let mapping: RingBufferMapping
  /// The epoll instance that watches the map descriptor.
  let epoll: RingBufferEpoll
  /// Serialises consumers: the consumer position has exactly one writer at a time.
  private let consumerLock = Mutex(())
  /// Where the async sequences wait in epoll_wait(2): a serial queue, so that the blocking
  /// waits run on a Dispatch thread and never on one of Swift's cooperative threads.
  let waitQueue: DispatchQueue

  /// The length of a record header: a u32 length with the busy and discard bits, and a u32
  /// page offset that only the kernel uses (BPF_RINGBUF_HDR_SZ).
  static let headerSize = Int(BPF_RINGBUF_HDR_SZ)
  /// Set in a header's length while the record is reserved and not yet committed.
  static let busyBit = UInt32(BPF_RINGBUF_BUSY_BIT)
  /// Set in a header's length when the producer discarded the record.
  static let discardBit = UInt32(BPF_RINGBUF_DISCARD_BIT)

  /// Maps the ring buffer `map` for reading and prepares to wait on it.
  ///
  /// Throws ``MapError/wrongType(map:expected:actual:)`` if `map` is not a
  /// BPF_MAP_TYPE_RINGBUF map (checked against `map.type`, then against what the kernel
  /// reports), and ``MapError/syscall(map:_:)`` if a call fails: the operation is `.mmap` or
  /// `.epoll` (`EACCES` from mmap(2), for example, for a descriptor opened read-only, through
  /// which the consumer page cannot be mapped writable).
  ///
  /// The corresponding calls are BPF_OBJ_GET_INFO_BY_FD (to learn the true size of the data
  /// area, which the mappings must match), two mmap(2)s of the map descriptor,
  /// `epoll_create1(2)` and `epoll_ctl(2)`.
  public init(_ map: BPFMap) throws(MapError) {
    guard map.type == .ringBuffer else {
      throw .wrongType(map: map.name, expected: [.ringBuffer], actual: map.type)
    }
    // The mapping lengths must match the kernel's ring exactly (a shorter one would make record
    // offsets point outside it), so the size comes from the kernel, not from the definition.
    let info = try map.info()
    guard info.type == .ringBuffer else {
      throw .wrongType(map: map.name, expected: [.ringBuffer], actual: info.type)
    }
    let capacity = Int(info.maxEntries)
    let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    // BPF_MAP_CREATE accepts only a power of two that is a whole number of pages.
    precondition(
      capacity > 0 && capacity.nonzeroBitCount == 1 && capacity % pageSize == 0,
      "the kernel reported a ring buffer size of \(capacity) bytes")
    switch RingBufferMapping.map(
      descriptor: map.fileDescriptor.rawValue, capacity: capacity, pageSize: pageSize)
    {
    case .success(let mapping): self.mapping = mapping
    case .failure(let error): throw .syscall(map: map.name, error)
    }
    switch RingBufferEpoll.watching(map.fileDescriptor.rawValue) {
    case .success(let epoll): self.epoll = epoll
    case .failure(let error): throw .syscall(map: map.name, error)
    }
    self.map = map
    self.capacity = capacity
    self.waitQueue = DispatchQueue(label: "XDPKit.RingBuffer.\(map.name)")
  }

  /// The number of bytes between the consumer and the producer position: committed records not
  /// yet read, discarded ones not yet skipped and reservations not yet committed, each with its
  /// header. This is what `bpf_ringbuf_query(map, BPF_RB_AVAIL_DATA)` reports to a program.
  public var unconsumedBytes: Int {
    let consumer = consumerPosition
    return Int(truncatingIfNeeded: producerPosition &- consumer)
  }

  /// The consumer position (`consumer_pos`): the number of bytes, headers included, that
  /// readers have consumed since the map was created. It only grows; the next record is at
  /// offset `consumerPosition % capacity` of the data area. Programs see it as
  /// `bpf_ringbuf_query(map, BPF_RB_CONS_POS)`.
  public var consumerPosition: UInt64 {
    cxdpkit_load_acquire_u64(mapping.consumerPage)
  }

  /// The producer position (`producer_pos`): the number of bytes, headers included, that
  /// producers have reserved since the map was created. Programs see it as
  /// `bpf_ringbuf_query(map, BPF_RB_PROD_POS)`.
  public var producerPosition: UInt64 {
    cxdpkit_load_acquire_u64(mapping.producerPage)
  }

  // MARK: Reading

  /// Hands every record available now to `handler`, in ring order, and returns how many it
  /// handed over. Does not block and makes no system call.
  ///
  /// `handler` sees the record in the shared mapping (no copy) and must not keep the pointer:
  /// the space is released to producers as soon as it returns. It runs with this ring buffer's
  /// consumer lock held, so it must not read from this ring buffer itself. With no `handler`,
  /// the available records are skipped.
  ///
  /// The producer position is read once, at the start: records committed while the call runs
  /// are left for the next call, so a busy producer cannot keep it from returning.
  @discardableResult
  public func drain(_ handler: (UnsafeRawBufferPointer) -> Void = { _ in }) -> Int {
    consume(limit: .max) { record in
      handler(record)
      return true
    }
  }

  /// Waits until at least one record is available or `timeout` passes, then hands every record
  /// available to `handler` as ``drain(_:)`` does. Returns the number of records, 0 if the
  /// timeout passed first. With a `nil` timeout it waits as long as it takes; with `.zero` it
  /// is ``drain(_:)``.
  ///
  /// The calling thread blocks in epoll_wait(2): call it from a thread of your own, not from a
  /// Swift concurrency task (use ``records()`` there). A producer that writes with
  /// `BPF_RB_NO_WAKEUP` sends no notification; its records are read by the next call, or when a
  /// later record's notification arrives.
  ///
  /// Throws ``MapError/syscall(map:_:)`` with operation `.epoll` if epoll_wait(2) fails for a
  /// reason other than a signal (`EINTR` is retried with the time that is left).
  ///
  /// The corresponding call is `epoll_wait(2)` on an epoll instance that watches the map
  /// descriptor for `EPOLLIN`.
  public func poll(
    timeout: Duration? = nil, _ handler: (UnsafeRawBufferPointer) -> Void
  ) throws(MapError) -> Int {
    let clock = ContinuousClock()
    let deadline = timeout.map { clock.now.advanced(by: $0) }
    while true {
      let count = drain(handler)
      if count > 0 { return count }
      var milliseconds: Int32 = -1
      if let deadline {
        let left = clock.now.duration(to: deadline)
        if left <= .zero { return 0 }
        milliseconds = Self.milliseconds(roundingUp: left)
      }
      if case .failure(let error) = epoll.wait(milliseconds: milliseconds) {
        throw .syscall(map: map.name, error)
      }
    }
  }

  /// `duration` in whole milliseconds, rounded up (so that a wait never ends before the
  /// deadline) and at most `Int32.max`.
  static func milliseconds(roundingUp duration: Duration) -> Int32 {
    let (seconds, attoseconds) = duration.components
    let perMillisecond: Int64 = 1_000_000_000_000_000
    let fraction = (attoseconds + perMillisecond - 1) / perMillisecond
    let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
    guard !overflow, scaled <= Int64(Int32.max) - fraction else { return Int32.max }
    return Int32(max(0, scaled + fraction))
  }

  /// The consumer: hands up to `limit` committed records to `body`, in ring order, moving the
  /// consumer position past each one (and past discarded records) after `body` returns. Stops at
  /// the producer position read at the start, at a record that is still busy, or after a record
  /// for which `body` returns `false`. Returns the number of records handed to `body`.
  ///
  /// The protocol with the kernel's producers: `producer_pos` and each header's length word
  /// are loaded with acquire ordering (so the record's bytes are visible once its busy bit is
  /// clear), and `consumer_pos` is stored with release ordering after each record (so the
  /// producer does not reuse the space before the record has been read).
  func consume(limit: Int, _ body: (UnsafeRawBufferPointer) -> Bool) -> Int {
    consumerLock.withLock { _ in
      let data = mapping.data
      let mask = UInt64(capacity - 1)
      var position = cxdpkit_load_acquire_u64(mapping.consumerPage)
      let end = cxdpkit_load_acquire_u64(mapping.producerPage)
      var count = 0
      while position < end && count < limit {
        let header = data + Int(position & mask)
        let word = cxdpkit_load_acquire_u32(header)
        if word & Self.busyBit != 0 { break }
        let length = Int(word & ~(Self.busyBit | Self.discardBit))
        // The kernel never commits a record longer than the ring; should it, the record would
        // reach past the doubly mapped area, so reading stops instead.
        guard length <= capacity - Self.headerSize else { break }
        var more = true
        if word & Self.discardBit == 0 {
          count += 1
          more = body(UnsafeRawBufferPointer(start: header + Self.headerSize, count: length))
        }
        position += UInt64((Self.headerSize + length + 7) & ~7)
        cxdpkit_store_release_u64(mapping.consumerPage, position)
        if !more { break }
      }
      return count
    }
  }

  /// The map's name, the size of its data area and its descriptor, for logs.
  public var description: String {
    "ring buffer \(map.name) (\(capacity) B, \(map.fileDescriptor))"
  }
}
