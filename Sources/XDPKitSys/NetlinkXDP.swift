import CXDPKit

/// Flags for attaching an XDP program through netlink: the XDP_FLAGS_* of linux/if_link.h,
/// sent as IFLA_XDP_FLAGS.
public struct XDPFlags: OptionSet, Sendable, Hashable {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  /// XDP_FLAGS_UPDATE_IF_NOEXIST: fail with EBUSY if a program is already attached.
  public static let updateIfNoExist = Self(rawValue: 1 << 0)
  /// XDP_FLAGS_SKB_MODE: generic XDP, run by the kernel's receive path for any driver.
  public static let skbMode = Self(rawValue: 1 << 1)
  /// XDP_FLAGS_DRV_MODE: native XDP, run by the driver (veth, mlx5, i40e, …).
  public static let driverMode = Self(rawValue: 1 << 2)
  /// XDP_FLAGS_HW_MODE: offloaded to the NIC.
  public static let hardwareMode = Self(rawValue: 1 << 3)
  /// XDP_FLAGS_REPLACE: replace only if the attached program is IFLA_XDP_EXPECTED_FD's.
  public static let replace = Self(rawValue: 1 << 4)

  /// XDP_FLAGS_MODES: the three mode bits.
  public static let modes: Self = [.skbMode, .driverMode, .hardwareMode]
}

/// What the kernel reports about the XDP programs on one interface: the nested IFLA_XDP of an
/// RTM_NEWLINK reply to RTM_GETLINK.
public struct XDPAttachmentState: Sendable, Hashable, CustomStringConvertible {
  /// IFLA_XDP_ATTACHED: which mode the attached program runs in (XDP_ATTACHED_*).
  public struct Mode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// XDP_ATTACHED_NONE: no XDP program.
    public static let notAttached = Self(rawValue: 0)
    /// XDP_ATTACHED_DRV: native (driver) mode.
    public static let driver = Self(rawValue: 1)
    /// XDP_ATTACHED_SKB: generic (skb) mode.
    public static let generic = Self(rawValue: 2)
    /// XDP_ATTACHED_HW: offloaded to hardware.
    public static let hardware = Self(rawValue: 3)
    /// XDP_ATTACHED_MULTI: programs in more than one mode; see the per-mode ids.
    public static let multiple = Self(rawValue: 4)

    public var description: String {
      switch self {
      case .notAttached: return "none"
      case .driver: return "driver"
      case .generic: return "skb"
      case .hardware: return "hw"
      case .multiple: return "multi"
      default: return "mode \(rawValue)"
      }
    }
  }

  /// IFLA_XDP_ATTACHED.
  public var mode: Mode
  /// IFLA_XDP_PROG_ID: the id of the attached program when exactly one mode is in use.
  public var programID: UInt32?
  /// IFLA_XDP_DRV_PROG_ID: the program attached in native mode.
  public var driverProgramID: UInt32?
  /// IFLA_XDP_SKB_PROG_ID: the program attached in generic mode.
  public var genericProgramID: UInt32?
  /// IFLA_XDP_HW_PROG_ID: the program offloaded to hardware.
  public var hardwareProgramID: UInt32?

  /// Creates a state; the default is "no program attached".
  public init(
    mode: Mode = .notAttached, programID: UInt32? = nil, driverProgramID: UInt32? = nil,
    genericProgramID: UInt32? = nil, hardwareProgramID: UInt32? = nil
  ) {
    self.mode = mode
    self.programID = programID
    self.driverProgramID = driverProgramID
    self.genericProgramID = genericProgramID
    self.hardwareProgramID = hardwareProgramID
  }

  /// Whether any XDP program is attached.
  public var isAttached: Bool { mode != .notAttached }

  /// Reads the attributes nested in IFLA_XDP.
  package init(attributes: [NetlinkAttribute]) {
    self.init()
    for attribute in attributes {
      switch Int(attribute.type) {
      case IFLA_XDP_ATTACHED: mode = attribute.uint8.map(Mode.init(rawValue:)) ?? .notAttached
      case IFLA_XDP_PROG_ID: programID = attribute.uint32
      case IFLA_XDP_DRV_PROG_ID: driverProgramID = attribute.uint32
      case IFLA_XDP_SKB_PROG_ID: genericProgramID = attribute.uint32
      case IFLA_XDP_HW_PROG_ID: hardwareProgramID = attribute.uint32
      default: continue
      }
    }
  }

  public var description: String {
    var parts = ["mode \(mode)"]
    if let id = programID { parts.append("prog \(id)") }
    if let id = driverProgramID { parts.append("drv \(id)") }
    if let id = genericProgramID { parts.append("skb \(id)") }
    if let id = hardwareProgramID { parts.append("hw \(id)") }
    return parts.joined(separator: ", ")
  }
}

