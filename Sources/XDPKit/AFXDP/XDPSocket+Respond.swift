extension XDPSocket {
  /// Receives up to `limit` frames and lets `body` answer each: it gets the received frame
  /// and an empty UMEM frame (``transmitCapacity`` bytes), and returns the length of the reply
  /// written there, or `nil` to send nothing for this frame. The replies are queued for
  /// transmission in order, the received frames go back to the fill ring, and the kernel is
  /// woken as in ``transmit(count:wakeUp:_:)``.
  ///
  /// Only as many frames are taken as there are TX slots and free frames for replies, so no
  /// frame is ever taken without room to answer it; the others wait in the RX ring. Returns
  /// how many frames were received and how many replies queued. A reply longer than
  /// ``transmitCapacity`` throws ``XDPSocketError/frameTooLarge(length:capacity:)``; then, as
  /// for any error of `body`, the frames received in this call are released and no reply of
  /// the call is sent. The call itself allocates nothing (free frames come from a stack
  /// allocated once, at creation; 0 heap allocations in steady state, tested and measured).
  @discardableResult
  public mutating func respond(
    limit: Int = 64, wakeUp: Bool = true,
    _ body: (UnsafeRawBufferPointer, UnsafeMutableRawBufferPointer) throws -> Int?
  ) throws -> (received: Int, transmitted: Int) {
    reapCompletions()
    let room = tx.reserve(UInt32(clamping: min(max(limit, 0), freeFrames.count)))
    let taken = rx.peek(room)
    guard taken > 0 else {
      if wakeUp && hasPendingTransmits { try wakeTransmit() }
      return (0, 0)
    }
    let start = rx.cachedConsumer
    var replies: UInt32 = 0
    defer { recycle(start: start, count: taken) }
    do {
      var offset: UInt32 = 0  // `while`, not a Range<UInt32>: see recycle(start:count:)
      while offset < taken {
        let received = rx.descriptor(at: start &+ offset)
        let frame = UnsafeRawBufferPointer(
          start: umem.base + Int(received.address), count: Int(received.length))
        if try writeTransmitFrame(at: replies, { try body(frame, $0) }) { replies += 1 }
        offset &+= 1
      }
    } catch {
      unwindTransmitFrames(replies)
      throw error
    }
    tx.submit(replies)
    if wakeUp && hasPendingTransmits { try wakeTransmit() }
    return (Int(taken), Int(replies))
  }

  /// The number of UMEM frames on the transmit side: those not kept for receiving.
  public var transmitFrameCount: Int { configuration.frameCount - configuration.receiveFrameCount }
}
