import CXDPKit
import SystemPackage
import Testing
import XDPKitSys

// Building and reading netlink messages, without a kernel: exact bytes out, and replies that
// are short, garbled or hand-made with extended ACKs in.

/// Little-endian (host order on the machines XDPKit targets) byte helpers for hand-made replies.
private func le16(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
private func le32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }
private func s32(_ value: Int32) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

private func padded(_ bytes: [UInt8]) -> [UInt8] {
  bytes + [UInt8](repeating: 0, count: NetlinkAlignment.aligned(bytes.count)! - bytes.count)
}

private func attribute(_ type: UInt16, _ payload: [UInt8]) -> [UInt8] {
  padded(le16(UInt16(4 + payload.count)) + le16(type) + payload)
}

private func message(
  type: UInt16, flags: UInt16 = 0, sequence: UInt32 = 1, port: UInt32 = 0, _ payload: [UInt8]
) -> [UInt8] {
  padded(le32(UInt32(16 + payload.count)) + le16(type) + le16(flags) + le32(sequence)
         + le32(port) + payload)
}

@Suite("Netlink messages")
struct NetlinkMessageTests {
  @Test func alignment() {
    #expect(NetlinkAlignment.aligned(0) == 0)
    #expect(NetlinkAlignment.aligned(1) == 4)
    #expect(NetlinkAlignment.aligned(4) == 4)
    #expect(NetlinkAlignment.aligned(5) == 8)
    #expect(NetlinkAlignment.aligned(Int.max) == nil)
    #expect(NetlinkAlignment.aligned(-1) == nil)
  }

  @Test func setLinkXDPRequestBytes() {
    var builder = NetlinkMessageBuilder(type: UInt16(RTM_SETLINK), flags: [.request, .ack])
    builder.appendInterfaceInfo(index: 7)
    builder.appendNestedAttribute(type: UInt16(IFLA_XDP)) { xdp in
      xdp.appendAttribute(type: UInt16(IFLA_XDP_FD), int32: 9)
      xdp.appendAttribute(type: UInt16(IFLA_XDP_FLAGS), uint32: XDPFlags([.skbMode, .replace]).rawValue)
      xdp.appendAttribute(type: UInt16(IFLA_XDP_EXPECTED_FD), int32: -1)
    }
    let bytes = builder.finished(sequence: 0x0102_0304)
    let expected: [UInt8] =
      le32(60) + le16(19) + le16(0x5) + le32(0x0102_0304) + le32(0)      // nlmsghdr
      + [0, 0] + le16(0) + s32(7) + le32(0) + le32(0)                      // ifinfomsg
      + le16(28) + le16(43 | 0x8000)                                       // IFLA_XDP, nested
      + le16(8) + le16(1) + s32(9)                                         // IFLA_XDP_FD
      + le16(8) + le16(3) + le32(0x12)                                     // IFLA_XDP_FLAGS
      + le16(8) + le16(8) + s32(-1)                                        // IFLA_XDP_EXPECTED_FD
    #expect(bytes == expected)
  }

  @Test func stringAttributesArePaddedNotCounted() {
    var builder = NetlinkMessageBuilder(type: 1, flags: [])
    builder.appendAttribute(type: 3, string: "abc")    // 4 + "abc\0" = 8, no padding
    builder.appendAttribute(type: 4, string: "abcd")   // 4 + 5 = 9, padded to 12
    builder.appendAttribute(type: 5, payload: [0xff])  // 5, padded to 8
    let bytes = builder.finished(sequence: 1)
    #expect(bytes.count == 16 + 8 + 12 + 8)
    #expect(Array(bytes[16 ..< 20]) == le16(8) + le16(3))
    #expect(Array(bytes[24 ..< 28]) == le16(9) + le16(4))
    #expect(Array(bytes[33 ..< 36]) == [0, 0, 0])
    #expect(Array(bytes[36 ..< 40]) == le16(5) + le16(5))
    let attributes = try? NetlinkAttribute.parse(bytes[16...])
    #expect(attributes?.map(\.type) == [3, 4, 5])
    #expect(attributes?[1].string == "abcd")
    #expect(attributes?[2].payload.count == 1)
  }

  @Test func splitsSeveralMessagesAndToleratesMissingFinalPadding() throws {
    let first = message(type: 16, sequence: 5, [1, 2, 3, 4, 5])   // 21 bytes, padded to 24
    let second = message(type: 3, sequence: 5, s32(0))
    #expect(first.count == 24)
    var datagram = first + second
    datagram += [0, 0]  // stray padding shorter than a header is an error, see below
    #expect(throws: NetlinkParseError.self) { try NetlinkMessage.split(datagram[...]) }
    datagram.removeLast(2)
    let messages = try NetlinkMessage.split(datagram[...])
    #expect(messages.map(\.type) == [16, 3])
    #expect(Array(messages[0].payload) == [1, 2, 3, 4, 5])
    #expect(messages[1].sequence == 5)
    // A final message whose length is not a multiple of 4 and has no padding.
    let odd = le32(17) + le16(1) + le16(0) + le32(9) + le32(0) + [0xaa]
    let single = try NetlinkMessage.split(odd[...])
    #expect(single.count == 1 && Array(single[0].payload) == [0xaa])
  }

