import CXDPKit
import Glibc
import SystemPackage

/// One mmap(2) region, owned: unmapped exactly once, when the value is destroyed. Used for the
/// UMEM (anonymous memory) and for each of the four rings of an AF_XDP socket.
struct XDPMappedRegion: ~Copyable {
  /// The start of the region, page aligned.
  let base: UnsafeMutableRawPointer
  /// The length that was mapped.
  let length: Int

  /// Anonymous, private, read-write memory of `length` bytes, zeroed; with `hugePages`, backed
  /// by the default huge page size (`MAP_HUGETLB`). Returns the errno of a failed mmap(2).
  ///
  /// The corresponding call is `mmap(NULL, length, PROT_READ | PROT_WRITE,
  /// MAP_PRIVATE | MAP_ANONYMOUS [| MAP_HUGETLB], -1, 0)`.
  static func anonymous(length: Int, hugePages: Bool) -> Result<XDPMappedRegion, Errno> {
    var flags = MAP_PRIVATE | MAP_ANONYMOUS
    if hugePages { flags |= MAP_HUGETLB }
    let address = mmap(nil, length, PROT_READ | PROT_WRITE, flags, -1, 0)
    guard let address, address != MAP_FAILED else { return .failure(.current) }
    return .success(XDPMappedRegion(base: address, length: length))
  }

  /// `length` bytes of the socket `descriptor` at page offset `offset` (one of the
  /// XDP_PGOFF_* / XDP_UMEM_PGOFF_* values), shared and read-write, populated at once.
  ///
  /// The corresponding call is `mmap(NULL, length, PROT_READ | PROT_WRITE,
  /// MAP_SHARED | MAP_POPULATE, fd, offset)`.
  static func ring(descriptor: Int32, length: Int, offset: UInt64) -> Result<XDPMappedRegion, Errno> {
    let address = mmap(
      nil, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, descriptor, off_t(offset))
    guard let address, address != MAP_FAILED else { return .failure(.current) }
    return .success(XDPMappedRegion(base: address, length: length))
  }

  private init(base: UnsafeMutableRawPointer, length: Int) {
    self.base = base
    self.length = length
  }

  deinit {
    // munmap(2) fails only for a range that is not page aligned, which this is not.
    _ = munmap(base, length)
  }
}
