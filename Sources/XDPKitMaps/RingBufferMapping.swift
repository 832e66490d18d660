import CXDPKit
import Glibc
import SystemPackage
import XDPKitSys

/// The two mmap(2) regions through which user space reads a BPF_MAP_TYPE_RINGBUF map, owned:
/// they are unmapped exactly once, when the value is destroyed.
///
/// The kernel lays the ring buffer out as pages of one object and lets user space map them at
/// page offsets of the map descriptor:
///
/// - offset 0, one page, read-write: the consumer page; `consumer_pos` (u64) at its start.
/// - offset one page, `page_size + 2 * max_entries` bytes, read-only: the producer page, with
///   `producer_pos` (u64) at its start, followed by the data area of `max_entries` bytes mapped
///   twice in a row, so that a record that wraps past the end of the area is contiguous.
///
/// The addresses never change while the value exists, so it is `Sendable`: every access to the
/// shared memory goes through the acquire loads and release stores of CXDPKit, and
/// ``RingBuffer`` serialises the one writer (the consumer position).
struct RingBufferMapping: ~Copyable, @unchecked Sendable {
  /// The consumer page (read-write); `consumer_pos` is its first 8 bytes.
  let consumerPage: UnsafeMutableRawPointer
  /// The producer page and the doubly mapped data area (read-only); `producer_pos` is the
  /// first 8 bytes.
  let producerPage: UnsafeRawPointer
  /// The page size the regions were mapped with.
  let pageSize: Int
  /// The size of the data area: the map's `max_entries`, a power of two, whole pages.
  let capacity: Int

  /// The start of the data area, one page after the producer position.
  var data: UnsafeRawPointer { producerPage + pageSize }

  /// The length of the read-only region.
  var producerLength: Int { pageSize + 2 * capacity }

  /// Maps both regions of the ring buffer map `descriptor`, whose data area is `capacity`
  /// bytes. Either both regions are mapped or neither is.
  ///
  /// The corresponding calls are `mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)`
  /// and `mmap(NULL, page_size + 2 * max_entries, PROT_READ, MAP_SHARED, fd, page_size)`.
  static func map(descriptor: Int32, capacity: Int, pageSize: Int)
    -> Result<RingBufferMapping, SyscallError>
  {
    let consumer = mapShared(
      length: pageSize, protection: PROT_READ | PROT_WRITE, descriptor: descriptor, offset: 0)
    guard case .success(let consumerPage) = consumer else {
      return .failure(consumer.failureValue!)
    }
    let producer = mapShared(
      length: pageSize + 2 * capacity, protection: PROT_READ, descriptor: descriptor,
      offset: pageSize)
    guard case .success(let producerPage) = producer else {
      _ = munmap(consumerPage, pageSize)
      return .failure(producer.failureValue!)
    }
    return .success(
      RingBufferMapping(
        consumerPage: consumerPage, producerPage: UnsafeRawPointer(producerPage),
        pageSize: pageSize, capacity: capacity))
  }

  /// One `mmap(2)` of `descriptor` with `MAP_SHARED`; errno is read here, right after the call.
  private static func mapShared(length: Int, protection: Int32, descriptor: Int32, offset: Int)
    -> Result<UnsafeMutableRawPointer, SyscallError>
  {
    let address = mmap(nil, length, protection, MAP_SHARED, descriptor, off_t(offset))
    guard let address, address != MAP_FAILED else {
      return .failure(SyscallError(operation: .mmap, errno: .current))
    }
    return .success(address)
  }

  deinit {
    // munmap(2) fails only for an address range that is not page aligned, which these are not.
    _ = munmap(consumerPage, pageSize)
    _ = munmap(UnsafeMutableRawPointer(mutating: producerPage), producerLength)
  }
}

extension Result {
  /// The error of a failure, `nil` for a success.
  fileprivate var failureValue: Failure? {
    if case .failure(let error) = self { return error }
    return nil
  }
}

/// An epoll instance that watches one ring buffer map descriptor for `EPOLLIN`, which the
/// kernel signals when a producer commits a record (unless it asked for `BPF_RB_NO_WAKEUP`) and
/// reports, level-triggered, for as long as the ring holds unconsumed bytes.
struct RingBufferEpoll: Sendable {
  /// The epoll descriptor, owned.
  let epoll: BPFFileDescriptor

  /// Creates the epoll instance and registers `descriptor` for `EPOLLIN`.
  ///
  /// The corresponding calls are `epoll_create1(EPOLL_CLOEXEC)` and
  /// `epoll_ctl(EPOLL_CTL_ADD, fd, EPOLLIN)`.
  static func watching(_ descriptor: Int32) -> Result<RingBufferEpoll, SyscallError> {
    let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
    guard fd >= 0 else { return .failure(SyscallError(operation: .epoll, errno: .current)) }
    let epoll = BPFFileDescriptor(adopting: fd)
    var event = epoll_event()
    event.events = EPOLLIN.rawValue
    event.data.fd = descriptor
    guard epoll_ctl(fd, EPOLL_CTL_ADD, descriptor, &event) == 0 else {
      return .failure(SyscallError(operation: .epoll, errno: .current))
    }
    return .success(RingBufferEpoll(epoll: epoll))
  }

  /// Registers one more descriptor for `EPOLLIN` (a perf event array watches one per CPU).
  ///
  /// The corresponding call is `epoll_ctl(EPOLL_CTL_ADD, fd, EPOLLIN)`.
  func add(_ descriptor: Int32) -> Result<Void, SyscallError> {
    var event = epoll_event()
    event.events = EPOLLIN.rawValue
    event.data.fd = descriptor
    guard epoll_ctl(epoll.rawValue, EPOLL_CTL_ADD, descriptor, &event) == 0 else {
      return .failure(SyscallError(operation: .epoll, errno: .current))
    }
    return .success(())
  }

  /// Waits up to `milliseconds` (-1: without limit) for the ring buffer to become readable.
  /// Returns whether it is; `false` after the timeout or an interrupting signal (`EINTR`), which
  /// callers treat like an early timeout.
  ///
  /// The corresponding call is `epoll_wait(2)`.
  func wait(milliseconds: Int32) -> Result<Bool, SyscallError> {
    var event = epoll_event()
    let result = epoll_wait(epoll.rawValue, &event, 1, milliseconds)
    if result >= 0 { return .success(result > 0) }
    let code = Errno.current
    if code == .interrupted { return .success(false) }
    return .failure(SyscallError(operation: .epoll, errno: code))
  }
}