  @Test func rejectsBadMessageLengths() {
    let tooShort = le32(8) + le16(1) + le16(0) + le32(1) + le32(0)
    #expect(throws: NetlinkParseError.badMessageLength(offset: 0, length: 8, available: 16)) {
      try NetlinkMessage.split(tooShort[...])
    }
    let tooLong = le32(64) + le16(1) + le16(0) + le32(1) + le32(0)
    #expect(throws: NetlinkParseError.badMessageLength(offset: 0, length: 64, available: 16)) {
      try NetlinkMessage.split(tooLong[...])
    }
    #expect(throws: NetlinkParseError.truncatedMessageHeader(offset: 0, available: 10)) {
      try NetlinkMessage.split([UInt8](repeating: 0, count: 10)[...])
    }
  }

  @Test func rejectsBadAttributeLengths() throws {
    #expect(throws: NetlinkParseError.badAttributeLength(type: 1, offset: 0, length: 2, available: 8)) {
      try NetlinkAttribute.parse((le16(2) + le16(1) + le32(0))[...])
    }
    #expect(throws: NetlinkParseError.badAttributeLength(type: 1, offset: 0, length: 12, available: 8)) {
      try NetlinkAttribute.parse((le16(12) + le16(1) + le32(0))[...])
    }
    // Up to three trailing bytes are padding.
    let parsed = try NetlinkAttribute.parse((attribute(1, le32(42)) + [0, 0, 0])[...])
    #expect(parsed.count == 1 && parsed[0].uint32 == 42)
    // A payload too short for the integer asked for reads as nil, not a trap.
    let short = try NetlinkAttribute.parse(attribute(2, [1])[...])
    #expect(short[0].uint32 == nil && short[0].uint8 == 1)
    // Flags are masked off the type.
    let nested = try NetlinkAttribute.parse(attribute(0x8000 | 43, attribute(2, [2]))[...])
    #expect(nested[0].type == 43 && nested[0].isNested)
    #expect(try nested[0].nested().first(ofType: 2)?.uint8 == 2)
  }

  @Test func readsAcknowledgement() throws {
    let request = le32(32) + le16(19) + le16(5) + le32(1) + le32(0)
    let ack = try NetlinkMessage.split(message(type: 2, flags: 0x100, s32(0) + request)[...])
    let status = try NetlinkStatus(error: ack[0])
    #expect(status.error == 0)
    #expect(status.extendedAck == NetlinkExtendedAck())
  }

  @Test func readsCappedErrorWithExtendedAck() throws {
    let request = le32(60) + le16(19) + le16(5) + le32(1) + le32(0)
    let tlvs = attribute(1, Array("XDP program already attached".utf8) + [0])
      + attribute(2, le32(36))
    let error = try NetlinkMessage.split(
      message(type: 2, flags: 0x100 | 0x200, s32(-16) + request + tlvs)[...])
    let status = try NetlinkStatus(error: error[0])
    #expect(status.error == -16)
    #expect(status.extendedAck.message == "XDP program already attached")
    #expect(status.extendedAck.attributeOffset == 36)
  }

  @Test func readsUncappedErrorWithEchoedRequest() throws {
    // Without NLM_F_CAPPED the whole request (here 17 bytes, padded to 20) is echoed.
    let request = le32(17) + le16(19) + le16(5) + le32(1) + le32(0) + [7]
    let tlvs = attribute(1, Array("bad".utf8) + [0])
    let error = try NetlinkMessage.split(
      message(type: 2, flags: 0x200, s32(-22) + padded(request) + tlvs)[...])
    let status = try NetlinkStatus(error: error[0])
    #expect(status.error == -22)
    #expect(status.extendedAck.message == "bad")
    // The echo claims more bytes than were sent.
    let lying = le32(200) + le16(19) + le16(5) + le32(1) + le32(0)
    let broken = try NetlinkMessage.split(message(type: 2, flags: 0x200, s32(-22) + lying)[...])
    #expect(throws: NetlinkParseError.self) { try NetlinkStatus(error: broken[0]) }
  }

  @Test func readsDoneWithAndWithoutError() throws {
    let plain = try NetlinkMessage.split(message(type: 3, flags: 2, s32(0))[...])
    #expect(try NetlinkStatus(done: plain[0]).error == 0)
    let empty = try NetlinkMessage.split(message(type: 3, flags: 2, [])[...])
    #expect(try NetlinkStatus(done: empty[0]).error == 0)
    let failed = try NetlinkMessage.split(
      message(type: 3, flags: 2 | 0x200, s32(-90) + attribute(1, Array("dump failed".utf8)))[...])
    let status = try NetlinkStatus(done: failed[0])
    #expect(status.error == -90)
    #expect(status.extendedAck.message == "dump failed")  // no NUL: read to the end
  }

  @Test func truncatedErrorThrows() throws {
    let short = try NetlinkMessage.split(message(type: 2, s32(-1) + [1, 2])[...])
    #expect(throws: NetlinkParseError.truncatedPayload(what: "struct nlmsgerr", expected: 20, actual: 6)) {
      try NetlinkStatus(error: short[0])
    }
  }

  @Test func xdpStateFromAttributes() throws {
    let nested = attribute(2, [2]) + attribute(4, le32(77)) + attribute(6, le32(77))
    let state = XDPAttachmentState(attributes: try NetlinkAttribute.parse(nested[...]))
    #expect(state == XDPAttachmentState(mode: .generic, programID: 77, genericProgramID: 77))
    #expect(state.isAttached)
    #expect(state.description == "mode skb, prog 77, skb 77")
    #expect(XDPAttachmentState(attributes: []).mode == .notAttached)
    #expect(XDPAttachmentState.Mode(rawValue: 9).description == "mode 9")
  }

  @Test func flagValuesMatchTheKernelHeader() {
    #expect(XDPFlags.updateIfNoExist.rawValue == UInt32(XDP_FLAGS_UPDATE_IF_NOEXIST))
    #expect(XDPFlags.skbMode.rawValue == UInt32(XDP_FLAGS_SKB_MODE))
    #expect(XDPFlags.driverMode.rawValue == UInt32(XDP_FLAGS_DRV_MODE))
    #expect(XDPFlags.hardwareMode.rawValue == UInt32(XDP_FLAGS_HW_MODE))
    #expect(XDPFlags.replace.rawValue == UInt32(XDP_FLAGS_REPLACE))
    #expect(XDPAttachmentState.Mode.driver.rawValue == UInt8(XDP_ATTACHED_DRV))
    #expect(XDPAttachmentState.Mode.generic.rawValue == UInt8(XDP_ATTACHED_SKB))
    #expect(XDPAttachmentState.Mode.hardware.rawValue == UInt8(XDP_ATTACHED_HW))
    #expect(XDPAttachmentState.Mode.multiple.rawValue == UInt8(XDP_ATTACHED_MULTI))
  }

  @Test func errorDescriptionNamesRequestErrnoAndKernelMessage() {
    let error = NetlinkError(
      operation: .setXDP(interfaceIndex: 7), failure: .kernel, errno: .resourceBusy,
      extendedAck: NetlinkExtendedAck(message: "XDP program already attached"))
    #expect(error.description
      == "RTM_SETLINK IFLA_XDP on ifindex 7: Device or resource busy (kernel: XDP program already attached)")
    let send = NetlinkError(operation: .getLink(interfaceIndex: 3), failure: .systemCall("sendto"),
                            errno: .badFileDescriptor)
    #expect(send.description == "RTM_GETLINK on ifindex 3: sendto: Bad file descriptor")
  }

  /// Every prefix of a valid reply, and random bytes, parse or throw; none traps.
  @Test func garbledRepliesNeverTrap() {
    let request = le32(60) + le16(19) + le16(5) + le32(1) + le32(0)
    let valid = message(type: 2, flags: 0x300,
                        s32(-16) + request + attribute(1, Array("busy".utf8) + [0]))
      + message(type: 16, sequence: 1, [UInt8](repeating: 0, count: 16)
                + attribute(0x8000 | 43, attribute(2, [1]) + attribute(4, le32(5))))
    for end in 0 ... valid.count {
      exercise(valid[..<end])
    }
    var generator = NetlinkSplitMix64(seed: 0x5844_504b)
    for _ in 0 ..< 2_000 {
      let length = Int(generator.next() % 96)
      var bytes = (0 ..< length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
      // Make a plausible header half of the time, so parsing gets past the first check.
      if length >= 16, generator.next() % 2 == 0 {
        bytes.replaceSubrange(0 ..< 4, with: le32(UInt32(length - Int(generator.next() % 8))))
        bytes.replaceSubrange(4 ..< 6, with: le16(UInt16(generator.next() % 4)))
      }
      exercise(bytes[...])
    }
  }

  private func exercise(_ bytes: ArraySlice<UInt8>) {
    guard let messages = try? NetlinkMessage.split(bytes) else { return }
    for message in messages {
      _ = try? NetlinkStatus(error: message)
      _ = try? NetlinkStatus(done: message)
      if let attributes = try? NetlinkAttribute.parse(message.payload.dropFirst(16)) {
        for attribute in attributes {
          _ = attribute.uint32
          _ = attribute.string
          if let nested = try? attribute.nested() { _ = XDPAttachmentState(attributes: nested) }
        }
      }
    }
  }
}

/// A small deterministic generator, so the garbled-input test is reproducible.
private struct NetlinkSplitMix64 {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
