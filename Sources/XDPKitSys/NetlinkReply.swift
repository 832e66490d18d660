import CXDPKit

// Reading what the kernel sends back on a netlink socket: a datagram holds one or more
// messages (`struct nlmsghdr` + payload, each padded to 4 bytes); a payload holds a family
// header and attributes (`struct nlattr` + payload, padded to 4). NLMSG_ERROR carries
// `struct nlmsgerr` (error, echoed request header) and, with NLM_F_ACK_TLVS, the extended-ACK
// attributes NLMSGERR_ATTR_*. Every read is bounds-checked: a short or garbled reply throws a
// `NetlinkParseError`; nothing here traps on input.

/// Why a netlink reply could not be read. The kernel does not send these; they guard against
/// truncated datagrams and foreign or corrupted data.
public enum NetlinkParseError: Error, Sendable, Hashable, CustomStringConvertible {
  /// Fewer than 16 bytes (a `struct nlmsghdr`) remain at `offset`.
  case truncatedMessageHeader(offset: Int, available: Int)
  /// `nlmsg_len` at `offset` is below 16 or beyond the `available` bytes.
  case badMessageLength(offset: Int, length: UInt32, available: Int)
  /// Fewer than 4 bytes (a `struct nlattr`) remain at `offset` yet more than padding is left.
  case truncatedAttribute(offset: Int, available: Int)
  /// `nla_len` of attribute `type` at `offset` is below 4 or beyond the `available` bytes.
  case badAttributeLength(type: UInt16, offset: Int, length: UInt16, available: Int)
  /// A fixed-size structure (`what`, e.g. "struct nlmsgerr") needs `expected` bytes; only
  /// `actual` are present.
  case truncatedPayload(what: String, expected: Int, actual: Int)

  public var description: String {
    switch self {
    case .truncatedMessageHeader(let offset, let available):
      return "truncated nlmsghdr at offset \(offset): \(available) bytes left, 16 needed"
    case .badMessageLength(let offset, let length, let available):
      return "nlmsg_len \(length) at offset \(offset) does not fit the \(available) bytes left"
    case .truncatedAttribute(let offset, let available):
      return "truncated nlattr at offset \(offset): \(available) bytes left, 4 needed"
    case .badAttributeLength(let type, let offset, let length, let available):
      return "nla_len \(length) of attribute \(type) at offset \(offset) does not fit the \(available) bytes left"
    case .truncatedPayload(let what, let expected, let actual):
      return "truncated \(what): \(actual) bytes, \(expected) needed"
    }
  }
}

/// Bounds-checked, unaligned, host-order integer reads from a byte slice.
package enum NetlinkBytes {
  /// The integer at `offset` bytes from the slice's start, or `nil` if it does not fit.
  @inline(__always)
  package static func load<T: FixedWidthInteger>(
    _: T.Type, from bytes: ArraySlice<UInt8>, at offset: Int
  ) -> T? {
    let size = MemoryLayout<T>.size
    guard offset >= 0, offset <= bytes.count, bytes.count - offset >= size else { return nil }
    return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
  }

  /// The bytes `offset ..< offset + count` of the slice, or `nil` if they do not fit.
  @inline(__always)
  package static func slice(
    _ bytes: ArraySlice<UInt8>, offset: Int, count: Int
  ) -> ArraySlice<UInt8>? {
    guard offset >= 0, count >= 0, offset <= bytes.count, bytes.count - offset >= count
    else { return nil }
    let start = bytes.startIndex + offset
    return bytes[start ..< start + count]
  }
}

