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
  /// The UMEM's frames.
  let umem: XDPMappedRegion
  let fillRegion: XDPMappedRegion
  let completionRegion: XDPMappedRegion
  let rxRegion: XDPMappedRegion
  let txRegion: XDPMappedRegion
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

  /// The socket descriptor, for the caller's own XSKMAP (``XSKMap/set(socketDescriptor:at:)``)
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
    let index: Int32
    let name: String
    do {
      index = try interface.resolveIndex()
      name = try XDPKitSys.interfaceName(index: index)
    } catch {
      throw .noSuchInterface(interface.description)
    }

    let fd = Glibc.socket(cxdpkit_af_xdp(), Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw .syscall(.socket, errno: .current) }
    let socket = BPFFileDescriptor(adopting: fd)

    let umem: XDPMappedRegion
    switch XDPMappedRegion.anonymous(length: configuration.umemLength, hugePages: configuration.hugePages) {
    case .success(let region): umem = region
    case .failure(let errno) where configuration.hugePages:
      throw .hugePagesUnavailable(bytes: configuration.umemLength, errno: errno)
    case .failure(let errno): throw .syscall(.mapUMEM, errno: errno)
    }
    try Self.registerUMEM(fd, base: umem.base, configuration: configuration)
    try Self.setRingSize(fd, XDP_UMEM_FILL_RING, "XDP_UMEM_FILL_RING", configuration.fillRingSize)
    try Self.setRingSize(
      fd, XDP_UMEM_COMPLETION_RING, "XDP_UMEM_COMPLETION_RING", configuration.completionRingSize)
    try Self.setRingSize(fd, XDP_RX_RING, "XDP_RX_RING", configuration.rxRingSize)
    try Self.setRingSize(fd, XDP_TX_RING, "XDP_TX_RING", configuration.txRingSize)
    let offsets = try Self.ringOffsets(fd)

    let fillRegion = try Self.mapRing(
      fd, .fill, offsets.fr, size: configuration.fillRingSize, descriptorSize: 8,
      pageOffset: cxdpkit_xdp_pgoff_fill_ring())
    let completionRegion = try Self.mapRing(
      fd, .completion, offsets.cr, size: configuration.completionRingSize, descriptorSize: 8,
      pageOffset: cxdpkit_xdp_pgoff_completion_ring())
    let rxRegion = try Self.mapRing(
      fd, .rx, offsets.rx, size: configuration.rxRingSize, descriptorSize: 16,
      pageOffset: cxdpkit_xdp_pgoff_rx_ring())
    let txRegion = try Self.mapRing(
      fd, .tx, offsets.tx, size: configuration.txRingSize, descriptorSize: 16,
      pageOffset: cxdpkit_xdp_pgoff_tx_ring())

    try Self.bind(fd, interfaceIndex: index, interfaceName: name, queue: queue, configuration: configuration)

    let mode = try Self.boundMode(fd)

    // The first frames go to the fill ring before the redirect starts, the others wait for
    // transmitting.
    var fill = XDPRing(fillRegion, offsets.fr, size: configuration.fillRingSize)
    let receiving = UInt32(configuration.receiveFrameCount)
    let reserved = fill.reserve(receiving)
    for frame in 0..<reserved {
      fill.setAddress(UInt64(Int(frame) * configuration.frameSize), at: fill.cachedProducer &+ frame)
    }
    fill.submit(reserved)

    var object: LoadedObject? = nil
    var link: XDPLink? = nil
    switch redirect {
    case .none:
      break
    case .xskMap(let map, let key):
      do { try map.set(socketDescriptor: fd, at: key ?? queue) } catch { throw .xskMap(error) }
    case .defaultProgram(let attachMode):
      (object, link) = try Self.attachDefaultProgram(
        socket: fd, interfaceIndex: index, queue: queue, mode: attachMode)
    }

    var free = XDPFrameStack(capacity: configuration.frameCount)
    for frame in stride(from: configuration.frameCount - 1, through: Int(reserved), by: -1) {
      free.push(UInt64(frame * configuration.frameSize))
    }
    self.fill = fill
    self.completion = XDPRing(completionRegion, offsets.cr, size: configuration.completionRingSize)
    self.rx = XDPRing(rxRegion, offsets.rx, size: configuration.rxRingSize)
    self.tx = XDPRing(txRegion, offsets.tx, size: configuration.txRingSize)
    self.freeFrames = free
    self.redirectObject = object
    self.redirectLink = link
    self.mode = mode
    self.socket = socket
    self.umem = umem
    self.fillRegion = fillRegion
    self.completionRegion = completionRegion
    self.rxRegion = rxRegion
    self.txRegion = txRegion
    self.interfaceIndex = index
    self.interfaceName = name
    self.queue = queue
    self.configuration = configuration
  }

  /// Releases the socket, its rings, its UMEM and its redirect program now. Consuming: the
  /// value cannot be used afterwards. Dropping the value does the same.
  public consuming func close() {}

  // MARK: - Set-up steps

  /// Registers the UMEM with a zero-padded `struct xdp_umem_reg` (its last word is
  /// `tx_metadata_len` on kernels that know it, and must be 0 here).
  private static func registerUMEM(
    _ fd: Int32, base: UnsafeMutableRawPointer, configuration: XDPSocketConfiguration
  ) throws(XDPSocketError) {
    let size = MemoryLayout<xdp_umem_reg>.stride
    let result = withUnsafeTemporaryAllocation(byteCount: size, alignment: 8) { buffer in
      buffer.initializeMemory(as: UInt8.self, repeating: 0)
      let raw = buffer.baseAddress!
      raw.storeBytes(of: UInt64(UInt(bitPattern: base)), toByteOffset: 0, as: UInt64.self)
      raw.storeBytes(of: UInt64(configuration.frameSize * configuration.frameCount), toByteOffset: 8, as: UInt64.self)
      raw.storeBytes(of: UInt32(configuration.frameSize), toByteOffset: 16, as: UInt32.self)
      raw.storeBytes(of: UInt32(configuration.headroom), toByteOffset: 20, as: UInt32.self)
      return setsockopt(fd, cxdpkit_sol_xdp(), XDP_UMEM_REG, raw, socklen_t(size))
    }
    if result != 0 { throw .syscall(.setOption("XDP_UMEM_REG"), errno: .current) }
  }

  private static func setRingSize(_ fd: Int32, _ option: Int32, _ name: String, _ size: Int)
    throws(XDPSocketError)
  {
    var value = Int32(size)
    if setsockopt(fd, cxdpkit_sol_xdp(), option, &value, socklen_t(MemoryLayout<Int32>.size)) != 0 {
      throw .syscall(.setOption(name), errno: .current)
    }
  }

  /// The offsets of each ring's producer, consumer, flags and descriptors in its mapping.
  /// Kernels before 5.4 report no flags word (a shorter struct); they are refused.
  private static func ringOffsets(_ fd: Int32) throws(XDPSocketError) -> xdp_mmap_offsets {
    var offsets = xdp_mmap_offsets()
    var length = socklen_t(MemoryLayout<xdp_mmap_offsets>.size)
    if getsockopt(fd, cxdpkit_sol_xdp(), XDP_MMAP_OFFSETS, &offsets, &length) != 0 {
      throw .syscall(.getOption("XDP_MMAP_OFFSETS"), errno: .current)
    }
    guard length == socklen_t(MemoryLayout<xdp_mmap_offsets>.size) else {
      throw .syscall(.getOption("XDP_MMAP_OFFSETS"), errno: .notSupported)
    }
    return offsets
  }

  private static func mapRing(
    _ fd: Int32, _ kind: XDPRingKind, _ offsets: xdp_ring_offset, size: Int, descriptorSize: Int,
    pageOffset: UInt64
  ) throws(XDPSocketError) -> XDPMappedRegion {
    let length = Int(offsets.desc) + size * descriptorSize
    switch XDPMappedRegion.ring(descriptor: fd, length: length, offset: pageOffset) {
    case .success(let region): return region
    case .failure(let errno): throw .syscall(.mapRing(kind), errno: errno)
    }
  }

  private static func bind(
    _ fd: Int32, interfaceIndex: Int32, interfaceName: String, queue: UInt32,
    configuration: XDPSocketConfiguration
  ) throws(XDPSocketError) {
    var flags: UInt16 = 0
    switch configuration.bindMode {
    case .auto: break
    case .copy: flags |= UInt16(XDP_COPY)
    case .zeroCopy: flags |= UInt16(XDP_ZEROCOPY)
    }
    if configuration.needWakeup { flags |= UInt16(XDP_USE_NEED_WAKEUP) }
    var address = sockaddr_xdp(
      sxdp_family: UInt16(cxdpkit_af_xdp()), sxdp_flags: flags,
      sxdp_ifindex: UInt32(bitPattern: interfaceIndex), sxdp_queue_id: queue, sxdp_shared_umem_fd: 0)
    // The kernel frees the queue of a closed socket asynchronously (after an RCU grace
    // period), so a bind right after a close can find it still taken: EBUSY is retried for up
    // to 200 ms before it is reported.
    var code = Errno.current
    for attempt in 0...busyRetryCount {
      let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_xdp>.size))
        }
      }
      if result == 0 { return }
      code = Errno.current
      guard code == .resourceBusy, attempt < busyRetryCount else { break }
      usleep(busyRetryInterval)
    }
    if code == .notSupported && configuration.bindMode == .zeroCopy {
      throw .zeroCopyUnsupported(interface: interfaceName, queue: queue)
    }
    if code == .resourceBusy { throw .queueBusy(interface: interfaceName, queue: queue) }
    if code == .operationNotSupportedByDevice { throw .noSuchInterface(interfaceName) }
    if code == .invalidArgument, let count = queueCount(interfaceName), queue >= UInt32(count) {
      throw .noSuchQueue(interface: interfaceName, queue: queue, available: count)
    }
    throw .syscall(.bind, errno: code)
  }

  /// How often, and how many microseconds apart, a bind that found the queue busy is tried
  /// again: 200 ms in all.
  static let busyRetryCount = 20
  static let busyRetryInterval: UInt32 = 10_000

  /// The number of queues an AF_XDP socket can bind to on `interface` (both a receive and a
  /// transmit queue must exist), `nil` if the driver does not say.
  ///
  /// The corresponding call is `ioctl(SIOCETHTOOL)` with ETHTOOL_GCHANNELS.
  static func queueCount(_ interface: String) -> Int? {
    let fd = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { _ = Glibc.close(fd) }
    var rx: UInt32 = 0, tx: UInt32 = 0, combined: UInt32 = 0
    guard cxdpkit_ethtool_channels(fd, interface, &rx, &tx, &combined) == 0 else { return nil }
    return Int(min(rx, tx) + combined)
  }

  private static func boundMode(_ fd: Int32) throws(XDPSocketError) -> XDPSocketMode {
    var options = xdp_options()
    var length = socklen_t(MemoryLayout<xdp_options>.size)
    if getsockopt(fd, cxdpkit_sol_xdp(), XDP_OPTIONS, &options, &length) != 0 {
      throw .syscall(.getOption("XDP_OPTIONS"), errno: .current)
    }
    return options.flags & UInt32(XDP_OPTIONS_ZEROCOPY) != 0 ? .zeroCopy : .copy
  }

  /// Loads Programs/xdp_xsk_redirect.c, puts the socket into slot `queue` of its XSKS map and
  /// attaches it to the interface.
  private static func attachDefaultProgram(
    socket: Int32, interfaceIndex: Int32, queue: UInt32, mode: XDPAttachMode
  ) throws(XDPSocketError) -> (LoadedObject, XDPLink) {
    guard let bytes = XDPPrograms.object(named: defaultProgramObject) else {
      preconditionFailure("\(defaultProgramObject).o is not embedded in XDPPrograms")
    }
    let object: BPFObject
    let loaded: LoadedObject
    let program: XDPProgram
    do { object = try BPFObject(bytes: bytes) } catch { throw .loadRedirectProgram(error) }
    do { loaded = try object.load() } catch { throw .loadRedirectProgram(error) }
    do { program = try loaded.xdpProgram(defaultProgramName) } catch { throw .loadRedirectProgram(error) }
    let map: XSKMap
    do { map = try XSKMap(loaded.map("XSKS")) } catch { throw .loadRedirectProgram(error) }
    do { try map.set(socketDescriptor: socket, at: queue) } catch { throw .xskMap(error) }
    do {
      return (loaded, try program.attach(to: .index(interfaceIndex), mode: mode))
    } catch {
      throw .attachRedirectProgram(error)
    }
  }

  /// The embedded object of the default redirect program.
  public static let defaultProgramObject = "xdp_xsk_redirect"
  /// The default redirect program's function.
  public static let defaultProgramName = "xdp_xsk_redirect"
}

extension XDPSocket: @unchecked Sendable {}
// Sendable: the value is non-copyable, so the mapped memory behind its ring pointers is
// reached through one owner at a time; moving the owner to another thread moves all of it.

extension XDPRing {
  /// The ring inside `region`, at the offsets the kernel reported.
  init(_ region: borrowing XDPMappedRegion, _ offsets: xdp_ring_offset, size: Int) {
    self.init(
      producer: region.base + Int(offsets.producer), consumer: region.base + Int(offsets.consumer),
      flags: region.base + Int(offsets.flags), descriptors: region.base + Int(offsets.desc),
      size: UInt32(size))
  }
}
