import CXDPKit
import Glibc
import SystemPackage

/// The UMEM of one or more AF_XDP sockets: the frame memory shared with the kernel. Owned by
/// reference so that sockets sharing it keep it mapped until the last of them is gone; it is
/// unmapped exactly once, then.
final class XDPUMEM: @unchecked Sendable {
  // @unchecked: the region's address and length never change; the frames themselves are
  // handed out to one socket at a time (see XDPFrameStack).
  private let region: XDPMappedRegion

  /// The start of the frames.
  var base: UnsafeMutableRawPointer { region.base }

  /// Maps `configuration.umemLength` bytes of anonymous memory (huge pages on request).
  init(configuration: XDPSocketConfiguration) throws(XDPSocketError) {
    switch XDPMappedRegion.anonymous(length: configuration.umemLength, hugePages: configuration.hugePages) {
    case .success(let region): self.region = region
    case .failure(let errno) where configuration.hugePages:
      throw .hugePagesUnavailable(bytes: configuration.umemLength, errno: errno)
    case .failure(let errno): throw .syscall(.mapUMEM, errno: errno)
    }
  }
}

/// The four rings of a socket, mapped: sized with setsockopt, located with
/// XDP_MMAP_OFFSETS, each mapped at its page offset. Unmapped when the value is destroyed.
struct XDPRingRegions: ~Copyable {
  let fill: XDPMappedRegion
  let completion: XDPMappedRegion
  let rx: XDPMappedRegion
  let tx: XDPMappedRegion
  let offsets: xdp_mmap_offsets

  /// Sizes and maps the rings of socket `fd`.
  ///
  /// The corresponding calls are `setsockopt(SOL_XDP)` with XDP_UMEM_FILL_RING,
  /// XDP_UMEM_COMPLETION_RING, XDP_RX_RING and XDP_TX_RING, `getsockopt(XDP_MMAP_OFFSETS)` and
  /// four `mmap(2)`.
  init(_ fd: Int32, configuration: XDPSocketConfiguration) throws(XDPSocketError) {
    try XDPSocket.setRingSize(fd, XDP_UMEM_FILL_RING, "XDP_UMEM_FILL_RING", configuration.fillRingSize)
    try XDPSocket.setRingSize(
      fd, XDP_UMEM_COMPLETION_RING, "XDP_UMEM_COMPLETION_RING", configuration.completionRingSize)
    try XDPSocket.setRingSize(fd, XDP_RX_RING, "XDP_RX_RING", configuration.rxRingSize)
    try XDPSocket.setRingSize(fd, XDP_TX_RING, "XDP_TX_RING", configuration.txRingSize)
    let offsets = try XDPSocket.ringOffsets(fd)
    let fillRegion = try XDPSocket.mapRing(
      fd, .fill, offsets.fr, size: configuration.fillRingSize, descriptorSize: 8,
      pageOffset: cxdpkit_xdp_pgoff_fill_ring())
    let completionRegion = try XDPSocket.mapRing(
      fd, .completion, offsets.cr, size: configuration.completionRingSize, descriptorSize: 8,
      pageOffset: cxdpkit_xdp_pgoff_completion_ring())
    let rxRegion = try XDPSocket.mapRing(
      fd, .rx, offsets.rx, size: configuration.rxRingSize, descriptorSize: 16,
      pageOffset: cxdpkit_xdp_pgoff_rx_ring())
    let txRegion = try XDPSocket.mapRing(
      fd, .tx, offsets.tx, size: configuration.txRingSize, descriptorSize: 16,
      pageOffset: cxdpkit_xdp_pgoff_tx_ring())
    self.fill = fillRegion
    self.completion = completionRegion
    self.rx = rxRegion
    self.tx = txRegion
    self.offsets = offsets
  }

  /// The ring `kind` over its mapping, at the offsets the kernel reported.
  func ring(_ kind: XDPRingKind, configuration: XDPSocketConfiguration) -> XDPRing {
    let (base, offset, size): (UnsafeMutableRawPointer, xdp_ring_offset, Int)
    switch kind {
    case .fill: (base, offset, size) = (fill.base, offsets.fr, configuration.fillRingSize)
    case .completion: (base, offset, size) = (completion.base, offsets.cr, configuration.completionRingSize)
    case .rx: (base, offset, size) = (rx.base, offsets.rx, configuration.rxRingSize)
    case .tx: (base, offset, size) = (tx.base, offsets.tx, configuration.txRingSize)
    }
    return XDPRing(
      producer: base + Int(offset.producer), consumer: base + Int(offset.consumer),
      flags: base + Int(offset.flags), descriptors: base + Int(offset.desc), size: UInt32(size))
  }
}
