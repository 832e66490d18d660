import CXDPKit
import Glibc
import SystemPackage
import XDPPrograms

/// An AF_XDP socket: frames of one interface queue delivered into memory shared with user
/// space, and frames sent from it, with no copy through the socket layer.
///
/// The socket owns everything it needs: the socket descriptor, the UMEM (``frameCount`` frames
/// of ``frameSize`` bytes), the four rings mapped from the kernel, and (with
/// ``XDPSocketRedirect/defaultProgram(mode:)``) the redirect program and its attachment. It is a
/// non-copyable value: exactly one owner, and every mutating call has it to itself, so the
/// single-producer/single-consumer ring protocol holds without locks. Everything is released
/// once, when the value is destroyed or ``close()`` is called.
///
/// Received frames are only visible inside the closure of ``receive(limit:_:)``, and frames to
/// send are written inside the closure of ``transmit(count:wakeUp:_:)``: a frame's memory cannot
/// outlive the call that lent it, and the socket cannot be closed while a closure runs (it is
/// borrowed exclusively), so no frame is ever read after its UMEM was unmapped.
///
/// ```swift
/// var socket = try XDPSocket(interface: "eth1", queue: 0)
/// try socket.receive { frames in
///   frames.forEachFrame { index, bytes in print(index, bytes.count) }
/// }
/// ```
///
/// Create the socket on a thread in the network namespace of the interface (see
/// `withNetworkNamespace(named:_:)`); once bound, it may be used from any thread.
public struct XDPSocket: ~Copyable {
  /// The socket descriptor, owned.
  let socket: BPFFileDescriptor
  /// The UMEM's frames, shared with the sockets that share this socket's UMEM.
  let umem: XDPUMEM
  /// The four rings' mappings.
  let rings: XDPRingRegions
  var fill: XDPRing
  var completion: XDPRing
  var rx: XDPRing
  var tx: XDPRing
  /// Frames free for transmitting.
  var freeFrames: XDPFrameStack
  /// The default redirect program, while the socket owns it.
  let redirectObject: LoadedObject?
  /// The default redirect program's attachment, while the socket owns it.
  let redirectLink: XDPLink?

  /// The interface's index in the namespace the socket was created in.
  public let interfaceIndex: Int32
  /// The interface's name.
  public let interfaceName: String
  /// The queue the socket is bound to.
  public let queue: UInt32
  /// The mode the kernel bound the socket in.
  public let mode: XDPSocketMode
  /// The sizes and options it was created with.
  public let configuration: XDPSocketConfiguration

  /// The socket descriptor, for the caller's own XSKMAP (`XSKMap.set(socketDescriptor:at:)`)
  /// or poll loop. Valid while the socket exists; never close it.
  public var descriptor: Int32 { socket.rawValue }

  /// Bytes per UMEM frame.
  public var frameSize: Int { configuration.frameSize }
  /// Frames in the UMEM.
  public var frameCount: Int { configuration.frameCount }
  /// The program attached by ``XDPSocketRedirect/defaultProgram(mode:)``, `nil` otherwise.
  public var redirectProgram: XDPLink? { redirectLink }

  /// Creates an AF_XDP socket with a UMEM and rings sized by `configuration`, binds it to
  /// `queue` of `interface` and sets up `redirect` so that the queue's frames reach it.
  ///
  /// Errors name what failed: a configuration value the kernel would refuse (checked before
  /// any call), ``XDPSocketError/noSuchInterface(_:)``,
  /// ``XDPSocketError/noSuchQueue(interface:queue:available:)``,
  /// ``XDPSocketError/zeroCopyUnsupported(interface:queue:)`` (``XDPBindMode/zeroCopy`` on a
  /// driver without it), ``XDPSocketError/hugePagesUnavailable(bytes:errno:)``, or the system
  /// call. Whatever was created before the failure is released.
  ///
  /// The corresponding calls are `socket(AF_XDP, SOCK_RAW, 0)`, `mmap(2)` of the UMEM,
  /// `setsockopt(SOL_XDP)` with XDP_UMEM_REG, XDP_UMEM_FILL_RING, XDP_UMEM_COMPLETION_RING,
  /// XDP_RX_RING and XDP_TX_RING, `getsockopt(XDP_MMAP_OFFSETS)`, `mmap(2)` of the rings,
  /// `bind(2)` and `getsockopt(XDP_OPTIONS)`.
  public init(
    interface: NetworkInterface, queue: UInt32,
    configuration: XDPSocketConfiguration = XDPSocketConfiguration(),
    redirect: XDPSocketRedirect = .defaultProgram()
  ) throws(XDPSocketError) {
    try configuration.validate(pageSize: Int(sysconf(Int32(_SC_PAGESIZE))))
    let (index, name) = try Self.resolve(interface)

    let socket = try Self.openSocket()
    let fd = socket.rawValue
    let umem = try XDPUMEM(configuration: configuration)
    try Self.registerUMEM(fd, base: umem.base, configuration: configuration)
    let rings = try XDPRingRegions(fd, configuration: configuration)
    try Self.bind(
      fd, interfaceIndex: index, interfaceName: name, queue: queue, configuration: configuration,
      sharedUMEMOf: nil)
    let frames = (0..<configuration.frameCount).map { UInt64($0 * configuration.frameSize) }
    try self.init(
      socket: socket, umem: umem, rings: rings, frames: frames, interfaceIndex: index,
      interfaceName: name, queue: queue, configuration: configuration, redirect: redirect)
  }

