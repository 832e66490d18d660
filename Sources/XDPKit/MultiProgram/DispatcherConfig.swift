import XDPKitObject

/// The configuration of a multi-program XDP dispatcher: `struct xdp_dispatcher_config` of
/// libxdp's protocol, the value of the dispatcher's one read-only `.rodata` map.
///
/// Version 2 (124 bytes): magic (236), version, number of programs, frags flag, then three
/// arrays of ten `__u32`: chain-call masks, run priorities, program flags. Version 1 (84
/// bytes) had the number of programs first and no magic, version, frags flag or flags array;
/// its version is read from the dispatcher's BTF.
public struct XDPDispatcherConfig: Sendable, Equatable {
  /// `XDP_DISPATCHER_MAGIC`: the first byte of a version 2 (or later) configuration.
  public static let magic: UInt8 = 236
  /// The protocol version XDPKit writes and modifies.
  public static let currentVersion: UInt32 = 2
  /// The number of program slots (`prog0` ... `prog9`).
  public static let slotCount = 10
  /// What an empty slot returns, and so a bit every chain-call mask has (`XDP_DISPATCHER_RETVAL`).
  public static let stubVerdict: UInt32 = 31
  /// `BPF_F_XDP_HAS_FRAGS`, as recorded per program in ``programFlags``.
  public static let fragsFlag: UInt32 = 1 << 5
  /// Size of a version 2 configuration.
  public static let version2Size = 124
  /// Size of a version 1 configuration.
  public static let version1Size = 84

  /// The protocol version of the dispatcher.
  public var version: UInt32
  /// How many slots are in use, from `prog0` on.
  public var programCount: Int
  /// Whether the dispatcher was loaded with BPF_F_XDP_HAS_FRAGS (version 2).
  public var isFrags: Bool
  /// Per slot: the actions (bit n for action n) after which the next slot runs.
  public var chainCallActions: [UInt32]
  /// Per slot: the run priority the program was installed with.
  public var priorities: [UInt32]
  /// Per slot: ``fragsFlag`` when the program supports frags (version 2).
  public var programFlags: [UInt32]

  /// A version 2 configuration for `slots` (at most ``slotCount``), in slot order.
  init(slots: [(config: XDPRunConfig, isFrags: Bool)], dispatcherFrags: Bool) {
    version = Self.currentVersion
    programCount = slots.count
    isFrags = dispatcherFrags
    chainCallActions = [UInt32](repeating: 0, count: Self.slotCount)
    priorities = chainCallActions
    programFlags = chainCallActions
    for (index, slot) in slots.enumerated() {
      chainCallActions[index] = slot.config.chainCallActions | (1 << Self.stubVerdict)
      priorities[index] = slot.config.priority
      programFlags[index] = slot.isFrags ? Self.fragsFlag : 0
    }
  }

  /// Reads a configuration map's value. `btfVersion` is the version the dispatcher's BTF
  /// declares, needed when the value carries no magic (version 1).
  ///
  /// - Throws: ``MultiProgramError/notADispatcher(programID:name:reason:)`` when neither the
  ///   value nor the BTF says which version it is or the size is wrong,
  ///   ``MultiProgramError/newerDispatcher(programID:version:supported:)`` for versions after 2.
  static func decode(_ bytes: [UInt8], btfVersion: UInt32?, programID: UInt32) throws(MultiProgramError) -> Self {
    func fail(_ reason: String) -> MultiProgramError {
      .notADispatcher(programID: programID, name: "xdp_dispatcher", reason: reason)
    }
    let version: UInt32
    if bytes.count >= 2, bytes[0] == magic {
      version = UInt32(bytes[1])
    } else if let btfVersion {
      version = btfVersion
    } else {
      throw fail("its configuration has no magic \(magic) and its BTF no dispatcher_version")
    }
    func words(at offset: Int) -> [UInt32] {
      (0..<slotCount).map { i in
        let base = offset + 4 * i
        return UInt32(bytes[base]) | UInt32(bytes[base + 1]) << 8 | UInt32(bytes[base + 2]) << 16
          | UInt32(bytes[base + 3]) << 24
      }
    }
    var config: Self
    switch version {
    case 1:
      guard bytes.count >= version1Size else {
        throw fail("a version 1 configuration is \(version1Size) bytes, this one \(bytes.count)")
      }
      config = Self(version: 1, programCount: Int(bytes[0]), isFrags: false, chainCallActions: words(at: 4),
                    priorities: words(at: 44), programFlags: [UInt32](repeating: 0, count: slotCount))
    case 2:
      guard bytes.count == version2Size else {
        throw fail("a version 2 configuration is \(version2Size) bytes, this one \(bytes.count)")
      }
      config = Self(version: 2, programCount: Int(bytes[2]), isFrags: bytes[3] != 0,
                    chainCallActions: words(at: 4), priorities: words(at: 44), programFlags: words(at: 84))
    default:
      throw .newerDispatcher(programID: programID, version: version, supported: currentVersion)
    }
    guard config.programCount <= slotCount else {
      throw fail("it claims \(config.programCount) programs, more than \(slotCount) slots")
    }
    return config
  }

  private init(version: UInt32, programCount: Int, isFrags: Bool, chainCallActions: [UInt32],
               priorities: [UInt32], programFlags: [UInt32]) {
    self.version = version
    self.programCount = programCount
    self.isFrags = isFrags
    self.chainCallActions = chainCallActions
    self.priorities = priorities
    self.programFlags = programFlags
  }

  /// The 124 bytes of the version 2 layout, little-endian.
  func encoded() -> [UInt8] {
    var bytes: [UInt8] = [Self.magic, UInt8(truncatingIfNeeded: version), UInt8(programCount), isFrags ? 1 : 0]
    for array in [chainCallActions, priorities, programFlags] {
      for word in array { appendLE(word, to: &bytes) }
    }
    return bytes
  }

  /// The run configuration of slot `slot`, as installed (the stub bit removed).
  func runConfig(slot: Int) -> XDPRunConfig {
    XDPRunConfig(priority: priorities[slot], chainCallActions: chainCallActions[slot] & ~(1 << Self.stubVerdict))
  }
}

/// The configuration as a value of its exact size, for ``LoadOptions/globals``.
struct DispatcherConfigValue: BitwiseCopyable, Sendable {
  var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
              UInt64, UInt64, UInt64, UInt64, UInt64)
  var tail: UInt32

  init(_ bytes: [UInt8]) {
    words = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    tail = 0
    withUnsafeMutableBytes(of: &self) { raw in
      for (index, byte) in bytes.prefix(XDPDispatcherConfig.version2Size).enumerated() { raw[index] = byte }
    }
  }
}
