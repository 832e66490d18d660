import CXDPKit
import Glibc
import SystemPackage
import XDPPrograms

// The set-up steps of an XDPSocket, each a system call (or a few) with its errors named.

extension XDPSocket {
  /// The index and name of `interface` in the calling thread's namespace.
  static func resolve(_ interface: NetworkInterface) throws(XDPSocketError) -> (Int32, String) {
    do {
      let index = try interface.resolveIndex()
      return (index, try XDPKitSys.interfaceName(index: index))
    } catch {
      throw .noSuchInterface(interface.description)
    }
  }

  /// A new AF_XDP socket, owned.
  ///
  /// The corresponding call is `socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0)`.
  static func openSocket() throws(XDPSocketError) -> BPFFileDescriptor {
    let fd = Glibc.socket(cxdpkit_af_xdp(), Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw .syscall(.socket, errno: .current) }
    return BPFFileDescriptor(adopting: fd)
  }

  /// Makes the queue's frames reach socket `fd` as `redirect` says; returns the default
  /// program and its attachment when the socket owns them.
  static func setUpRedirect(
    _ redirect: XDPSocketRedirect, socket fd: Int32, interfaceIndex: Int32, queue: UInt32
  ) throws(XDPSocketError) -> (LoadedObject?, XDPLink?) {
    switch redirect {
    case .none:
      return (nil, nil)
    case .xskMap(let map, let key):
      do { try map.set(socketDescriptor: fd, at: key ?? queue) } catch { throw .xskMap(error) }
      return (nil, nil)
    case .defaultProgram(let attachMode):
      let (object, link) = try attachDefaultProgram(
        socket: fd, interfaceIndex: interfaceIndex, queue: queue, mode: attachMode)
      return (object, link)
    }
  }

  /// Registers the UMEM with a zero-padded `struct xdp_umem_reg` (its last word is
  /// `tx_metadata_len` on kernels that know it, and must be 0 here).
  static func registerUMEM(
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

  static func setRingSize(_ fd: Int32, _ option: Int32, _ name: String, _ size: Int)
    throws(XDPSocketError)
  {
    var value = Int32(size)
    if setsockopt(fd, cxdpkit_sol_xdp(), option, &value, socklen_t(MemoryLayout<Int32>.size)) != 0 {
      throw .syscall(.setOption(name), errno: .current)
    }
  }

  /// The offsets of each ring's producer, consumer, flags and descriptors in its mapping.
  /// Kernels before 5.4 report no flags word (a shorter struct); they are refused.
  static func ringOffsets(_ fd: Int32) throws(XDPSocketError) -> xdp_mmap_offsets {
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

  static func mapRing(
    _ fd: Int32, _ kind: XDPRingKind, _ offsets: xdp_ring_offset, size: Int, descriptorSize: Int,
    pageOffset: UInt64
  ) throws(XDPSocketError) -> XDPMappedRegion {
    let length = Int(offsets.desc) + size * descriptorSize
    switch XDPMappedRegion.ring(descriptor: fd, length: length, offset: pageOffset) {
    case .success(let region): return region
    case .failure(let errno): throw .syscall(.mapRing(kind), errno: errno)
    }
  }

  static func bind(
    _ fd: Int32, interfaceIndex: Int32, interfaceName: String, queue: UInt32,
    configuration: XDPSocketConfiguration, sharedUMEMOf owner: Int32?
  ) throws(XDPSocketError) {
    var flags: UInt16 = 0
    if owner != nil {
      // A socket sharing a UMEM takes the owner's mode and wakeup flags; the kernel refuses
      // any other flag with XDP_SHARED_UMEM.
      flags = UInt16(XDP_SHARED_UMEM)
    } else {
      switch configuration.bindMode {
      case .auto: break
      case .copy: flags |= UInt16(XDP_COPY)
      case .zeroCopy: flags |= UInt16(XDP_ZEROCOPY)
      }
      if configuration.needWakeup { flags |= UInt16(XDP_USE_NEED_WAKEUP) }
    }
    var address = sockaddr_xdp(
      sxdp_family: UInt16(cxdpkit_af_xdp()), sxdp_flags: flags,
      sxdp_ifindex: UInt32(bitPattern: interfaceIndex), sxdp_queue_id: queue,
      sxdp_shared_umem_fd: UInt32(bitPattern: owner ?? 0))
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

  static func boundMode(_ fd: Int32) throws(XDPSocketError) -> XDPSocketMode {
    var options = xdp_options()
    var length = socklen_t(MemoryLayout<xdp_options>.size)
    if getsockopt(fd, cxdpkit_sol_xdp(), XDP_OPTIONS, &options, &length) != 0 {
      throw .syscall(.getOption("XDP_OPTIONS"), errno: .current)
    }
    return options.flags & UInt32(XDP_OPTIONS_ZEROCOPY) != 0 ? .zeroCopy : .copy
  }

  /// Loads Programs/xdp_xsk_redirect.c, puts the socket into slot `queue` of its XSKS map and
  /// attaches it to the interface.
  static func attachDefaultProgram(
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