  /// Creates an AF_XDP socket that shares `owner`'s UMEM: it takes `frames` of the owner's
  /// free transmit frames for its own (half of them, at most its fill ring's size, for
  /// receiving), gets four rings of its own sized by `configuration`, and binds to `queue` of
  /// `interface`, which must be another queue or another interface than the owner's (kernel
  /// 5.10+). Frame size, headroom and huge pages are the owner's; the copy mode and need_wakeup
  /// follow the owner's binding. The frames stay with this socket: closing it does not give them
  /// back to the owner. The UMEM stays mapped until the last socket using it is gone.
  ///
  /// Throws ``XDPSocketError/notEnoughFrames(requested:available:)`` when the owner has fewer
  /// free frames, ``XDPSocketError/sharedQueue(interface:queue:)`` for the owner's own queue,
  /// and otherwise as ``init(interface:queue:configuration:redirect:)``. On failure the owner
  /// keeps its frames.
  ///
  /// The corresponding calls are those of ``init(interface:queue:configuration:redirect:)``,
  /// without XDP_UMEM_REG, and `bind(2)` with XDP_SHARED_UMEM and the owner's descriptor.
  public init(
    interface: NetworkInterface, queue: UInt32, sharingUMEMOf owner: inout XDPSocket, frames: Int,
    configuration: XDPSocketConfiguration = XDPSocketConfiguration(),
    redirect: XDPSocketRedirect = .defaultProgram()
  ) throws(XDPSocketError) {
    var shared = configuration
    shared.frameSize = owner.configuration.frameSize
    shared.headroom = owner.configuration.headroom
    shared.hugePages = owner.configuration.hugePages
    shared.bindMode = owner.configuration.bindMode
    shared.needWakeup = owner.configuration.needWakeup
    shared.frameCount = frames
    try shared.validate(pageSize: Int(sysconf(Int32(_SC_PAGESIZE))))
    owner.reapCompletions()
    guard frames <= owner.freeFrames.count else {
      throw .notEnoughFrames(requested: frames, available: owner.freeFrames.count)
    }
    let (index, name) = try Self.resolve(interface)
    guard index != owner.interfaceIndex || queue != owner.queue || name != owner.interfaceName else {
      throw .sharedQueue(interface: name, queue: queue)
    }
    let socket = try Self.openSocket()
    let rings = try XDPRingRegions(socket.rawValue, configuration: shared)
    try Self.bind(
      socket.rawValue, interfaceIndex: index, interfaceName: name, queue: queue,
      configuration: shared, sharedUMEMOf: owner.descriptor)
    var taken: [UInt64] = []
    taken.reserveCapacity(frames)
    while taken.count < frames, let address = owner.freeFrames.pop() { taken.append(address) }
    do {
      try self.init(
        socket: socket, umem: owner.umem, rings: rings, frames: taken, interfaceIndex: index,
        interfaceName: name, queue: queue, configuration: shared, redirect: redirect)
    } catch {
      for address in taken.reversed() { owner.freeFrames.push(address) }
      throw error
    }
  }

  /// Puts the bound socket's first frames into the fill ring, the others on the free stack,
  /// sets up `redirect`, and assembles the value. The fill ring is filled before the redirect
  /// starts, so the first frames find room.
  private init(
    socket: BPFFileDescriptor, umem: XDPUMEM, rings: consuming XDPRingRegions, frames: [UInt64],
    interfaceIndex index: Int32, interfaceName name: String, queue: UInt32,
    configuration: XDPSocketConfiguration, redirect: XDPSocketRedirect
  ) throws(XDPSocketError) {
    let fd = socket.rawValue
    let mode = try Self.boundMode(fd)
    var fill = rings.ring(.fill, configuration: configuration)
    let reserved = fill.reserve(UInt32(configuration.receiveFrameCount))
    for offset in 0..<reserved {
      fill.setAddress(frames[Int(offset)], at: fill.cachedProducer &+ offset)
    }
    fill.submit(reserved)
    let (object, link) = try Self.setUpRedirect(redirect, socket: fd, interfaceIndex: index, queue: queue)

    var free = XDPFrameStack(capacity: frames.count)
    for address in frames[Int(reserved)...].reversed() { free.push(address) }
    self.fill = fill
    self.completion = rings.ring(.completion, configuration: configuration)
    self.rx = rings.ring(.rx, configuration: configuration)
    self.tx = rings.ring(.tx, configuration: configuration)
    self.rings = rings
    self.freeFrames = free
    self.redirectObject = object
    self.redirectLink = link
    self.mode = mode
    self.socket = socket
    self.umem = umem
    self.interfaceIndex = index
    self.interfaceName = name
    self.queue = queue
    self.configuration = configuration
  }

  /// Releases the socket, its rings, its UMEM and its redirect program now. Consuming: the
  /// value cannot be used afterwards. Dropping the value does the same.
  public consuming func close() {}

}

extension XDPSocket: @unchecked Sendable {}
// Sendable: the value is non-copyable, so the mapped memory behind its ring pointers is
// reached through one owner at a time; moving the owner to another thread moves all of it.
