import CXDPKit

// Building one netlink request: a `struct nlmsghdr`, a fixed family header (for rtnetlink link
// messages a `struct ifinfomsg`), then attributes (`struct nlattr` + payload), each padded to
// 4 bytes (NLMSG_ALIGNTO / NLA_ALIGNTO). Integers are in host byte order, as netlink expects.

/// The netlink alignment rules (NLMSG_ALIGN and NLA_ALIGN, both 4 bytes), in Swift.
package enum NetlinkAlignment {
  /// NLMSG_ALIGNTO and NLA_ALIGNTO.
  package static let boundary = 4
  /// Size of `struct nlmsghdr` (NLMSG_HDRLEN).
  package static let messageHeaderSize = 16
  /// Size of `struct nlattr` (NLA_HDRLEN).
  package static let attributeHeaderSize = 4

  /// `length` rounded up to the next multiple of 4, or `nil` on overflow.
  @inline(__always)
  package static func aligned(_ length: Int) -> Int? {
    guard length >= 0, case (let sum, false) = length.addingReportingOverflow(boundary - 1)
    else { return nil }
    return sum & ~(boundary - 1)
  }
}

/// Flags of `struct nlmsghdr` (NLM_F_*).
package struct NetlinkMessageFlags: OptionSet, Sendable, Hashable {
  package var rawValue: UInt16
  package init(rawValue: UInt16) { self.rawValue = rawValue }

  /// NLM_F_REQUEST: a request to the kernel.
  package static let request = Self(rawValue: UInt16(NLM_F_REQUEST))
  /// NLM_F_MULTI: one part of a multi-part reply, terminated by NLMSG_DONE.
  package static let multi = Self(rawValue: UInt16(NLM_F_MULTI))
  /// NLM_F_ACK: ask for an NLMSG_ERROR acknowledgement (error 0) on success.
  package static let ack = Self(rawValue: UInt16(NLM_F_ACK))
  /// NLM_F_DUMP (NLM_F_ROOT | NLM_F_MATCH): dump all objects.
  package static let dump = Self(rawValue: UInt16(NLM_F_DUMP))
  /// NLM_F_CAPPED, on NLMSG_ERROR: the echoed request was cut to its header.
  package static let capped = Self(rawValue: UInt16(NLM_F_CAPPED))
  /// NLM_F_ACK_TLVS, on NLMSG_ERROR / NLMSG_DONE: extended ACK attributes follow.
  package static let acknowledgementTLVs = Self(rawValue: UInt16(NLM_F_ACK_TLVS))
}

/// Writes one netlink request into a byte array with correct 4-byte alignment.
///
/// The length and sequence number in the `nlmsghdr` are filled in by ``finished(sequence:)``;
/// nested attributes get their length when their closure returns. The builder never produces
/// an attribute longer than `UInt16.max`: a payload that would not fit is a programming error
/// and stops with a precondition failure (requests built by this library are a few dozen bytes).
package struct NetlinkMessageBuilder: Sendable {
  /// The message as written so far.
  package private(set) var bytes: [UInt8]

  /// The message type, e.g. RTM_SETLINK.
  package let type: UInt16

  /// Starts a message of `type` with `flags`; the `nlmsghdr` fields `nlmsg_len`, `nlmsg_seq`
  /// and `nlmsg_pid` are zero until ``finished(sequence:)``.
  package init(type: UInt16, flags: NetlinkMessageFlags) {
    self.type = type
    bytes = []
    bytes.reserveCapacity(64)
    append(UInt32(0))           // nlmsg_len, patched in finished(sequence:)
    append(type)                // nlmsg_type
    append(flags.rawValue)      // nlmsg_flags
    append(UInt32(0))           // nlmsg_seq, patched
    append(UInt32(0))           // nlmsg_pid: 0, the kernel fills in the sender's port id
  }

  /// Appends a `struct ifinfomsg` (16 bytes): the family header of RTM_*LINK messages.
  package mutating func appendInterfaceInfo(
    family: UInt8 = UInt8(AF_UNSPEC), deviceType: UInt16 = 0, index: Int32,
    flags: UInt32 = 0, change: UInt32 = 0
  ) {
    append(family)              // ifi_family
    append(UInt8(0))            // __ifi_pad
    append(deviceType)          // ifi_type
    append(index)               // ifi_index
    append(flags)               // ifi_flags
    append(change)              // ifi_change
    pad()
  }

  /// Appends an attribute whose payload is `payload`, padded to 4 bytes.
  package mutating func appendAttribute(type: UInt16, payload: some Collection<UInt8>) {
    let length = NetlinkAlignment.attributeHeaderSize + payload.count
    precondition(length <= Int(UInt16.max), "netlink attribute \(type) is too long")
    append(UInt16(length))      // nla_len: header + payload, without the padding
    append(type)                // nla_type
    bytes.append(contentsOf: payload)
    pad()
  }

  /// Appends an attribute holding a host-order `UInt32` (NLA_U32).
  package mutating func appendAttribute(type: UInt16, uint32 value: UInt32) {
    withUnsafeBytes(of: value) { appendAttribute(type: type, payload: $0) }
  }

  /// Appends an attribute holding a host-order `Int32` (NLA_S32), e.g. a file descriptor.
  package mutating func appendAttribute(type: UInt16, int32 value: Int32) {
    withUnsafeBytes(of: value) { appendAttribute(type: type, payload: $0) }
  }

  /// Appends a NUL-terminated string attribute (NLA_NUL_STRING / NLA_STRING).
  package mutating func appendAttribute(type: UInt16, string: String) {
    appendAttribute(type: type, payload: Array(string.utf8) + [0])
  }

  /// Appends a nested attribute (NLA_F_NESTED set) whose children `body` writes.
  package mutating func appendNestedAttribute(type: UInt16, _ body: (inout Self) -> Void) {
    let start = bytes.count
    append(UInt16(0))           // nla_len, patched below
    append(type | UInt16(NLA_F_NESTED))
    body(&self)
    let length = bytes.count - start
    precondition(length <= Int(UInt16.max), "nested netlink attribute \(type) is too long")
    store(UInt16(length), at: start)
  }

  /// The finished message with `nlmsg_len` and `nlmsg_seq` filled in.
  package func finished(sequence: UInt32) -> [UInt8] {
    var message = self
    precondition(message.bytes.count <= Int(UInt32.max))
    message.store(UInt32(message.bytes.count), at: 0)
    message.store(sequence, at: 8)
    return message.bytes
  }

  // MARK: - Raw writes

  private mutating func append<T: FixedWidthInteger>(_ value: T) {
    withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
  }

  private mutating func store<T: FixedWidthInteger>(_ value: T, at offset: Int) {
    withUnsafeBytes(of: value) { source in
      for (i, byte) in source.enumerated() { bytes[offset + i] = byte }
    }
  }

  private mutating func pad() {
    let target = NetlinkAlignment.aligned(bytes.count)!
    bytes.append(contentsOf: repeatElement(0, count: target - bytes.count))
  }
}
