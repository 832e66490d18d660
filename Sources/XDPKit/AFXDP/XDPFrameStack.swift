/// The UMEM frames free for transmitting: a fixed-capacity stack of frame addresses, allocated
/// once, so that taking and returning frames never allocates.
struct XDPFrameStack: ~Copyable {
  private let storage: UnsafeMutableBufferPointer<UInt64>
  /// The number of free frames.
  private(set) var count: Int = 0

  /// An empty stack with room for `capacity` addresses.
  init(capacity: Int) {
    storage = .allocate(capacity: max(capacity, 1))
  }

  deinit { storage.deallocate() }

  /// Adds a free frame. There is always room: every frame is either here or out, once.
  mutating func push(_ address: UInt64) {
    precondition(count < storage.count, "more frames returned than the UMEM holds")
    storage[count] = address
    count += 1
  }

  /// Takes a free frame, `nil` if there is none.
  mutating func pop() -> UInt64? {
    guard count > 0 else { return nil }
    count -= 1
    return storage[count]
  }
}
