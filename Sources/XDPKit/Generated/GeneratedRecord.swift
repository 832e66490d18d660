/// A C struct or union as generated code declares it: a value with exactly the C layout, which
/// can be made from the bytes a program wrote (a ring-buffer record, a map value read as
/// bytes). Every struct and union that `xdpkit generate` (and BPFCompilerPlugin) writes
/// conforms.
public protocol GeneratedRecord: BitwiseCopyable, Sendable {}

extension GeneratedRecord {
  /// The value the first `MemoryLayout<Self>.size` bytes of `bytes` hold, or `nil` when
  /// `bytes` is shorter than that: a short record is refused, never padded with zeros.
  /// Bytes past the size are ignored.
  public init?(bytes: UnsafeRawBufferPointer) {
    guard bytes.count >= MemoryLayout<Self>.size else { return nil }
    self = bytes.loadUnaligned(as: Self.self)
  }

  /// The value at the start of `bytes`, or `nil` when there are fewer than
  /// `MemoryLayout<Self>.size` of them (see ``init(bytes:)-(UnsafeRawBufferPointer)``).
  public init?(bytes: some Collection<UInt8>) {
    let copy = Array(bytes)
    guard let value = copy.withUnsafeBytes({ Self(bytes: $0) }) else { return nil }
    self = value
  }
}

/// How many records a typed ring-buffer read handed over and how many it refused.
public struct RecordCounts: Sendable, Equatable {
  /// Records decoded and handed to the handler.
  public var decoded: Int
  /// Records shorter than the record type, consumed but not handed over.
  public var refused: Int

  /// Counts with the given values.
  public init(decoded: Int = 0, refused: Int = 0) {
    self.decoded = decoded
    self.refused = refused
  }

  /// Hands a decoded record to `handler` and counts it, or counts a refused one.
  mutating func hand<Record>(_ record: Record?, to handler: (Record) -> Void) {
    if let record {
      decoded += 1
      handler(record)
    } else {
      refused += 1
    }
  }
}

extension RingBuffer {
  /// Hands every record available now to `handler`, decoded as `Record` (the generated type of
  /// the C record the program writes), as `RingBuffer.drain(_:)` does. A record shorter than
  /// `Record` is consumed and counted in ``RecordCounts/refused``, not handed over.
  @discardableResult
  public func drain<Record: GeneratedRecord>(as type: Record.Type, _ handler: (Record) -> Void) -> RecordCounts {
    var counts = RecordCounts()
    drain { counts.hand(Record(bytes: $0), to: handler) }
    return counts
  }

  /// Waits up to `timeout` for records as `RingBuffer.poll(timeout:_:)` does, then hands
  /// every available one to `handler` decoded as `Record`. Short records are refused as in
  /// ``drain(as:_:)``.
  ///
  /// The corresponding call is `epoll_wait(2)` on the map descriptor.
  @discardableResult
  public func poll<Record: GeneratedRecord>(
    as type: Record.Type, timeout: Duration? = nil, _ handler: (Record) -> Void
  ) throws(MapError) -> RecordCounts {
    var counts = RecordCounts()
    _ = try poll(timeout: timeout) { counts.hand(Record(bytes: $0), to: handler) }
    return counts
  }
}