/// One message read from a netlink socket: the `struct nlmsghdr` fields and the payload that
/// follows the header (without the trailing alignment padding).
package struct NetlinkMessage: Sendable {
  /// nlmsg_type: NLMSG_ERROR, NLMSG_DONE, RTM_NEWLINK, …
  package var type: UInt16
  /// nlmsg_flags.
  package var flags: NetlinkMessageFlags
  /// nlmsg_seq: the sequence number of the request this answers.
  package var sequence: UInt32
  /// nlmsg_pid: the port id of the receiving socket for kernel replies.
  package var portID: UInt32
  /// The bytes after the 16-byte header, `nlmsg_len - 16` of them.
  package var payload: ArraySlice<UInt8>

  /// Splits a received datagram into its messages.
  ///
  /// Each message must have `16 <= nlmsg_len <= bytes left`; the next message starts at the
  /// 4-byte aligned end (padding past the datagram's end is tolerated).
  package static func split(_ datagram: ArraySlice<UInt8>) throws(NetlinkParseError) -> [Self] {
    var messages: [Self] = []
    var offset = 0
    while offset < datagram.count {
      let available = datagram.count - offset
      guard available >= NetlinkAlignment.messageHeaderSize,
        let length = NetlinkBytes.load(UInt32.self, from: datagram, at: offset),
        let type = NetlinkBytes.load(UInt16.self, from: datagram, at: offset + 4),
        let flags = NetlinkBytes.load(UInt16.self, from: datagram, at: offset + 6),
        let sequence = NetlinkBytes.load(UInt32.self, from: datagram, at: offset + 8),
        let portID = NetlinkBytes.load(UInt32.self, from: datagram, at: offset + 12)
      else { throw .truncatedMessageHeader(offset: offset, available: available) }
      guard let length = Int(exactly: length), length >= NetlinkAlignment.messageHeaderSize,
        length <= available,
        let payload = NetlinkBytes.slice(
          datagram, offset: offset + NetlinkAlignment.messageHeaderSize,
          count: length - NetlinkAlignment.messageHeaderSize)
      else { throw .badMessageLength(offset: offset, length: length, available: available) }
      messages.append(
        Self(
          type: type, flags: NetlinkMessageFlags(rawValue: flags), sequence: sequence,
          portID: portID, payload: payload))
      // The last message of a datagram may omit its padding.
      offset = min(NetlinkAlignment.aligned(offset + length) ?? datagram.count, datagram.count)
    }
    return messages
  }
}

/// One attribute (`struct nlattr` + payload) of a netlink message.
package struct NetlinkAttribute: Sendable {
  /// nla_type with the NLA_F_NESTED and NLA_F_NET_BYTEORDER bits masked off (NLA_TYPE_MASK).
  package var type: UInt16
  /// Whether NLA_F_NESTED was set.
  package var isNested: Bool
  /// The payload, `nla_len - 4` bytes, without trailing padding.
  package var payload: ArraySlice<UInt8>

  /// The payload as a `UInt8` (NLA_U8), if it holds at least one byte.
  package var uint8: UInt8? { NetlinkBytes.load(UInt8.self, from: payload, at: 0) }
  /// The payload as a host-order `UInt32` (NLA_U32), if it holds at least four bytes.
  package var uint32: UInt32? { NetlinkBytes.load(UInt32.self, from: payload, at: 0) }
  /// The payload as a host-order `Int32` (NLA_S32), if it holds at least four bytes.
  package var int32: Int32? { NetlinkBytes.load(Int32.self, from: payload, at: 0) }
  /// The payload as a string up to its first NUL (NLA_STRING / NLA_NUL_STRING), with invalid
  /// UTF-8 repaired.
  package var string: String {
    let end = payload.firstIndex(of: 0) ?? payload.endIndex
    return String(decoding: payload[payload.startIndex ..< end], as: UTF8.self)
  }

  /// The attributes nested in this one's payload.
  package func nested() throws(NetlinkParseError) -> [NetlinkAttribute] {
    try Self.parse(payload)
  }

  /// Reads the attributes packed in `bytes`.
  ///
  /// Each must have `4 <= nla_len <= bytes left`; the next starts at the 4-byte aligned end.
  /// Up to three bytes left over at the end are padding and are ignored.
  package static func parse(_ bytes: ArraySlice<UInt8>) throws(NetlinkParseError) -> [Self] {
    var attributes: [Self] = []
    var offset = 0
    while bytes.count - offset >= NetlinkAlignment.attributeHeaderSize {
      let available = bytes.count - offset
      guard let length = NetlinkBytes.load(UInt16.self, from: bytes, at: offset),
        let rawType = NetlinkBytes.load(UInt16.self, from: bytes, at: offset + 2)
      else { throw .truncatedAttribute(offset: offset, available: available) }
      let type = rawType & ~UInt16(NLA_F_NESTED | NLA_F_NET_BYTEORDER)  // NLA_TYPE_MASK
      guard Int(length) >= NetlinkAlignment.attributeHeaderSize, Int(length) <= available,
        let payload = NetlinkBytes.slice(
          bytes, offset: offset + NetlinkAlignment.attributeHeaderSize,
          count: Int(length) - NetlinkAlignment.attributeHeaderSize)
      else {
        throw .badAttributeLength(type: type, offset: offset, length: length, available: available)
      }
      attributes.append(
        Self(type: type, isNested: rawType & UInt16(NLA_F_NESTED) != 0, payload: payload))
      offset = NetlinkAlignment.aligned(offset + Int(length)) ?? bytes.count
    }
    return attributes
  }
}

