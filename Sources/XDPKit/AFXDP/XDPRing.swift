import Synchronization

/// One single-producer, single-consumer ring shared with the kernel: a power-of-two array of
/// descriptors and two free-running 32-bit indices, the producer's and the consumer's, each
/// written by one side only.
///
/// The protocol, for both directions:
/// - The producer writes descriptors into free slots, then publishes them by storing its new
///   index with release ordering. It learns which slots are free by loading the consumer
///   index with acquire ordering, so the consumer's reads of those slots happened before it
///   overwrites them.
/// - The consumer loads the producer index with acquire ordering, so the descriptors written
///   before it are visible, reads them, then hands the slots back by storing its new index
///   with release ordering.
///
/// Each side keeps a cached copy of both indices and loads the other side's index only when
/// the cache says the ring is full (producer) or empty (consumer). The indices are accessed as
/// Synchronization `Atomic<UInt32>` over the mapped memory. A ring value is used by one thread
/// at a time; the owner (``XDPSocket``, a non-copyable value) guarantees that.
struct XDPRing {
  /// The producer index in shared memory.
  let producer: UnsafePointer<Atomic<UInt32>>
  /// The consumer index in shared memory.
  let consumer: UnsafePointer<Atomic<UInt32>>
  /// The ring's flags word (XDP_RING_NEED_WAKEUP), `nil` where the ring has none.
  let flags: UnsafePointer<Atomic<UInt32>>?
  /// The descriptor array: `size` entries of `descriptorSize` bytes.
  let descriptors: UnsafeMutableRawPointer
  /// The number of slots, a power of two.
  let size: UInt32
  /// `size - 1`.
  let mask: UInt32
  /// This side's view of the producer index (its own, if it is the producer).
  private(set) var cachedProducer: UInt32
  /// This side's view of the consumer index (its own, if it is the consumer).
  private(set) var cachedConsumer: UInt32

  /// A ring over shared memory: `producer`, `consumer` and `flags` point to 32-bit words,
  /// `descriptors` to `size` descriptors. The cached indices start from the shared ones.
  init(
    producer: UnsafeMutableRawPointer, consumer: UnsafeMutableRawPointer,
    flags: UnsafeMutableRawPointer?, descriptors: UnsafeMutableRawPointer, size: UInt32
  ) {
    precondition(size > 0 && size & (size - 1) == 0, "ring size must be a power of two")
    self.producer = UnsafePointer(producer.assumingMemoryBound(to: Atomic<UInt32>.self))
    self.consumer = UnsafePointer(consumer.assumingMemoryBound(to: Atomic<UInt32>.self))
    self.flags = flags.map { UnsafePointer($0.assumingMemoryBound(to: Atomic<UInt32>.self)) }
    self.descriptors = descriptors
    self.size = size
    self.mask = size - 1
    cachedProducer = self.producer.pointee.load(ordering: .acquiring)
    cachedConsumer = self.consumer.pointee.load(ordering: .acquiring)
  }

  // MARK: Producer side (fill and TX rings in user space)

  /// The number of free slots, at most `wanted`, from index ``cachedProducer`` on. Loads the
  /// consumer index (acquire) only if the cache shows fewer than `wanted` free.
  mutating func reserve(_ wanted: UInt32) -> UInt32 {
    var free = size &- (cachedProducer &- cachedConsumer)
    if free < wanted {
      cachedConsumer = consumer.pointee.load(ordering: .acquiring)
      free = size &- (cachedProducer &- cachedConsumer)
    }
    return min(free, wanted)
  }

  /// Publishes `count` descriptors written from index ``cachedProducer`` on (release).
  mutating func submit(_ count: UInt32) {
    cachedProducer &+= count
    producer.pointee.store(cachedProducer, ordering: .releasing)
  }

  // MARK: Consumer side (completion and RX rings in user space)

  /// The number of filled slots, at most `wanted`, from index ``cachedConsumer`` on. Loads
  /// the producer index (acquire) only if the cache shows fewer than `wanted` available.
  mutating func peek(_ wanted: UInt32) -> UInt32 {
    var available = cachedProducer &- cachedConsumer
    if available < wanted {
      cachedProducer = producer.pointee.load(ordering: .acquiring)
      available = cachedProducer &- cachedConsumer
    }
    return min(available, wanted)
  }

  /// Hands `count` read slots back to the producer (release).
  mutating func release(_ count: UInt32) {
    cachedConsumer &+= count
    consumer.pointee.store(cachedConsumer, ordering: .releasing)
  }

  // MARK: Descriptors

  /// The UMEM address in slot `index` (masked) of a fill or completion ring.
  func address(at index: UInt32) -> UInt64 {
    descriptors.load(fromByteOffset: Int(index & mask) &* 8, as: UInt64.self)
  }

  /// Writes a UMEM address into slot `index` (masked) of a fill or completion ring.
  func setAddress(_ address: UInt64, at index: UInt32) {
    descriptors.storeBytes(of: address, toByteOffset: Int(index & mask) &* 8, as: UInt64.self)
  }

  /// The descriptor (address, length) in slot `index` (masked) of an RX or TX ring.
  func descriptor(at index: UInt32) -> (address: UInt64, length: UInt32) {
    let offset = Int(index & mask) &* 16
    return (
      descriptors.load(fromByteOffset: offset, as: UInt64.self),
      descriptors.load(fromByteOffset: offset + 8, as: UInt32.self)
    )
  }

  /// Writes a descriptor (address, length, no options) into slot `index` (masked) of an RX
  /// or TX ring.
  func setDescriptor(address: UInt64, length: UInt32, at index: UInt32) {
    let offset = Int(index & mask) &* 16
    descriptors.storeBytes(of: address, toByteOffset: offset, as: UInt64.self)
    descriptors.storeBytes(of: length, toByteOffset: offset + 8, as: UInt32.self)
    descriptors.storeBytes(of: UInt32(0), toByteOffset: offset + 12, as: UInt32.self)
  }

  /// Whether the kernel asked to be woken up (XDP_RING_NEED_WAKEUP in the flags word).
  var needsWakeup: Bool {
    guard let flags else { return false }
    return flags.pointee.load(ordering: .relaxed) & 1 != 0
  }
}
