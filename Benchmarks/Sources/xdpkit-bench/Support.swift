import Glibc

// What every suite shares: the clock, the sample format, the allocation counter and the keys.

/// The side label of every sample this binary prints.
let side = "xdpkit"

/// CLOCK_MONOTONIC in nanoseconds: the clock the C side reads too.
@inline(__always)
func nowNanoseconds() -> UInt64 {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// This thread's CPU time in nanoseconds (CLOCK_THREAD_CPUTIME_ID): user and system time, not
/// the time it waited for a CPU while other processes ran.
@inline(__always)
func cpuNanoseconds() -> UInt64 {
  var ts = timespec()
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
  return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Both clocks at once. Every timed region is reported twice: `metric` from the thread's CPU
/// time, the figure the table uses (on a shared machine it does not count time spent waiting
/// for a CPU), and `metric.wall` from CLOCK_MONOTONIC.
struct Stopwatch {
  let wall = nowNanoseconds()
  let cpu = cpuNanoseconds()

  /// Emits the time since the stopwatch started, divided by `divisor`, in `unit`
  /// ("ns", "us" or "ms").
  func emit(_ metric: String, _ unit: String, per divisor: Double = 1) {
    let cpuElapsed = Double(cpuNanoseconds() - cpu)
    let wallElapsed = Double(nowNanoseconds() - wall)
    let scale: Double = unit == "ms" ? 1e6 : unit == "us" ? 1e3 : 1
    emitSample(metric, unit, cpuElapsed / divisor / scale)
    emitSample(metric + ".wall", unit, wallElapsed / divisor / scale)
  }
}

/// Prints one sample: `side TAB metric TAB unit TAB value`, the format `report` reads.
func emitSample(_ metric: String, _ unit: String, _ value: Double) {
  print("\(side)\t\(metric)\t\(unit)\t\(formatted(value, decimals: 3))")
}

func formatted(_ value: Double, decimals: Int) -> String {
  var buffer = [CChar](repeating: 0, count: 64)
  _ = withVaList([value]) { vsnprintf(&buffer, buffer.count, "%.\(decimals)f", $0) }
  return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Prints `message` to standard error and exits with status 1.
func fail(_ message: String) -> Never {
  let line = Array("xdpkit-bench: \(message)\n".utf8)
  _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
  exit(1)
}

/// Runs `body`, turning any error into ``fail(_:)`` with `what` in front.
func check<T>(_ what: String, _ body: () throws -> T) -> T {
  do { return try body() } catch { fail("\(what): \(error)") }
}

/// The process's heap allocation count, when the malloc-counting shim (Benchmarks/C/
/// malloc_count.c) is preloaded; `nil` otherwise.
enum Allocations {
  typealias Counter = @convention(c) () -> UInt64
  static let counter: Counter? = {
    // RTLD_DEFAULT is a null handle: search the whole process, preloaded objects first.
    guard let symbol = dlsym(nil, "xdpbench_allocations") else { return nil }
    return unsafeBitCast(symbol, to: Counter.self)
  }()

  @inline(__always)
  static func now() -> UInt64 { counter?() ?? 0 }

  static var available: Bool { counter != nil }

  /// The calling thread's allocations (the shim's `xdpbench_thread_allocations`), `nil`
  /// without the shim.
  static let threadCounter: Counter? = {
    guard let symbol = dlsym(nil, "xdpbench_thread_allocations") else { return nil }
    return unsafeBitCast(symbol, to: Counter.self)
  }()

  @inline(__always)
  static func threadNow() -> UInt64 { threadCounter?() ?? 0 }

  static var threadAvailable: Bool { threadCounter != nil }

  /// Fails unless the counter, when there is one, sees an allocation made on purpose: a
  /// count of zero must mean "none", not "the shim is not wired up".
  static func selfTest() {
    guard available else { return }
    let before = now()
    let probe = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
    probe.deallocate()
    if now() == before { fail("malloc_count.so is loaded but did not count an allocation") }
  }
}

/// The blocklist fill shared with the C side: 192.0.2.1 (the source of the "hit" frame),
/// then 0xF0000000 + i — map keys from the reserved 240.0.0.0/4 block, which never appear on
/// any wire. Host byte order, as BLOCKLIST is keyed.
@inline(__always)
func fillKey(_ index: UInt32) -> UInt32 {
  index == 0 ? 0xC000_0201 : 0xF000_0000 &+ index
}

/// The whole file at `path`.
func readFile(_ path: String) -> [UInt8] {
  guard let file = fopen(path, "rb") else { fail("open \(path): \(String(cString: strerror(errno)))") }
  defer { fclose(file) }
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 65536)
  while true {
    let count = fread(&chunk, 1, chunk.count, file)
    if count == 0 { break }
    bytes.append(contentsOf: chunk[0..<count])
  }
  return bytes
}

/// Writes `bytes` to `path`, replacing it.
func writeFile(_ path: String, _ bytes: [UInt8]) {
  guard let file = fopen(path, "wb") else { fail("create \(path): \(String(cString: strerror(errno)))") }
  defer { fclose(file) }
  if fwrite(bytes, 1, bytes.count, file) != bytes.count { fail("write \(path)") }
}

/// Parses the positional integer `text`, failing with `name` in the message.
func integer(_ text: String, _ name: String) -> Int {
  guard let value = Int(text), value >= 0 else { fail("\(name) must be a non-negative integer, got \(text)") }
  return value
}
