import Glibc

/// How an ``XDPSocket`` binds: which copy mode it asks for.
public enum XDPBindMode: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  /// Zero-copy where the driver can do it, copy mode otherwise (no bind flag).
  case auto
  /// Copy mode, forced (XDP_COPY): frames are copied between the driver's buffers and the UMEM.
  case copy
  /// Zero-copy, forced (XDP_ZEROCOPY): the driver receives into and transmits from the UMEM.
  /// Binding fails with ``XDPSocketError/zeroCopyUnsupported(interface:queue:)`` where the
  /// driver cannot.
  case zeroCopy

  public var description: String { rawValue }
}

/// The mode a bound ``XDPSocket`` runs in, as the kernel reports it (XDP_OPTIONS).
public enum XDPSocketMode: String, Sendable, Hashable, CustomStringConvertible {
  /// Frames are copied (every driver with XDP support, and generic XDP).
  case copy
  /// The driver works on the UMEM directly.
  case zeroCopy

  public var description: String { rawValue }
}

/// Which program sends the interface queue's frames into an ``XDPSocket``.
public enum XDPSocketRedirect: Sendable {
  /// XDPKit's default program (`XDPPrograms.object(named: "xdp_xsk_redirect")`, Programs/xdp_xsk_redirect.c): it
  /// redirects every frame of a queue that has a socket in its XSKMAP slot, and passes the
  /// others to the network stack. The socket loads it, puts itself into slot `queue`, and
  /// attaches it to the interface in `mode`; closing the socket detaches and unloads it. One
  /// default program per interface: a second socket on the same interface needs
  /// ``xskMap(_:key:)`` with the first one's map, or the interface's program must be the
  /// user's own.
  case defaultProgram(mode: XDPAttachMode = .native)
  /// The user's own program and XSKMAP: the socket puts itself into `map` under `key` (the
  /// queue number when `nil`); attaching the program is the caller's part.
  case xskMap(XSKMap, key: UInt32? = nil)
  /// No redirect: the caller puts ``XDPSocket/descriptor`` into a map itself.
  case none
}

/// The sizes and options of an ``XDPSocket``: its UMEM (the frame memory shared with the
/// kernel), its four rings, and how it binds.
///
/// Sizing: the UMEM has ``frameCount`` frames of ``frameSize`` bytes. Up to ``fillRingSize``
/// of them (at most half) are kept in the receive circulation (fill ring → kernel → RX ring →
/// back); the rest are for transmitting. The RX ring should not be smaller than the fill ring,
/// and a frame must hold the largest packet (the interface's MTU plus 14 bytes of Ethernet
/// header) after ``headroom`` and the kernel's 256 bytes of XDP headroom.
public struct XDPSocketConfiguration: Sendable, Hashable {
  /// Bytes per UMEM frame: a power of two from 2048 to the page size. Default 4096.
  public var frameSize: Int
  /// Number of UMEM frames. Default 4096 (16 MiB at 4096 bytes each).
  public var frameCount: Int
  /// Bytes the kernel leaves free before each received packet, for the program to prepend
  /// headers. Default 0.
  public var headroom: Int
  /// Back the UMEM with huge pages (MAP_HUGETLB). The UMEM's size is rounded up to whole
  /// huge pages; without any free, creating the socket fails with
  /// ``XDPSocketError/hugePagesUnavailable(bytes:errno:)``. Default `false`.
  public var hugePages: Bool
  /// Slots of the fill ring (power of two). Default 2048.
  public var fillRingSize: Int
  /// Slots of the completion ring (power of two). Default 2048.
  public var completionRingSize: Int
  /// Slots of the RX ring (power of two). Default 2048.
  public var rxRingSize: Int
  /// Slots of the TX ring (power of two). Default 2048.
  public var txRingSize: Int
  /// The copy mode to bind with. Default ``XDPBindMode/auto``.
  public var bindMode: XDPBindMode
  /// Bind with XDP_USE_NEED_WAKEUP (kernel 5.4+): the kernel sets a flag on the fill and TX
  /// rings when it needs a system call to go on, and the socket makes one only then. Default
  /// `true`.
  public var needWakeup: Bool

  /// A configuration; every parameter has the default documented on its property.
  public init(
    frameSize: Int = 4096, frameCount: Int = 4096, headroom: Int = 0, hugePages: Bool = false,
    fillRingSize: Int = 2048, completionRingSize: Int = 2048, rxRingSize: Int = 2048,
    txRingSize: Int = 2048, bindMode: XDPBindMode = .auto, needWakeup: Bool = true
  ) {
    self.frameSize = frameSize
    self.frameCount = frameCount
    self.headroom = headroom
    self.hugePages = hugePages
    self.fillRingSize = fillRingSize
    self.completionRingSize = completionRingSize
    self.rxRingSize = rxRingSize
    self.txRingSize = txRingSize
    self.bindMode = bindMode
    self.needWakeup = needWakeup
  }

  /// The kernel's XDP_PACKET_HEADROOM, reserved at the start of every received frame.
  static let kernelHeadroom = 256

  /// The number of frames given to the receive side (fill ring) at bind time.
  var receiveFrameCount: Int { min(fillRingSize, frameCount / 2) }

  /// The UMEM's length in bytes: whole huge pages (2 MiB) when ``hugePages`` is set.
  var umemLength: Int {
    let bytes = frameSize * frameCount
    guard hugePages else { return bytes }
    let huge = 2 << 20
    return (bytes + huge - 1) / huge * huge
  }

  /// Throws the first value the kernel would refuse, naming it.
  func validate(pageSize: Int) throws(XDPSocketError) {
    guard frameSize >= 2048, frameSize <= pageSize, frameSize & (frameSize - 1) == 0 else {
      throw .invalidFrameSize(frameSize, pageSize: pageSize)
    }
    guard frameCount > 0, frameCount <= (1 << 40) / frameSize, frameCount <= Int(UInt32.max)
    else { throw .invalidFrameCount(frameCount) }
    guard headroom >= 0, headroom + Self.kernelHeadroom + 128 <= frameSize else {
      throw .invalidHeadroom(headroom, frameSize: frameSize)
    }
    for (ring, size) in [
      (XDPRingKind.fill, fillRingSize), (.completion, completionRingSize), (.rx, rxRingSize),
      (.tx, txRingSize),
    ] where size <= 0 || size & (size - 1) != 0 || size > 1 << 24 {
      throw .invalidRingSize(ring, size)
    }
  }
}
