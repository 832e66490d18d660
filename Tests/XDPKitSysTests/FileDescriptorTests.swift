import Glibc
import SystemPackage
import Testing
@testable import XDPKitSys

/// `BPFFileDescriptor` and swift-system's `FileDescriptor`: adopted once, lent for a call,
/// closed once by its owner.
@Suite("BPFFileDescriptor and swift-system")
struct FileDescriptorTests {
  /// Whether `fd` is an open descriptor (fcntl F_GETFD succeeds).
  static func isOpen(_ fd: Int32) -> Bool { fcntl(fd, F_GETFD) >= 0 }

  @Test("a borrowed FileDescriptor reads through the owner's descriptor; the owner closes it once")
  func borrowed() throws {
    let opened = try FileDescriptor.open(FilePath("/proc/self/stat"), .readOnly, options: .closeOnExec)
    let raw = opened.rawValue
    var owner: BPFFileDescriptor? = BPFFileDescriptor(adopting: opened)
    let text = try owner!.withBorrowedFileDescriptor { descriptor in
      #expect(descriptor.rawValue == raw)
      var buffer = [UInt8](repeating: 0, count: 64)
      let count = try buffer.withUnsafeMutableBytes { try descriptor.read(into: $0) }
      return String(decoding: buffer.prefix(count), as: UTF8.self)
    }
    // /proc/self/stat starts with the process id.
    #expect(text.hasPrefix("\(getpid()) ("))
    #expect(Self.isOpen(raw))
    owner = nil
    #expect(!Self.isOpen(raw))
  }

  @Test("an error thrown in the body comes out typed, and the descriptor stays open")
  func typedError() throws {
    let owner = BPFFileDescriptor(adopting: try FileDescriptor.open(FilePath("/proc/self/stat"), .readOnly))
    #expect(throws: Errno.badFileDescriptor) {
      try owner.withBorrowedFileDescriptor { (descriptor: FileDescriptor) throws(Errno) in
        throw Errno.badFileDescriptor
      }
    }
    #expect(Self.isOpen(owner.rawValue))
  }
}
