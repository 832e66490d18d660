import Glibc
import SystemPackage

/// A file descriptor for a kernel object (map, program, BTF, link, netlink socket), owned by
/// exactly one Swift value and closed exactly once, when that value is deinitialised.
///
/// The descriptor number never changes while the owner is alive, so views that hold a reference
/// to the owner (typed maps, links) can use ``rawValue`` without locking: the kernel object
/// stays open for as long as any of them exists. Descriptors made by XDPKit are close-on-exec.
public final class BPFFileDescriptor: Sendable, Hashable, CustomStringConvertible {
  /// The descriptor number. Valid for the lifetime of this object.
  public let rawValue: Int32

  /// Takes ownership of `rawValue`; it is closed when this object is deinitialised.
  public init(adopting rawValue: Int32) {
    precondition(rawValue >= 0, "BPFFileDescriptor adopts only valid descriptors")
    self.rawValue = rawValue
  }

  deinit {
    // EINTR on close(2) must not be retried on Linux: the descriptor is released either way.
    _ = Glibc.close(rawValue)
  }

  /// Returns a new owner for a close-on-exec duplicate of this descriptor.
  ///
  /// The corresponding call is `fcntl(fd, F_DUPFD_CLOEXEC, 0)`.
  public func duplicate() throws(SyscallError) -> BPFFileDescriptor {
    let fd = fcntl(rawValue, F_DUPFD_CLOEXEC, 0)
    if fd < 0 { throw SyscallError(operation: .fcntl, errno: .current) }
    return BPFFileDescriptor(adopting: fd)
  }

  /// Takes ownership of swift-system's `descriptor`; it is closed when this object is
  /// deinitialised, so the caller must not close it.
  public convenience init(adopting descriptor: FileDescriptor) {
    self.init(adopting: descriptor.rawValue)
  }

  /// Calls `body` with the descriptor as swift-system's `FileDescriptor`, borrowed: this
  /// object stays its owner, keeps it open until `body` returns and closes it later, so `body`
  /// must neither close it nor keep it.
  public func withBorrowedFileDescriptor<Result, Failure: Error>(
    _ body: (FileDescriptor) throws(Failure) -> Result
  ) throws(Failure) -> Result {
    defer { withExtendedLifetime(self) {} }
    return try body(FileDescriptor(rawValue: rawValue))
  }

  public static func == (lhs: BPFFileDescriptor, rhs: BPFFileDescriptor) -> Bool { lhs === rhs }
  public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
  public var description: String { "fd \(rawValue)" }
}