extension Array where Element == NetlinkAttribute {
  /// The first attribute of `type`, as the kernel's nla_find does.
  package func first(ofType type: UInt16) -> NetlinkAttribute? {
    first { $0.type == type }
  }
}

/// The extended ACK the kernel attaches to NLMSG_ERROR and NLMSG_DONE when the socket has
/// NETLINK_EXT_ACK set and the message has NLM_F_ACK_TLVS.
public struct NetlinkExtendedAck: Sendable, Hashable {
  /// NLMSGERR_ATTR_MSG: the kernel's human-readable explanation.
  public var message: String?
  /// NLMSGERR_ATTR_OFFS: the byte offset, within the request, of the attribute at fault.
  public var attributeOffset: UInt32?
  /// NLMSGERR_ATTR_MISS_TYPE: the type of a missing required attribute.
  public var missingAttributeType: UInt32?

  /// An extended ACK with nothing in it.
  public init(message: String? = nil, attributeOffset: UInt32? = nil,
              missingAttributeType: UInt32? = nil) {
    self.message = message
    self.attributeOffset = attributeOffset
    self.missingAttributeType = missingAttributeType
  }

  /// Reads NLMSGERR_ATTR_* attributes; unknown ones (cookie, policy) are skipped.
  package init(attributes bytes: ArraySlice<UInt8>) throws(NetlinkParseError) {
    self.init()
    for attribute in try NetlinkAttribute.parse(bytes) {
      switch Int(attribute.type) {
      case Int(NLMSGERR_ATTR_MSG.rawValue):
        let text = attribute.string
        message = text.isEmpty ? nil : text
      case Int(NLMSGERR_ATTR_OFFS.rawValue): attributeOffset = attribute.uint32
      case Int(NLMSGERR_ATTR_MISS_TYPE.rawValue): missingAttributeType = attribute.uint32
      default: continue
      }
    }
  }
}

/// The payload of NLMSG_ERROR (`struct nlmsgerr`) or NLMSG_DONE: the error (0 for an ACK,
/// otherwise a negative errno) and the extended ACK, if any.
package struct NetlinkStatus: Sendable {
  /// 0 for success, otherwise minus the errno.
  package var error: Int32
  /// The extended-ACK attributes, empty if none were sent.
  package var extendedAck: NetlinkExtendedAck

  /// Reads NLMSG_ERROR: `int error`, the echoed `struct nlmsghdr` (and, unless NLM_F_CAPPED,
  /// the rest of the request), then with NLM_F_ACK_TLVS the NLMSGERR_ATTR_* attributes.
  package init(error message: NetlinkMessage) throws(NetlinkParseError) {
    let fixed = 4 + NetlinkAlignment.messageHeaderSize
    guard let error = NetlinkBytes.load(Int32.self, from: message.payload, at: 0),
      let echoedLength = NetlinkBytes.load(UInt32.self, from: message.payload, at: 4),
      message.payload.count >= fixed
    else {
      throw .truncatedPayload(what: "struct nlmsgerr", expected: fixed,
                              actual: message.payload.count)
    }
    self.error = error
    extendedAck = NetlinkExtendedAck()
    guard message.flags.contains(.acknowledgementTLVs) else { return }
    var tlvStart = fixed
    if !message.flags.contains(.capped) {
      // The whole request is echoed: its nlmsg_len counts the header already counted above.
      guard let echoed = Int(exactly: echoedLength),
        echoed >= NetlinkAlignment.messageHeaderSize,
        let end = NetlinkAlignment.aligned(4 + echoed), end <= message.payload.count
      else {
        throw .truncatedPayload(what: "echoed request in nlmsgerr",
                                expected: 4 + Int(echoedLength), actual: message.payload.count)
      }
      tlvStart = end
    }
    let tlvs = NetlinkBytes.slice(message.payload, offset: tlvStart,
                                  count: message.payload.count - tlvStart) ?? []
    extendedAck = try NetlinkExtendedAck(attributes: tlvs)
  }

  /// Reads NLMSG_DONE: an optional `int` (the dump's final error), then with NLM_F_ACK_TLVS
  /// the NLMSGERR_ATTR_* attributes.
  package init(done message: NetlinkMessage) throws(NetlinkParseError) {
    error = NetlinkBytes.load(Int32.self, from: message.payload, at: 0) ?? 0
    extendedAck = NetlinkExtendedAck()
    if message.flags.contains(.acknowledgementTLVs), message.payload.count > 4,
      let tlvs = NetlinkBytes.slice(message.payload, offset: 4, count: message.payload.count - 4)
    {
      extendedAck = try NetlinkExtendedAck(attributes: tlvs)
    }
  }
}
