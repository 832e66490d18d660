import SystemPackage

/// The rtnetlink request an error belongs to.
public enum NetlinkOperation: Sendable, Hashable, CustomStringConvertible {
  /// Opening the NETLINK_ROUTE socket: socket(2), setsockopt(2), bind(2), getsockname(2).
  case openSocket
  /// RTM_SETLINK with a nested IFLA_XDP on the interface with this index.
  case setXDP(interfaceIndex: Int32)
  /// RTM_GETLINK for the interface with this index.
  case getLink(interfaceIndex: Int32)
  /// Any other request, by its message type (RTM_*).
  case request(type: UInt16)

  public var description: String {
    switch self {
    case .openSocket: return "open NETLINK_ROUTE socket"
    case .setXDP(let index): return "RTM_SETLINK IFLA_XDP on ifindex \(index)"
    case .getLink(let index): return "RTM_GETLINK on ifindex \(index)"
    case .request(let type): return "rtnetlink request type \(type)"
    }
  }
}

/// Which step of a netlink exchange failed.
public enum NetlinkFailure: Sendable, Hashable, CustomStringConvertible {
  /// The kernel answered with NLMSG_ERROR (or a failed NLMSG_DONE); `errno` is its error.
  case kernel
  /// A system call on the socket failed: "socket", "setsockopt NETLINK_EXT_ACK", "bind",
  /// "getsockname", "sendto", "recvfrom".
  case systemCall(String)
  /// The request went out but fewer bytes than the whole message were sent.
  case shortSend(sent: Int, expected: Int)
  /// The reply could not be read; `errno` is EBADMSG.
  case malformedReply(NetlinkParseError)
  /// A datagram was longer than the receive buffer (MSG_TRUNC); `errno` is EMSGSIZE.
  case truncatedDatagram(length: Int)
  /// The reply ended without the expected message (e.g. RTM_NEWLINK); `errno` is EBADMSG.
  case missingReply(expectedType: UInt16)

  public var description: String {
    switch self {
    case .kernel: return "kernel"
    case .systemCall(let call): return call
    case .shortSend(let sent, let expected): return "sendto sent \(sent) of \(expected) bytes"
    case .malformedReply(let defect): return "malformed reply: \(defect)"
    case .truncatedDatagram(let length): return "reply datagram of \(length) bytes truncated"
    case .missingReply(let type): return "no message of type \(type) in the reply"
    }
  }
}

/// A failed rtnetlink request: the operation, the errno, and the kernel's own explanation
/// (the extended-ACK message, NLMSGERR_ATTR_MSG) when it sent one.
///
/// Its description reads like
/// `RTM_SETLINK IFLA_XDP on ifindex 7: Device or resource busy (kernel: XDP program already attached)`.
public struct NetlinkError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The request that failed.
  public var operation: NetlinkOperation
  /// The step that failed: the kernel's answer, a system call, or reading the reply.
  public var failure: NetlinkFailure
  /// The error number: from NLMSG_ERROR for `.kernel`, from errno for `.systemCall`.
  public var errno: Errno
  /// The kernel's extended ACK (NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS), if it sent one.
  public var extendedAck: NetlinkExtendedAck

  /// Creates an error.
  public init(
    operation: NetlinkOperation, failure: NetlinkFailure, errno: Errno,
    extendedAck: NetlinkExtendedAck = NetlinkExtendedAck()
  ) {
    self.operation = operation
    self.failure = failure
    self.errno = errno
    self.extendedAck = extendedAck
  }

  /// The kernel's message (NLMSGERR_ATTR_MSG), e.g. "XDP program already attached".
  public var kernelMessage: String? { extendedAck.message }

  public var description: String {
    var text = "\(operation): "
    switch failure {
    case .kernel: break
    default: text += "\(failure): "
    }
    text += "\(errno)"
    if let message = extendedAck.message { text += " (kernel: \(message))" }
    return text
  }
}
