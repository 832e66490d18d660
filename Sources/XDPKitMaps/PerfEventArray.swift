import CXDPKit
import Dispatch
import Glibc
import Synchronization
import XDPKitObject
import XDPKitSys

/// One sample of a ``PerfEventArray``: what a program passed to `bpf_perf_event_output`, the
/// CPU whose ring carried it, and how many samples that CPU's ring dropped just before it.
public struct PerfEventSample<Value: Sendable>: Sendable {
  /// The CPU (the ring) the sample came from.
  public var cpu: Int
  /// The sample: its bytes, or a decoded record.
  public var value: Value
  /// Samples the kernel dropped on this CPU since the previous sample read from it, because
  /// its ring was full (PERF_RECORD_LOST).
  public var lostBefore: UInt64
}

/// The reading end of a perf event array map (BPF_MAP_TYPE_PERF_EVENT_ARRAY): the samples
/// programs write with `bpf_perf_event_output(ctx, &map, BPF_F_CURRENT_CPU, data, size)`, the
/// channel for events on kernels before 5.8 and in many existing programs.
///
/// ``init(_:pagesPerCPU:)`` opens one PERF_COUNT_SW_BPF_OUTPUT perf event per CPU
/// (perf_event_open(2)), maps its ring (mmap(2)), enables it, stores its descriptor in the map at
/// the CPU's index (BPF_MAP_UPDATE_ELEM) and watches it with epoll(7). Samples are read from
/// the shared rings without a system call; waiting is one epoll_wait(2) for all CPUs.
///
/// Samples of one CPU arrive in the order they were written; samples of different CPUs are
/// interleaved (one per CPU in turn). The raw bytes of a sample are what the kernel stored:
/// the program's bytes followed by up to 7 bytes of padding (the kernel rounds the sample's size
/// field and data up to a multiple of 8).
///
/// Make one reader per map: the map slots point at this reader's events. The events are
/// disabled, unmapped and closed when the reader goes away (the kernel then clears the slots).
public final class PerfEventArray: Sendable, CustomStringConvertible {
  /// The perf event array map.
  public let map: BPFMap
  /// The CPUs with an event (and a map slot filled), in order; CPUs offline at creation are
  /// left out.
  public var cpus: [Int] { rings.map(\.cpu) }
  /// Bytes of each CPU's ring.
  public let bytesPerCPU: Int

  let rings: [PerfEventRing]
  let epoll: RingBufferEpoll
  /// Where the async sequences wait in epoll_wait(2), off the cooperative pool.
  let waitQueue: DispatchQueue
  private let consumer = Mutex(ConsumerState())
  private let lostTotal = Atomic<UInt64>(0)

  struct ConsumerState {
    /// The ring to read next (round robin).
    var next = 0
    /// PERF_RECORD_LOST counts not yet attached to a sample, per ring.
    var pendingLost: [Int: UInt64] = [:]
  }

  /// Opens, maps and enables one perf event per possible CPU (up to the map's `max_entries`)
  /// with rings of `pagesPerCPU` pages (a power of two), and stores them in `map`.
  ///
  /// Throws ``MapError/wrongType(map:expected:actual:)`` for another map type,
  /// ``MapError/possibleCPUsUnavailable(map:_:)``, or ``MapError/syscall(map:_:)`` naming the
  /// call: `.perfEventOpen(cpu:)` (EACCES/EPERM without CAP_PERFMON or CAP_SYS_ADMIN), `.mmap`
  /// (EINVAL for a page count that is not a power of two), `.perfEventIoctl`, `.epoll`, or the
  /// BPF_MAP_UPDATE_ELEM. Everything opened before the failure is closed again.
  public init(_ map: BPFMap, pagesPerCPU: Int = 8) throws(MapError) {
    guard map.type == .perfEventArray else {
      throw .wrongType(map: map.name, expected: [.perfEventArray], actual: map.type)
    }
    guard pagesPerCPU > 0, pagesPerCPU.nonzeroBitCount == 1 else {
      throw .syscall(map: map.name, SyscallError(operation: .mmap, errno: .invalidArgument))
    }
    let possible: Int
    do { possible = try SystemInfo.possibleCPUCount() } catch { throw .possibleCPUsUnavailable(map: map.name, error) }
    let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    var rings: [PerfEventRing] = []
    for cpu in 0..<min(possible, map.maxEntries) {
      do {
        rings.append(try PerfEventRing(cpu: cpu, pageCount: pagesPerCPU, pageSize: pageSize))
      } catch where error.operation == .perfEventOpen(cpu: cpu) && error.errno == .operationNotSupportedByDevice {
        continue  // an offline CPU
      } catch {
        throw .syscall(map: map.name, error)
      }
      var key = UInt32(cpu)
      var value = UInt32(bitPattern: rings[rings.count - 1].event.rawValue)
      if case .failure(let error) = BPF.updateElement(map: map.fileDescriptor.rawValue, key: &key, value: &value, flags: .any) {
        throw .syscall(map: map.name, error)
      }
    }
    guard let first = rings.first else {
      throw .syscall(map: map.name, SyscallError(operation: .perfEventOpen(cpu: 0), errno: .operationNotSupportedByDevice))
    }
    switch RingBufferEpoll.watching(first.event.rawValue) {
    case .success(let epoll): self.epoll = epoll
    case .failure(let error): throw .syscall(map: map.name, error)
    }
    for ring in rings.dropFirst() {
      if case .failure(let error) = epoll.add(ring.event.rawValue) { throw .syscall(map: map.name, error) }
    }
    self.map = map
    self.rings = rings
    self.bytesPerCPU = pagesPerCPU * pageSize
    self.waitQueue = DispatchQueue(label: "XDPKit.PerfEventArray.\(map.name)")
  }

  /// Samples dropped by the kernel because a ring was full, summed over the CPUs, as far as
  /// the reader has seen (it learns of losses as it reads).
  public var lostSamples: UInt64 { lostTotal.load(ordering: .relaxed) }

  /// Whether any CPU's ring holds records not yet read.
  public var hasData: Bool { rings.contains { $0.hasData } }

  /// Hands every sample available now to `handler` (CPU by CPU), without blocking, and returns
  /// how many it handed over.
  @discardableResult
  public func drain(_ handler: (PerfEventSample<[UInt8]>) -> Void = { _ in }) -> Int {
    var count = 0
    while let sample = takeSample() {
      handler(sample)
      count += 1
    }
    return count
  }

  /// The next sample, taking the CPUs in turn, or `nil` if every ring is empty.
  func takeSample() -> PerfEventSample<[UInt8]>? {
    consumer.withLock { state in
      for step in 0..<rings.count {
        let index = (state.next + step) % rings.count
        let ring = rings[index]
        var found: [UInt8]?
        ring.consume { record in
          switch record {
          case .sample(let bytes):
            found = bytes
            return false
          case .lost(let count):
            state.pendingLost[index, default: 0] += count
            lostTotal.add(count, ordering: .relaxed)
            return true
          case .other:
            return true
          }
        }
        if let found {
          state.next = (index + 1) % rings.count
          let lost = state.pendingLost.removeValue(forKey: index) ?? 0
          return PerfEventSample(cpu: ring.cpu, value: found, lostBefore: lost)
        }
      }
      return nil
    }
  }

  /// The map's name, the CPUs and the ring size, for logs.
  public var description: String {
    "perf event array \(map.name) (\(rings.count) CPUs, \(bytesPerCPU) B each)"
  }
}
