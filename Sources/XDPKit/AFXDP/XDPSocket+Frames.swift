import CXDPKit
import Glibc
import SystemPackage

/// Received frames lent by ``XDPSocket/receive(limit:_:)``: valid only inside its closure,
/// which gets the batch borrowed. The frames' memory is the UMEM itself; nothing is copied.
public struct XDPFrameBatch: ~Copyable {
  let ring: XDPRing
  let start: UInt32
  let umem: UnsafeMutableRawPointer
  /// The number of frames.
  public let count: Int

  /// The length of frame `index` in bytes.
  public func length(ofFrame index: Int) -> Int {
    precondition(index >= 0 && index < count, "frame index \(index) out of range 0..<\(count)")
    return Int(ring.descriptor(at: start &+ UInt32(index)).length)
  }

  /// Calls `body` with the bytes of frame `index`. The pointer is valid only during `body`.
  public func withUnsafeFrame<R, E: Error>(
    at index: Int, _ body: (UnsafeRawBufferPointer) throws(E) -> R
  ) throws(E) -> R {
    precondition(index >= 0 && index < count, "frame index \(index) out of range 0..<\(count)")
    let descriptor = ring.descriptor(at: start &+ UInt32(index))
    return try body(
      UnsafeRawBufferPointer(start: umem + Int(descriptor.address), count: Int(descriptor.length)))
  }

  /// Calls `body` with each frame's index and bytes, in the order received. The pointers are
  /// valid only during `body`.
  public func forEachFrame<E: Error>(_ body: (Int, UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
    for index in 0..<count {
      let descriptor = ring.descriptor(at: start &+ UInt32(index))
      try body(
        index,
        UnsafeRawBufferPointer(start: umem + Int(descriptor.address), count: Int(descriptor.length)))
    }
  }
}

extension XDPSocket {
  /// Lends up to `limit` received frames to `body`, then gives them back to the kernel for
  /// receiving again. Does not wait: with no frame received, `body` gets an empty batch (use
  /// ``waitForReceive(timeout:)`` or the async API to wait). Returns what `body` returns.
  ///
  /// The frames are released also when `body` throws. The call itself allocates nothing:
  /// descriptors are read from the mapped ring and the frames lent in place (0 heap
  /// allocations in steady state, tested and measured in the benchmark's AF_XDP suite).
  ///
  /// The ring calls are the RX ring's consumer side and the fill ring's producer side; when
  /// the fill ring asks for a wakeup, `recvfrom(MSG_DONTWAIT)` gives the kernel one.
  public mutating func receive<R, E: Error>(
    limit: Int = 64, _ body: (borrowing XDPFrameBatch) throws(E) -> R
  ) throws(E) -> R {
    let wanted = UInt32(clamping: max(limit, 0))
    var available = rx.peek(wanted)
    if available == 0 && fill.needsWakeup {
      wakeReceive()
      available = rx.peek(wanted)
    }
    let start = rx.cachedConsumer
    defer { recycle(start: start, count: available) }
    let batch = XDPFrameBatch(ring: rx, start: start, umem: umem.base, count: Int(available))
    return try body(batch)
  }

  /// Releases `count` RX slots from `start` and puts their frames back into the fill ring,
  /// which always has room for them (it holds every frame of the receive side).
  mutating func recycle(start: UInt32, count: UInt32) {
    guard count > 0 else { return }
    let mask = ~UInt64(configuration.frameSize - 1)
    // The fill ring holds every frame of the receive side, so there is room for these
    // frames once the kernel has published how far it consumed the fill ring. It publishes
    // that index just after the RX producer index (two stores, in that order, on another CPU),
    // so right after a receive the fill ring can still look full for a moment: wait for the
    // second store, as libxdp's examples do, instead of taking the ring for broken.
    var room = fill.reserve(count)
    var tries = 0
    while room < count {
      tries &+= 1
      if tries > 64 { sched_yield() }
      room = fill.reserve(count)
    }
    // The per-frame loops count with `while`: iterating a Range<UInt32> goes through
    // unspecialized generic code in unoptimized builds, which allocates on every step
    // (XDPSocketAllocationTests found one allocation per frame in a debug build).
    var offset: UInt32 = 0
    while offset < count {
      let address = rx.descriptor(at: start &+ offset).address & mask
      fill.setAddress(address, at: fill.cachedProducer &+ offset)
      offset &+= 1
    }
    rx.release(count)
    fill.submit(count)
  }

  /// Gives the kernel a chance to fill the RX ring: `recvfrom(fd, NULL, 0, MSG_DONTWAIT)`.
  /// Its errors are not failures: EAGAIN and friends only say there was nothing to do.
  private func wakeReceive() {
    _ = recvfrom(socket.rawValue, nil, 0, Int32(MSG_DONTWAIT), nil, nil)
  }

  /// The number of frames in the RX ring now, without taking any.
  public mutating func pendingReceives() -> Int {
    Int(rx.peek(rx.size))
  }

  // MARK: - Transmit

  /// The number of bytes a frame to transmit may have: the UMEM frame size.
  public var transmitCapacity: Int { configuration.frameSize }

  /// The number of UMEM frames free for transmitting right now. Completions are reaped
  /// first, and if frames still wait in the TX ring the kernel is woken to send them (in copy
  /// mode it sends a limited batch per wakeup), so calling this in a loop drains the ring.
  public mutating func freeTransmitFrames() throws(XDPSocketError) -> Int {
    reapCompletions()
    if hasPendingTransmits { try wakeTransmit() }
    return freeFrames.count
  }