extension RouteNetlinkSocket {
  /// Attaches, replaces or detaches the XDP program of an interface.
  ///
  /// - Parameters:
  ///   - interfaceIndex: the interface, as seen in this socket's network namespace.
  ///   - programFD: the program to attach, or -1 to detach the one attached in the mode
  ///     `flags` names.
  ///   - flags: the mode (`.skbMode`, `.driverMode`, `.hardwareMode`; none lets the kernel
  ///     pick native if the driver supports it) and `.updateIfNoExist` / `.replace`.
  ///   - expectedProgramFD: attach only if this program is the one attached now. Sends
  ///     IFLA_XDP_EXPECTED_FD and adds `.replace` to `flags`.
  ///
  /// The corresponding rtnetlink message is RTM_SETLINK carrying a nested IFLA_XDP with
  /// IFLA_XDP_FD, IFLA_XDP_FLAGS and IFLA_XDP_EXPECTED_FD.
  public func setXDP(
    interfaceIndex: Int32, programFD: Int32, flags: XDPFlags = [],
    expectedProgramFD: Int32? = nil
  ) throws(NetlinkError) {
    var flags = flags
    if expectedProgramFD != nil { flags.insert(.replace) }
    var request = NetlinkMessageBuilder(type: UInt16(RTM_SETLINK), flags: [.request, .ack])
    request.appendInterfaceInfo(index: interfaceIndex)
    request.appendNestedAttribute(type: UInt16(IFLA_XDP)) { xdp in
      xdp.appendAttribute(type: UInt16(IFLA_XDP_FD), int32: programFD)
      xdp.appendAttribute(type: UInt16(IFLA_XDP_FLAGS), uint32: flags.rawValue)
      if let expected = expectedProgramFD {
        xdp.appendAttribute(type: UInt16(IFLA_XDP_EXPECTED_FD), int32: expected)
      }
    }
    _ = try exchange(request, operation: .setXDP(interfaceIndex: interfaceIndex))
  }

  /// Reports which XDP programs are attached to an interface, in which modes.
  ///
  /// The corresponding rtnetlink message is RTM_GETLINK; the state is read from the nested
  /// IFLA_XDP (IFLA_XDP_ATTACHED, IFLA_XDP_PROG_ID, IFLA_XDP_{DRV,SKB,HW}_PROG_ID) of the
  /// RTM_NEWLINK reply.
  public func xdpState(interfaceIndex: Int32) throws(NetlinkError) -> XDPAttachmentState {
    let operation = NetlinkOperation.getLink(interfaceIndex: interfaceIndex)
    var request = NetlinkMessageBuilder(type: UInt16(RTM_GETLINK), flags: [.request, .ack])
    request.appendInterfaceInfo(index: interfaceIndex)
    let replies = try exchange(request, operation: operation)
    guard let link = replies.first(where: { Int($0.type) == RTM_NEWLINK }) else {
      throw NetlinkError(operation: operation,
                         failure: .missingReply(expectedType: UInt16(RTM_NEWLINK)),
                         errno: .badMessage)
    }
    do throws(NetlinkParseError) {
      // struct ifinfomsg (16 bytes), then the IFLA_* attributes.
      guard let attributes = NetlinkBytes.slice(
        link.payload, offset: 16, count: link.payload.count - 16)
      else {
        throw NetlinkParseError.truncatedPayload(
          what: "struct ifinfomsg", expected: 16, actual: link.payload.count)
      }
      guard let xdp = try NetlinkAttribute.parse(attributes).first(ofType: UInt16(IFLA_XDP))
      else { return XDPAttachmentState() }
      return XDPAttachmentState(attributes: try xdp.nested())
    } catch {
      throw NetlinkError(operation: operation, failure: .malformedReply(error),
                         errno: .badMessage)
    }
  }
}

/// One-shot rtnetlink requests, each on a fresh NETLINK_ROUTE socket in the calling thread's
/// network namespace.
public enum RouteNetlink {
  /// Attaches, replaces or detaches the XDP program of an interface; see
  /// ``RouteNetlinkSocket/setXDP(interfaceIndex:programFD:flags:expectedProgramFD:)``.
  ///
  /// The corresponding rtnetlink message is RTM_SETLINK with a nested IFLA_XDP.
  public static func setXDP(
    interfaceIndex: Int32, programFD: Int32, flags: XDPFlags = [],
    expectedProgramFD: Int32? = nil
  ) throws(NetlinkError) {
    try RouteNetlinkSocket().setXDP(
      interfaceIndex: interfaceIndex, programFD: programFD, flags: flags,
      expectedProgramFD: expectedProgramFD)
  }

  /// The XDP programs attached to an interface; see
  /// ``RouteNetlinkSocket/xdpState(interfaceIndex:)``.
  ///
  /// The corresponding rtnetlink message is RTM_GETLINK, read from IFLA_XDP of RTM_NEWLINK.
  public static func xdpState(interfaceIndex: Int32) throws(NetlinkError) -> XDPAttachmentState {
    try RouteNetlinkSocket().xdpState(interfaceIndex: interfaceIndex)
  }
}
