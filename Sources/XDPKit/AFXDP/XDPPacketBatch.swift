/// Packets copied out of (or to be copied into) an AF_XDP socket by the async API: one
/// contiguous byte buffer and the end offset of each packet. A batch from
/// ``XDPAsyncSocket/batches(limit:)`` is reserved at its exact size: two allocations however
/// many packets it holds.
public struct XDPPacketBatch: Sendable, Hashable {
  /// All packets' bytes, back to back.
  public private(set) var bytes: [UInt8]
  /// The end offset of each packet in ``bytes``.
  public private(set) var ends: [Int]

  /// An empty batch with room for `packets` packets of `bytes` bytes in all.
  public init(reservingPackets packets: Int = 0, bytes: Int = 0) {
    self.bytes = []
    self.ends = []
    self.bytes.reserveCapacity(bytes)
    self.ends.reserveCapacity(packets)
  }

  /// The number of packets.
  public var count: Int { ends.count }

  /// Whether the batch holds no packet.
  public var isEmpty: Bool { ends.isEmpty }

  /// The range of packet `index` in ``bytes``.
  public func range(ofPacket index: Int) -> Range<Int> {
    (index == 0 ? 0 : ends[index - 1])..<ends[index]
  }

  /// The bytes of packet `index`.
  public subscript(index: Int) -> ArraySlice<UInt8> {
    bytes[range(ofPacket: index)]
  }

  /// Appends a packet.
  public mutating func append(_ packet: UnsafeRawBufferPointer) {
    bytes.append(contentsOf: packet)
    ends.append(bytes.count)
  }

  /// Appends a packet.
  public mutating func append(_ packet: some Collection<UInt8>) {
    bytes.append(contentsOf: packet)
    ends.append(bytes.count)
  }

  /// Calls `body` with the bytes of packet `index`, to change them in place.
  public mutating func withUnsafeMutableBytes<R>(
    ofPacket index: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> R
  ) rethrows -> R {
    let range = range(ofPacket: index)
    return try bytes.withUnsafeMutableBytes { try body(UnsafeMutableRawBufferPointer(rebasing: $0[range])) }
  }
}
