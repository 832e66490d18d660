import SystemPackage

/// The system call an ``XDPSocketError/syscall(_:errno:)`` came from.
public enum XDPSocketCall: Sendable, Hashable, CustomStringConvertible {
  /// `socket(AF_XDP, SOCK_RAW, 0)`.
  case socket
  /// `mmap(2)` of the UMEM (anonymous memory).
  case mapUMEM
  /// `mmap(2)` of one of the rings.
  case mapRing(XDPRingKind)
  /// `setsockopt(SOL_XDP, option)`; `option` is the XDP_* name.
  case setOption(String)
  /// `getsockopt(SOL_XDP, option)`; `option` is the XDP_* name.
  case getOption(String)
  /// `bind(2)` of the socket to an interface and queue.
  case bind
  /// `sendto(2)` that wakes the kernel to transmit.
  case wakeTransmit
  /// `recvfrom(2)` or `poll(2)` that wakes the kernel to receive, or waits.
  case poll

  public var description: String {
    switch self {
    case .socket: return "socket(AF_XDP)"
    case .mapUMEM: return "mmap of the UMEM"
    case .mapRing(let ring): return "mmap of the \(ring) ring"
    case .setOption(let name): return "setsockopt(SOL_XDP, \(name))"
    case .getOption(let name): return "getsockopt(SOL_XDP, \(name))"
    case .bind: return "bind(AF_XDP)"
    case .wakeTransmit: return "sendto (transmit wakeup)"
    case .poll: return "poll"
    }
  }
}

/// The four rings of an AF_XDP socket.
public enum XDPRingKind: String, Sendable, Hashable, CustomStringConvertible {
  /// User space gives the kernel empty UMEM frames to receive into.
  case fill
  /// The kernel gives back UMEM frames it has transmitted.
  case completion
  /// The kernel hands over received frames.
  case rx
  /// User space hands over frames to transmit.
  case tx

  public var description: String { rawValue }
}

/// A failed AF_XDP operation: a configuration the kernel cannot take, an interface or queue
/// that does not exist, a mode the driver cannot do, or a system call that failed otherwise.
///
/// Two errors are equal when their descriptions are: the load and attach errors they may carry
/// are not `Equatable` themselves, and the description names every number a case holds.
public enum XDPSocketError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The UMEM frame size is not a power of two between 2048 and the page size (`pageSize`),
  /// the only sizes the kernel takes for aligned frames.
  case invalidFrameSize(Int, pageSize: Int)
  /// The frame count is 0 or the UMEM would exceed the address space.
  case invalidFrameCount(Int)
  /// The headroom leaves less than 128 bytes of a frame for packet data.
  case invalidHeadroom(Int, frameSize: Int)
  /// A ring size is not a power of two, or is 0.
  case invalidRingSize(XDPRingKind, Int)
  /// Huge pages were asked for but the system has none free for `bytes` bytes of UMEM
  /// (`mmap(MAP_HUGETLB)` failed with `errno`; see /proc/sys/vm/nr_hugepages).
  case hugePagesUnavailable(bytes: Int, errno: Errno)
  /// The interface does not exist in the calling thread's network namespace.
  case noSuchInterface(String)
  /// The interface has no queue `queue`; it has `available` queues, when that could be read.
  case noSuchQueue(interface: String, queue: UInt32, available: Int?)
  /// Zero-copy was forced, and the interface's driver cannot do it on this queue
  /// (`EOPNOTSUPP` from bind; veth, for one, has copy mode only).
  case zeroCopyUnsupported(interface: String, queue: UInt32)
  /// Another AF_XDP socket is bound to the interface and queue already (`EBUSY` from bind,
  /// still after 200 ms of retries: the kernel frees a closed socket's queue asynchronously).
  case queueBusy(interface: String, queue: UInt32)
  /// A socket sharing a UMEM asked for more frames than its owner has free.
  case notEnoughFrames(requested: Int, available: Int)
  /// A socket sharing a UMEM was to bind to its owner's own interface and queue, which needs
  /// the owner's rings (not supported: share with another queue or interface).
  case sharedQueue(interface: String, queue: UInt32)
  /// A frame of `length` bytes does not fit into a UMEM frame, which holds `capacity`.
  case frameTooLarge(length: Int, capacity: Int)
  /// The default redirect program (Programs/xdp_xsk_redirect.c) did not parse or load: the
  /// error is the `ObjectError`, ``LoadError`` or ``LoadedObjectError`` that says why.
  case loadRedirectProgram(any Error & Sendable)
  /// The redirect program did not attach to the interface (for example, another XDP program
  /// is attached there already).
  case attachRedirectProgram(AttachError)
  /// The socket could not be put into its XSKMAP slot.
  case xskMap(MapError)
  /// A system call failed.
  case syscall(XDPSocketCall, errno: Errno)

  public var description: String {
    switch self {
    case .invalidFrameSize(let size, let page):
      return "UMEM frame size \(size) is not a power of two between 2048 and the page size \(page)"
    case .invalidFrameCount(let count):
      return "UMEM frame count \(count) is not positive or too large"
    case .invalidHeadroom(let headroom, let frameSize):
      return "UMEM headroom \(headroom) leaves less than 128 bytes of a \(frameSize)-byte frame"
    case .invalidRingSize(let ring, let size):
      return "\(ring) ring size \(size) is not a positive power of two"
    case .hugePagesUnavailable(let bytes, let errno):
      return "no huge pages for a UMEM of \(bytes) bytes: mmap(MAP_HUGETLB) failed: \(errno)"
        + " (errno \(errno.rawValue)); reserve some in /proc/sys/vm/nr_hugepages"
    case .noSuchInterface(let name):
      return "no such interface: \(name)"
    case .noSuchQueue(let interface, let queue, let available):
      let count = available.map { ", it has \($0)" } ?? ""
      return "interface \(interface) has no queue \(queue)\(count)"
    case .zeroCopyUnsupported(let interface, let queue):
      return "interface \(interface) queue \(queue): the driver cannot do zero-copy AF_XDP (EOPNOTSUPP)"
    case .queueBusy(let interface, let queue):
      return "interface \(interface) queue \(queue): another AF_XDP socket is bound to it (EBUSY)"
    case .notEnoughFrames(let requested, let available):
      return "the UMEM's owner has \(available) free frames, \(requested) were asked for"
    case .sharedQueue(let interface, let queue):
      return "interface \(interface) queue \(queue) is the UMEM owner's own queue; share with another"
    case .frameTooLarge(let length, let capacity):
      return "a frame of \(length) bytes does not fit into a UMEM frame of \(capacity) bytes"
    case .loadRedirectProgram(let error):
      return "load the AF_XDP redirect program: \(error)"
    case .attachRedirectProgram(let error):
      return "attach the AF_XDP redirect program: \(error)"
    case .xskMap(let error):
      return "put the socket into the XSKMAP: \(error)"
    case .syscall(let call, let errno):
      return "\(call) failed: \(errno) (errno \(errno.rawValue))"
    }
  }
}

extension XDPSocketError {
  public static func == (lhs: XDPSocketError, rhs: XDPSocketError) -> Bool {
    lhs.description == rhs.description
  }
}