  /// Whether frames wait in the TX ring for the kernel to take them.
  var hasPendingTransmits: Bool {
    tx.consumer.pointee.load(ordering: .acquiring) != tx.cachedProducer
  }

  /// Queues up to `count` frames for transmission. For each, `body` gets the frame's index in
  /// the batch and the UMEM frame (``transmitCapacity`` bytes) to write into, and returns the
  /// number of bytes written. Returns how many frames were queued: fewer than `count` when
  /// the TX ring or the free frames run out (both are released again as the kernel completes
  /// transmissions, which every call reaps first).
  ///
  /// A length above ``transmitCapacity`` (or below 0) throws
  /// ``XDPSocketError/frameTooLarge(length:capacity:)`` and queues nothing of the batch. Any
  /// error of `body` also queues nothing. With `wakeUp` (the default) the kernel is kicked
  /// with `sendto(2)` when it asks for it (or always, without need_wakeup); without it the
  /// frames wait in the TX ring until the next call that wakes the kernel.
  ///
  /// The ring calls are the completion ring's consumer side and the TX ring's producer side.
  @discardableResult
  public mutating func transmit(
    count: Int, wakeUp: Bool = true,
    _ body: (Int, UnsafeMutableRawBufferPointer) throws -> Int
  ) throws -> Int {
    reapCompletions()
    let slots = tx.reserve(UInt32(clamping: min(max(count, 0), freeFrames.count)))
    var written: UInt32 = 0
    do {
      while written < slots {
        let index = Int(written)
        guard try writeTransmitFrame(at: written, { try body(index, $0) }) else { break }
        written += 1
      }
    } catch {
      unwindTransmitFrames(written)
      throw error
    }
    tx.submit(written)
    if wakeUp && hasPendingTransmits { try wakeTransmit() }
    return Int(written)
  }

  /// Takes a free frame, lets `body` write it, and puts it into TX slot `offset` after the
  /// published producer index (not yet published). Returns `false`, with nothing taken, when
  /// no frame is free or `body` returns `nil`. A length out of range throws
  /// ``XDPSocketError/frameTooLarge(length:capacity:)``; then, as on any error of `body`, the
  /// frame goes back.
  mutating func writeTransmitFrame(
    at offset: UInt32, _ body: (UnsafeMutableRawBufferPointer) throws -> Int?
  ) throws -> Bool {
    guard let address = freeFrames.pop() else { return false }
    let capacity = configuration.frameSize
    let length: Int?
    do {
      length = try body(UnsafeMutableRawBufferPointer(start: umem.base + Int(address), count: capacity))
    } catch {
      freeFrames.push(address)
      throw error
    }
    guard let length else {
      freeFrames.push(address)
      return false
    }
    guard length >= 0, length <= capacity else {
      freeFrames.push(address)
      throw XDPSocketError.frameTooLarge(length: length, capacity: capacity)
    }
    tx.setDescriptor(address: address, length: UInt32(length), at: tx.cachedProducer &+ offset)
    return true
  }

  /// Gives the frames of `count` written but unpublished TX slots back to the free frames:
  /// nothing of a failed batch is sent.
  mutating func unwindTransmitFrames(_ count: UInt32) {
    var offset: UInt32 = 0
    while offset < count {
      freeFrames.push(tx.descriptor(at: tx.cachedProducer &+ offset).address)
      offset &+= 1
    }
  }

  /// Queues one frame, copied from `bytes`. Returns `false` when no TX slot or free frame
  /// is left. A frame longer than ``transmitCapacity`` throws
  /// ``XDPSocketError/frameTooLarge(length:capacity:)`` before anything is queued.
  @discardableResult
  public mutating func transmit(_ bytes: UnsafeRawBufferPointer, wakeUp: Bool = true) throws -> Bool {
    guard bytes.count <= transmitCapacity else {
      throw XDPSocketError.frameTooLarge(length: bytes.count, capacity: transmitCapacity)
    }
    return try transmit(count: 1, wakeUp: wakeUp) { _, frame in
      frame.copyMemory(from: bytes)
      return bytes.count
    } == 1
  }

  /// Kicks the kernel to send what is in the TX ring, if it asked for it (or always when the
  /// socket was bound without need_wakeup). EAGAIN, EBUSY, ENOBUFS and ENETDOWN only say that
  /// the kernel is busy or the link down, and are not errors; the frames stay queued.
  ///
  /// The corresponding call is `sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0)`.
  public mutating func wakeTransmit() throws(XDPSocketError) {
    guard !configuration.needWakeup || tx.needsWakeup else { return }
    if sendto(socket.rawValue, nil, 0, Int32(MSG_DONTWAIT), nil, 0) >= 0 { return }
    let code = Errno.current
    if code == .resourceTemporarilyUnavailable || code == .resourceBusy || code == .noBufferSpace
      || code == .networkDown || code == .interrupted
    {
      return
    }
    throw .syscall(.wakeTransmit, errno: code)
  }

  /// Takes the transmitted frames from the completion ring back into the free frames.
  /// Returns how many.
  @discardableResult
  public mutating func reapCompletions() -> Int {
    let done = completion.peek(completion.size)
    guard done > 0 else { return 0 }
    let mask = ~UInt64(configuration.frameSize - 1)
    let start = completion.cachedConsumer
    var offset: UInt32 = 0
    while offset < done {
      freeFrames.push(completion.address(at: start &+ offset) & mask)
      offset &+= 1
    }
    completion.release(done)
    return Int(done)
  }
}
