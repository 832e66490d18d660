import CXDPKit
import Glibc
import SystemPackage

/// A network interface name or index that does not resolve in the calling thread's network
/// namespace.
public enum NetworkInterfaceError: Error, Sendable, Hashable, CustomStringConvertible {
  /// No interface has this name (if_nametoindex(3) returned 0; usually ENODEV).
  case noSuchInterface(name: String, errno: Errno)
  /// No interface has this index (if_indextoname(3) returned NULL; usually ENXIO).
  case noSuchInterfaceIndex(Int32, errno: Errno)

  /// The error number the lookup failed with.
  public var errno: Errno {
    switch self {
    case .noSuchInterface(_, let errno), .noSuchInterfaceIndex(_, let errno): return errno
    }
  }

  public var description: String {
    switch self {
    case .noSuchInterface(let name, let errno):
      return "no such interface \(name): \(errno)"
    case .noSuchInterfaceIndex(let index, let errno):
      return "no such interface index \(index): \(errno)"
    }
  }
}

/// The index of the interface called `name` in the calling thread's network namespace.
///
/// Names longer than 15 bytes (IFNAMSIZ - 1) or containing NUL or "/" cannot name an
/// interface and fail with ENODEV without a call.
///
/// The corresponding call is `if_nametoindex(3)` (ioctl SIOCGIFINDEX).
public func interfaceIndex(named name: String) throws(NetworkInterfaceError) -> Int32 {
  let bytes = Array(name.utf8)
  guard !bytes.isEmpty, bytes.count < Int(IF_NAMESIZE), !bytes.contains(0),
    !bytes.contains(UInt8(ascii: "/"))
  else { throw .noSuchInterface(name: name, errno: .operationNotSupportedByDevice) }
  let index = if_nametoindex(name)
  if index == 0 {
    let code = Errno.current
    throw .noSuchInterface(name: name, errno: code.rawValue == 0 ? .operationNotSupportedByDevice : code)
  }
  guard let result = Int32(exactly: index) else {
    throw .noSuchInterface(name: name, errno: .operationNotSupportedByDevice)
  }
  return result
}

/// The name of the interface with `index` in the calling thread's network namespace.
///
/// The corresponding call is `if_indextoname(3)` (ioctl SIOCGIFNAME).
public func interfaceName(index: Int32) throws(NetworkInterfaceError) -> String {
  guard index > 0 else { throw .noSuchInterfaceIndex(index, errno: .noSuchAddressOrDevice) }
  var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
  let result = buffer.withUnsafeMutableBufferPointer {
    if_indextoname(UInt32(index), $0.baseAddress!)
  }
  if result == nil {
    let code = Errno.current
    throw .noSuchInterfaceIndex(index, errno: code.rawValue == 0 ? .noSuchAddressOrDevice : code)
  }
  let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
  return String(decoding: bytes, as: UTF8.self)
}
