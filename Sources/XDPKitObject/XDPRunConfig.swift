/// How a program runs behind a multi-program XDP dispatcher (libxdp's protocol): its priority
/// (lower runs first) and the actions after which the dispatcher goes on to the next program.
///
/// Read from an object's `.xdp_run_config` BTF (written with `XDP_RUN_CONFIG` from
/// `xdpkit_bpf.h`), or from a dispatcher's configuration map.
public struct XDPRunConfig: Sendable, Hashable, CustomStringConvertible {
  /// The priority a program without a run configuration gets: 50.
  public static let defaultPriority: UInt32 = 50
  /// The chain-call mask of a program without a run configuration: only XDP_PASS (bit 2).
  public static let defaultChainCallActions: UInt32 = 1 << 2
  /// The names of the XDP actions, indexed by their value (`enum xdp_action`).
  public static let actionNames = ["XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT"]

  /// Lower runs earlier.
  public var priority: UInt32
  /// Bit `n` set: when the program returns action `n`, the dispatcher runs the next program.
  public var chainCallActions: UInt32

  /// A run configuration; the defaults are those of a program that declares none.
  public init(priority: UInt32 = defaultPriority, chainCallActions: UInt32 = defaultChainCallActions) {
    self.priority = priority
    self.chainCallActions = chainCallActions
  }

  /// The names of the chain-call actions (`XDP_PASS`, …), in action order.
  public var chainCallActionNames: [String] {
    Self.actionNames.enumerated().filter { chainCallActions & (1 << UInt32($0.offset)) != 0 }.map(\.element)
  }

  public var description: String {
    let names = chainCallActionNames
    return "priority \(priority), chain on \(names.isEmpty ? "nothing" : names.joined(separator: ","))"
  }
}

/// Why a run configuration or a dispatcher's version marker could not be read from BTF.
public struct XDPMetadataError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The variable looked for (`_FUNCTION` in `.xdp_run_config`, `dispatcher_version` in
  /// `xdp_metadata`).
  public var variable: String
  /// What is wrong with it.
  public var reason: String

  public var description: String { "\(variable): \(reason)" }
}

extension BTF {
  /// The run configuration of the program whose function is `function`: the struct
  /// `_FUNCTION` in the `.xdp_run_config` DATASEC, whose members encode numbers as the
  /// lengths of the arrays they point to (`priority`, and one member per XDP action name,
  /// non-zero turning that action on, zero off). `nil` when there is no such variable; then
  /// the defaults apply.
  ///
  /// - Throws: ``XDPMetadataError`` for a member that is not a pointer to an array, or whose
  ///   name is neither `priority` nor an XDP action.
  public func xdpRunConfig(function: String) throws(XDPMetadataError) -> XDPRunConfig? {
    let name = "_" + function
    guard let structID = try variableType(named: name, inSection: ".xdp_run_config") else { return nil }
    guard case .struct(_, let members) = (try? type(id: structID))?.body else {
      throw XDPMetadataError(variable: name, reason: "not a struct")
    }
    var config = XDPRunConfig()
    for member in members {
      guard let memberName = member.name else {
        throw XDPMetadataError(variable: name, reason: "an anonymous member")
      }
      let value = try encodedNumber(member.type, variable: name + "." + memberName)
      if memberName == "priority" {
        config.priority = value
      } else if let action = XDPRunConfig.actionNames.firstIndex(of: memberName) {
        let bit = UInt32(1) << UInt32(action)
        if value != 0 { config.chainCallActions |= bit } else { config.chainCallActions &= ~bit }
      } else {
        throw XDPMetadataError(
          variable: name,
          reason: "member \(memberName) is neither priority nor an action (\(XDPRunConfig.actionNames.joined(separator: ", ")))")
      }
    }
    return config
  }

  /// The dispatcher protocol version in a dispatcher's BTF: `dispatcher_version` in the
  /// `xdp_metadata` DATASEC, a pointer to an array whose length is the version. `nil` when
  /// the BTF has no such variable.
  public func xdpDispatcherVersion() throws(XDPMetadataError) -> UInt32? {
    guard let typeID = try variableType(named: "dispatcher_version", inSection: "xdp_metadata") else { return nil }
    return try encodedNumber(typeID, variable: "dispatcher_version")
  }

  /// The type (modifiers skipped) of the VAR `name` listed in the DATASEC `section`.
  private func variableType(named name: String, inSection section: String) throws(XDPMetadataError) -> BTFTypeID? {
    for type in types {
      guard type.name == section, case .dataSection(_, let entries) = type.body else { continue }
      for entry in entries {
        guard let variable = try? self.type(id: entry.type), variable.name == name else { continue }
        guard case .variable(let target, let linkage) = variable.body else {
          throw XDPMetadataError(variable: name, reason: "the \(section) entry is a \(variable.kind), not a VAR")
        }
        guard linkage == .global || linkage == .static else {
          throw XDPMetadataError(variable: name, reason: "unsupported linkage \(linkage)")
        }
        do { return try skippingModifiers(target) } catch {
          throw XDPMetadataError(variable: name, reason: "\(error)")
        }
      }
    }
    return nil
  }

  /// The number a `__uint(name, N)` member encodes: `int (*name)[N]`.
  private func encodedNumber(_ id: BTFTypeID, variable: String) throws(XDPMetadataError) -> UInt32 {
    let resolved = (try? skippingModifiers(id)) ?? id
    guard case .pointer(let pointee)? = (try? type(id: resolved))?.body else {
      throw XDPMetadataError(variable: variable, reason: "expected a pointer to an array")
    }
    guard case .array(let info)? = (try? type(id: pointee))?.body else {
      throw XDPMetadataError(variable: variable, reason: "expected a pointer to an array, the pointee is not an array")
    }
    return info.count
  }
}
