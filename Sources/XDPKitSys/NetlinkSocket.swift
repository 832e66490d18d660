import CXDPKit
import Glibc
import SystemPackage

/// A NETLINK_ROUTE socket for rtnetlink requests (RTM_SETLINK, RTM_GETLINK, …).
///
/// The socket is close-on-exec and bound to a kernel-assigned port id, with NETLINK_EXT_ACK
/// (so the kernel explains its errors in NLMSGERR_ATTR_MSG) and NETLINK_CAP_ACK (so error
/// replies do not echo the whole request) set. Each request gets the next sequence number;
/// replies are matched by it, and stale replies to earlier requests are skipped.
///
/// A socket belongs to the network namespace of the thread that created it, for its whole
/// life: create it inside ``withNetworkNamespace(path:_:)`` to manage interfaces there.
///
/// Not `Sendable`: a request and the reading of its replies must not interleave with another
/// request on the same socket. Use one socket per thread or task, or one per request.
public final class RouteNetlinkSocket {
  /// The socket's descriptor; closed when the socket is deinitialised.
  public let descriptor: BPFFileDescriptor
  /// The port id the kernel assigned at bind(2) (`nl_pid` of `struct sockaddr_nl`).
  public let portID: UInt32
  private var nextSequence: UInt32

  /// Opens and binds a NETLINK_ROUTE socket in the calling thread's network namespace.
  ///
  /// The corresponding calls are `socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)`,
  /// `setsockopt(SOL_NETLINK, NETLINK_EXT_ACK / NETLINK_CAP_ACK)` and `bind(2)`.
  public init() throws(NetlinkError) {
    let fd = Glibc.socket(
      AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_ROUTE)
    if fd < 0 { throw Self.systemCallError("socket") }
    let descriptor = BPFFileDescriptor(adopting: fd)

    for (option, name) in [(NETLINK_EXT_ACK, "NETLINK_EXT_ACK"), (NETLINK_CAP_ACK, "NETLINK_CAP_ACK")] {
      var on: Int32 = 1
      if setsockopt(fd, SOL_NETLINK, option, &on, socklen_t(MemoryLayout<Int32>.size)) != 0 {
        throw Self.systemCallError("setsockopt \(name)")
      }
    }

    var address = sockaddr_nl()
    address.nl_family = sa_family_t(AF_NETLINK)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size))
      }
    }
    if bound != 0 { throw Self.systemCallError("bind") }

    var length = socklen_t(MemoryLayout<sockaddr_nl>.size)
    let named = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    if named != 0 { throw Self.systemCallError("getsockname") }

    self.descriptor = descriptor
    self.portID = address.nl_pid
    self.nextSequence = UInt32.random(in: 1 ... 0x7fff_ffff)
  }

  private static func systemCallError(
    _ call: String, operation: NetlinkOperation = .openSocket
  ) -> NetlinkError {
    NetlinkError(operation: operation, failure: .systemCall(call), errno: .current)
  }

  // MARK: - One request, its replies

  /// Sends `request` and collects the kernel's replies to it.
  ///
  /// The request must carry NLM_F_REQUEST | NLM_F_ACK, so that every exchange ends with an
  /// NLMSG_ERROR (error 0 is the acknowledgement) or, for NLM_F_DUMP, an NLMSG_DONE. The data
  /// messages before that end (e.g. RTM_NEWLINK, possibly several NLM_F_MULTI parts over
  /// several datagrams) are returned in order. A non-zero error becomes a `NetlinkError` with
  /// the kernel's extended ACK.
  package func exchange(
    _ request: NetlinkMessageBuilder, operation: NetlinkOperation
  ) throws(NetlinkError) -> [NetlinkMessage] {
    let sequence = nextSequence
    nextSequence = nextSequence == UInt32.max ? 1 : nextSequence + 1
    try send(request.finished(sequence: sequence), operation: operation)

    var replies: [NetlinkMessage] = []
    while true {
      let datagram = try receiveDatagram(operation: operation)
      let messages: [NetlinkMessage]
      do throws(NetlinkParseError) { messages = try NetlinkMessage.split(datagram[...]) } catch {
        throw NetlinkError(operation: operation, failure: .malformedReply(error),
                           errno: .badMessage)
      }
      for message in messages where message.sequence == sequence {
        switch Int32(message.type) {
        case NLMSG_NOOP:
          continue
        case NLMSG_ERROR, NLMSG_DONE:
          let status: NetlinkStatus
          do throws(NetlinkParseError) {
            status = Int32(message.type) == NLMSG_ERROR
              ? try NetlinkStatus(error: message) : try NetlinkStatus(done: message)
          } catch {
            throw NetlinkError(operation: operation, failure: .malformedReply(error),
                               errno: .badMessage)
          }
          if status.error != 0 {
            throw NetlinkError(
              operation: operation, failure: .kernel,
              errno: Errno(rawValue: Int32(clamping: status.error.magnitude)),
              extendedAck: status.extendedAck)
          }
          return replies
        case NLMSG_OVERRUN:
          throw NetlinkError(operation: operation, failure: .kernel, errno: .noBufferSpace)
        default:
          replies.append(message)
        }
      }
    }
  }

  private func send(_ bytes: [UInt8], operation: NetlinkOperation) throws(NetlinkError) {
    var kernel = sockaddr_nl()
    kernel.nl_family = sa_family_t(AF_NETLINK)  // nl_pid 0: the kernel
    while true {
      let sent = bytes.withUnsafeBytes { buffer in
        withUnsafePointer(to: &kernel) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(descriptor.rawValue, buffer.baseAddress, buffer.count, 0, $0,
                   socklen_t(MemoryLayout<sockaddr_nl>.size))
          }
        }
      }
      if sent < 0 {
        let code = Errno.current
        if code == .interrupted { continue }
        throw NetlinkError(operation: operation, failure: .systemCall("sendto"), errno: code)
      }
      if sent != bytes.count {
        throw NetlinkError(operation: operation,
                           failure: .shortSend(sent: sent, expected: bytes.count),
                           errno: .messageTooLong)
      }
      return
    }
  }

  /// Receives one datagram from the kernel, sized by a MSG_PEEK | MSG_TRUNC probe first so
  /// that large replies are never cut. Datagrams from other senders than the kernel are
  /// dropped.
  private func receiveDatagram(operation: NetlinkOperation) throws(NetlinkError) -> [UInt8] {
    while true {
      let pending = recv(descriptor.rawValue, nil, 0, Int32(MSG_PEEK | MSG_TRUNC))
      if pending < 0 {
        let code = Errno.current
        if code == .interrupted { continue }
        throw NetlinkError(operation: operation, failure: .systemCall("recvfrom"), errno: code)
      }
      var buffer = [UInt8](repeating: 0, count: max(pending, 4096))
      var source = sockaddr_nl()
      var sourceLength = socklen_t(MemoryLayout<sockaddr_nl>.size)
      let received = buffer.withUnsafeMutableBytes { bytes in
        withUnsafeMutablePointer(to: &source) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            recvfrom(descriptor.rawValue, bytes.baseAddress, bytes.count, Int32(MSG_TRUNC), $0,
                     &sourceLength)
          }
        }
      }
      if received < 0 {
        let code = Errno.current
        if code == .interrupted { continue }
        throw NetlinkError(operation: operation, failure: .systemCall("recvfrom"), errno: code)
      }
      if received > buffer.count {
        throw NetlinkError(operation: operation, failure: .truncatedDatagram(length: received),
                           errno: .messageTooLong)
      }
      if source.nl_pid != 0 { continue }
      buffer.removeSubrange(received...)
      return buffer
    }
  }
}

@available(*, unavailable, message: "a request and its replies must not interleave with another")
extension RouteNetlinkSocket: Sendable {}
