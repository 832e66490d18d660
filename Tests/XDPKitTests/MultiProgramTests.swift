import Foundation
import Testing
@testable import XDPKit
import XDPKitSys
import XDPKitTestSupport

/// Several XDP programs on one interface behind the multi-program dispatcher (libxdp's
/// protocol, version 2). Adding a program needs freplace, which this machine's kernel refuses
/// under lockdown: there the tests assert XDPKit's lockdown error and an untouched interface;
/// the VM suite (Tests/VM/run.sh, Debian's 6.1 kernel without lockdown) asserts that the
/// programs run, in order. Reading dispatchers and refusing what must not be touched need no
/// freplace and run everywhere. Pure parts: MultiProgramConfigTests; with xdp-tools:
/// MultiProgramInteropTests.swift.
@Suite("Multi-program XDP", .kernel, .serialized)
struct MultiProgramTests {
  // MARK: Kernel: what is refused or only read (no freplace needed)

  /// A program that is not a dispatcher is never replaced.
  @Test func refusesANonDispatcherProgram() throws {
    try DispatcherTestSupport.onVethB { network, veth in
      let single = try TestFixtures.object("xdp_pass").load()
      let link = try single.xdpProgram("xdp_pass").attach(to: veth, mode: .native, method: .netlink())
      defer { try? link.detach() }
      let id = try single.program("xdp_pass").id
      #expect(try XDP.programs(on: veth) == .single(id: id, name: "xdp_pass", mode: .native))
      #expect {
        _ = try XDPComponent(object: TestFixtures.object("multiprog_component"), program: "xdp_plain").attach(to: veth)
      } throws: { error in
        guard case MultiProgramError.notADispatcher(id, "xdp_pass", _) = error else { return false }
        return "\(error)".contains("detach it first")
      }
      #expect(try XDP.attachment(on: veth).programID == id)
    }
  }

  /// A dispatcher of a later version is neither read nor modified; one of version 1 is read
  /// (its programs listed) but not replaced.
  @Test func newerAndOlderDispatchers() throws {
    try DispatcherTestSupport.onVethB { network, veth in
      #expect(try XDP.programs(on: veth) == .none)
      // A version 3 dispatcher: ours, with version 3 in its configuration.
      var newer = LoadOptions(programs: ["xdp_dispatcher"])
      newer.globals["conf"] = DispatcherConfigValue([236, 3] + [UInt8](repeating: 0, count: 122))
      let three = try DispatcherChange.dispatcherObject.get().load(options: newer)
      let threeID = try three.program("xdp_dispatcher").id
      let link = try three.xdpProgram("xdp_dispatcher").attach(to: veth, mode: .native, method: .netlink())
      #expect {
        _ = try XDP.programs(on: veth)
      } throws: { error in
        guard case MultiProgramError.newerDispatcher(threeID, 3, 2) = error else { return false }
        return "\(error)".contains("will not touch it")
      }
      #expect {
        _ = try XDPComponent(object: TestFixtures.object("multiprog_component"), program: "xdp_plain").attach(to: veth)
      } throws: { error in
        guard case MultiProgramError.newerDispatcher(threeID, 3, 2) = error else { return false }
        return true
      }
      try link.detach()

      // A version 1 dispatcher with no programs: listed, not replaced.
      let v1 = try TestFixtures.object("dispatcher_v1").load()
      let v1ID = try v1.program("xdp_dispatcher").id
      let v1Link = try v1.xdpProgram("xdp_dispatcher").attach(to: veth, mode: .generic, method: .netlink())
      defer { try? v1Link.detach() }
      #expect(try XDP.programs(on: veth) == .dispatcher(XDPDispatcherInfo(
        id: v1ID, version: 1, mode: .generic, supportsFrags: false, components: [])))
      #expect {
        _ = try XDPComponent(object: TestFixtures.object("multiprog_component"), program: "xdp_plain").attach(to: veth)
      } throws: { error in
        guard case MultiProgramError.olderDispatcher(v1ID, 1) = error else { return false }
        return true
      }
      #expect(try XDP.attachment(on: veth).programID == v1ID)
    }
  }

  /// A version 1 dispatcher with a program (installed here by hand, as an older libxdp would):
  /// its program is listed with the priority and chain-call actions of the version 1
  /// configuration, and XDPKit does not replace it.
  @Test func version1DispatcherProgramsAreListed() throws {
    // struct xdp_dispatcher_config_v1: one program, chain on XDP_PASS (+ bit 31), priority 7.
    var words = [UInt32](repeating: 0, count: 21)
    words[0] = 1
    words[1] = 1 << 2 | 1 << 31
    words[11] = 7
    let config = V1Config(words)
    var options = LoadOptions(programs: ["xdp_dispatcher"])
    options.globals["conf"] = config
    let dispatcher = try TestFixtures.object("dispatcher_v1").load(options: options)
    let dispatcherProgram = try dispatcher.program("xdp_dispatcher")
    var componentOptions = LoadOptions(programs: ["xdp_plain"])
    componentOptions.programOverrides["xdp_plain"] = ProgramLoadOverride(type: .ext, flags: [])
    componentOptions.attachTargets["xdp_plain"] = .program(dispatcherProgram, function: "prog0")
    let object = try TestFixtures.object("multiprog_component")
    let mode = try TrampolineTests.lockdown()
    if mode.refusesTrampolines {
      #expect {
        _ = try object.load(options: componentOptions)
      } throws: { error in
        guard case LoadError.lockedDown("xdp_plain", .ext, mode) = error else { return false }
        return true
      }
      return
    }
    let component = try object.load(options: componentOptions).program("xdp_plain")
    let link = try component.attach(replacing: "prog0", in: dispatcherProgram)
    try DispatcherTestSupport.onVethB { network, veth in
      let id = try dispatcherProgram.id
      let state = try BPFFSDirectory.open(DispatcherPins.statePath, create: true)
      let name = DispatcherPins.directoryName(interfaceIndex: network.interfaceIndexB, dispatcherID: id)
      let pins = try state.subdirectory(name, create: true)
      defer { _ = try? state.removeTree(name) }
      try link.pin(in: pins, as: "prog0-link")
      try component.pin(in: pins, as: "prog0-prog")
      let attachment = try dispatcher.xdpProgram("xdp_dispatcher").attach(to: veth, mode: .native, method: .netlink())
      defer { try? attachment.detach() }
      guard case .dispatcher(let listed) = try XDP.programs(on: veth) else {
        Issue.record("expected the version 1 dispatcher")
        return
      }
      #expect(listed.id == id && listed.version == 1 && listed.mode == .native && !listed.supportsFrags)
      #expect(listed.components.count == 1)
      #expect(listed.components.first?.id == (try component.id))
      #expect(listed.components.first?.name == "xdp_plain")
      #expect(listed.components.first?.runConfig == XDPRunConfig(priority: 7, chainCallActions: 1 << 2))
      #expect(Array(try DispatcherTestSupport.testRun(dispatcherID: id).packet[42..<44]) == Array("A".utf8) + [0])
      #expect {
        _ = try XDPComponent(object: object, program: "xdp_mark").attach(to: veth)
      } throws: { error in
        guard case MultiProgramError.olderDispatcher(id, 1) = error else { return false }
        return true
      }
    }
  }

  // MARK: Kernel: adding and removing programs (freplace)

  /// Three programs with priorities 10, 20, 30, added out of order: the dispatcher runs them in
  /// priority order, stops at the dropper (which chains only on XDP_PASS), and after the dropper
  /// is removed the other two run, with real packets and with test runs of the dispatcher.
  @Test func orderChainCallsAndRemovingTheMiddleProgram() throws {
    // Pins of its own: it checks that none are left for B's veth.
    try DispatcherTestSupport.withPrivatePins { _ in try orderChainCallsAndRemoval() }
  }

  private func orderChainCallsAndRemoval() throws {
    let object = try TestFixtures.object("multiprog_component")
    func component(_ program: String, mark: Character, verdict: XDPAction) -> XDPComponent {
      XDPComponent(object: object, program: program,
                   options: LoadOptions(globals: ["mark": UInt8(mark.asciiValue!), "verdict": verdict.rawValue]))
    }
    let first = component("xdp_plain", mark: "A", verdict: .pass)
    let dropper = component("xdp_plain", mark: "B", verdict: .drop)
    let last = component("xdp_mark", mark: "C", verdict: .pass)

    let mode = try TrampolineTests.lockdown()
    if mode.refusesTrampolines {
      try DispatcherTestSupport.onVethB { network, veth in
        #expect {
          _ = try first.attach(to: veth, priority: 10)
        } throws: { error in
          guard case MultiProgramError.componentLoad("xdp_plain", LoadError.lockedDown(let program, let type, let reported)) = error
          else { return false }
          return program == "xdp_plain" && type == .ext && reported == mode
        }
        // Nothing attached, nothing pinned.
        #expect(try XDP.attachment(on: veth) == XDPAttachmentState())
        #expect(try XDP.programs(on: veth) == .none)
        let index = network.interfaceIndexB
        let leftovers = try BPFFSDirectory.open(DispatcherPins.statePath).entries()
          .filter { $0.hasPrefix("dispatch-\(index)-") }
        #expect(leftovers.isEmpty)
      }
      return
    }

    let network = try TestNetwork()
    defer { network.destroy() }
    try network.addPeerNeighbour(network.ipv4B, on: .a)
    let veth = NetworkInterface.name(network.interfaceB)
    let (c, a, b) = try network.withNamespace(.b) {
      (try last.attach(to: veth, mode: .native, priority: 30),
       try first.attach(to: veth, priority: 10),
       try dropper.attach(to: veth, priority: 20, chainCallActions: [.pass]))
    }
    defer {
      _ = try? network.withNamespace(.b) {
        for attached in [a, b, c] where !attached.isDetached { try? attached.detach() }
      }
    }
    #expect(c.runConfig == XDPRunConfig(priority: 30, chainCallActions: 1 << 1 | 1 << 2))
    let listed = try network.withNamespace(.b) { try XDP.programs(on: veth) }
    guard case .dispatcher(let dispatcher) = listed else {
      Issue.record("expected a dispatcher, found \(listed)")
      return
    }
    #expect(dispatcher.version == 2 && dispatcher.mode == .native)
    #expect(dispatcher.components.map(\.id) == [a.programID, b.programID, c.programID])
    #expect(dispatcher.components.map(\.name) == ["xdp_plain", "xdp_plain", "xdp_mark"])
    #expect(dispatcher.components.map(\.runConfig.priority) == [10, 20, 30])
    #expect(dispatcher.components.map(\.runConfig.chainCallActions) == [4, 4, 6])
    #expect(dispatcher.components.map(\.slot) == [0, 1, 2])
    let pinDirectory = DispatcherPins.directoryName(interfaceIndex: network.interfaceIndexB, dispatcherID: dispatcher.id)
    #expect(try BPFFSDirectory.open(DispatcherPins.statePath).subdirectory(pinDirectory).entries() ==
            ["prog0-link", "prog0-prog", "prog1-link", "prog1-prog", "prog2-link", "prog2-prog"])

    // Test run of the dispatcher: A, then B, which drops; C never runs.
    let run = try DispatcherTestSupport.testRun(dispatcherID: dispatcher.id)
    #expect(run.action == .drop)
    #expect(Array(run.packet[42..<46]) == Array("AB".utf8) + [0, 0])

    // Real packets: dropped by B after A saw them; C sees none.
    let port: UInt16 = 47_301
    let count = 20
    let receiver = try network.countingReceiver(in: .b, port: port, address: network.ipv4B)
    defer { receiver.stop() }
    let before = try DispatcherTestSupport.runs(of: [a, b, c])
    #expect(try network.sendUDP(from: .a, to: network.ipv4B, count: count, port: port) == count)
    #expect(receiver.count() == 0)
    let dropped = try DispatcherTestSupport.runs(of: [a, b, c])
    #expect(dropped[0] - before[0] >= UInt64(count))
    #expect(dropped[1] - before[1] >= UInt64(count))
    // (C may have seen a stray packet, IPv6 neighbour discovery, before B was added.)
    #expect(dropped[2] == before[2])

    // Remove the middle program: A and C keep running, in order, on a new dispatcher.
    try network.withNamespace(.b) { try b.detach() }
    #expect(b.isDetached)
    guard case .dispatcher(let after) = try network.withNamespace(.b, { try XDP.programs(on: veth) }) else {
      Issue.record("expected a dispatcher after removing the middle program")
      return
    }
    #expect(after.id != dispatcher.id)
    #expect(after.components.map(\.id) == [a.programID, c.programID])
    #expect(after.components.map(\.runConfig.priority) == [10, 30])
    #expect(try BPFFSDirectory.open(DispatcherPins.statePath).entryType(pinDirectory) == nil)
    let second = try DispatcherTestSupport.testRun(dispatcherID: after.id)
    #expect(second.action == .pass)
    #expect(Array(second.packet[42..<46]) == Array("AC".utf8) + [0, 0])
    #expect(try network.sendUDP(from: .a, to: network.ipv4B, count: count, port: port) == count)
    #expect(receiver.count() == count)
    let passed = try DispatcherTestSupport.runs(of: [a, c])
    #expect(passed[0] - dropped[0] >= UInt64(count))
    #expect(passed[1] - dropped[2] >= UInt64(count))
    // Removing it again is refused: it is gone.
    #expect {
      try network.withNamespace(.b) { try b.detach() }
    } throws: { error in
      guard case MultiProgramError.notAttached(let id, _) = error else { return false }
      return id == b.programID
    }

    // The last two leave: the interface has no program and no pins remain.
    try network.withNamespace(.b) {
      try a.detach()
      try c.detach()
      #expect(try XDP.attachment(on: veth) == XDPAttachmentState())
      #expect(try XDP.programs(on: veth) == .none)
    }
    let leftovers = try BPFFSDirectory.open(DispatcherPins.statePath).entries()
      .filter { $0.hasPrefix("dispatch-\(network.interfaceIndexB)-") }
    #expect(leftovers.isEmpty)
  }

  /// A new dispatcher goes where the mode says (`.auto` falls back to generic on an interface
  /// without native XDP); later programs join it in its mode and asking for another is refused.
  @Test func modesOfTheDispatcher() throws {
    let object = try TestFixtures.object("multiprog_component")
    let first = XDPComponent(object: object, program: "xdp_plain")
    let second = XDPComponent(object: object, program: "xdp_mark")
    try DispatcherTestSupport.onVethB { network, veth in
      #expect {
        _ = try first.attach(to: veth, mode: .offload)
      } throws: { error in
        guard case MultiProgramError.interface(.modeNotSupported(.offload, _, _)) = error else { return false }
        return true
      }
      try network.addBridge("xkmpbr0", on: .b)
      let bridge = NetworkInterface.name("xkmpbr0")
      if try TrampolineTests.lockdown().refusesTrampolines {
        #expect {
          _ = try first.attach(to: bridge)
        } throws: { error in
          guard case MultiProgramError.componentLoad(_, LoadError.lockedDown) = error else { return false }
          return true
        }
        #expect(try XDP.programs(on: bridge) == .none)
        return
      }
      let a = try first.attach(to: bridge)
      guard case .dispatcher(let generic) = try XDP.programs(on: bridge) else {
        Issue.record("expected a dispatcher on the bridge")
        return
      }
      #expect(generic.mode == .generic)
      #expect {
        _ = try second.attach(to: bridge, mode: .native)
      } throws: { error in
        guard case MultiProgramError.modeMismatch(.native, .generic) = error else { return false }
        return true
      }
      let b = try second.attach(to: bridge, mode: .generic)
      guard case .dispatcher(let both) = try XDP.programs(on: bridge) else {
        Issue.record("expected a dispatcher on the bridge")
        return
      }
      #expect(both.mode == .generic)
      #expect(both.components.map(\.id) == [b.programID, a.programID])   // priority 20, then 50
      try a.detach()
      try b.detach()
      #expect(try XDP.programs(on: bridge) == .none)
    }
  }

  /// The program stays installed when every Swift value is gone (its pins hold it), and anyone
  /// can remove it by id. Pins go under `$LIBXDP_BPFFS/xdp`: here a bpffs the test mounts.
  @Test func pinnedUnderLIBXDP_BPFFSAndOutlivesItsValues() throws {
    try DispatcherTestSupport.withPrivatePins { mountPoint in try pinnedUnder(mountPoint) }
  }

  private func pinnedUnder(_ mountPoint: String) throws {
    #expect(DispatcherPins.statePath == mountPoint + "/xdp")

    let component = XDPComponent(object: try TestFixtures.object("multiprog_component"), program: "xdp_plain",
                                 options: LoadOptions(globals: ["mark": UInt8(ascii: "P")]))
    try DispatcherTestSupport.onVethB { network, veth in
      let mode = try TrampolineTests.lockdown()
      if mode.refusesTrampolines {
        #expect {
          _ = try component.attach(to: veth)
        } throws: { error in
          guard case MultiProgramError.componentLoad(_, LoadError.lockedDown) = error else { return false }
          return true
        }
        // The state directory was made (mode 0700) where LIBXDP_BPFFS says, and holds nothing.
        var info = stat()
        #expect(stat(mountPoint + "/xdp", &info) == 0 && info.st_mode & 0o777 == 0o700)
        #expect(try BPFFSDirectory.open(mountPoint + "/xdp").entries() == [])
        return
      }
      var id: UInt32 = 0
      do {
        let attached = try component.attach(to: veth)
        id = attached.programID
        attached.object.close()
      }
      guard case .dispatcher(let dispatcher) = try XDP.programs(on: veth) else {
        Issue.record("expected the dispatcher to remain")
        return
      }
      #expect(dispatcher.components.map(\.id) == [id])
      let pins = DispatcherPins.directoryName(interfaceIndex: network.interfaceIndexB, dispatcherID: dispatcher.id)
      #expect(try BPFFSDirectory.open(mountPoint + "/xdp").subdirectory(pins).entries() == ["prog0-link", "prog0-prog"])
      #expect(Array(try DispatcherTestSupport.testRun(dispatcherID: dispatcher.id).packet[42..<44]) == Array("P".utf8) + [0])
      try XDP.removeProgram(id: id, from: veth)
      #expect(try XDP.programs(on: veth) == .none)
      #expect(try BPFFSDirectory.open(mountPoint + "/xdp").entries() == [])
      #expect {
        try XDP.removeProgram(id: id, from: veth)
      } throws: { error in
        guard case MultiProgramError.notAttached(id, _) = error else { return false }
        return true
      }
    }
  }

  /// The dispatcher supports frags only while every program does; each program's flag is
  /// recorded in its slot.
  @Test func fragsFollowEveryProgram() throws {
    let object = try TestFixtures.object("multiprog_component")
    let frags = XDPComponent(object: object, program: "xdp_frags")
    let plain = XDPComponent(object: object, program: "xdp_plain")
    try DispatcherTestSupport.onVethB { network, veth in
      if try TrampolineTests.lockdown().refusesTrampolines {
        #expect {
          _ = try frags.attach(to: veth)
        } throws: { error in
          guard case MultiProgramError.componentLoad("xdp_frags", LoadError.lockedDown(_, .ext, _)) = error else {
            return false
          }
          return true
        }
        #expect(try XDP.programs(on: veth) == .none)
        return
      }
      let first = try frags.attach(to: veth)
      guard case .dispatcher(let alone) = try XDP.programs(on: veth) else {
        Issue.record("expected a dispatcher")
        return
      }
      #expect(alone.supportsFrags)
      #expect(alone.components.map(\.supportsFrags) == [true])
      let second = try plain.attach(to: veth, priority: 60)
      guard case .dispatcher(let mixed) = try XDP.programs(on: veth) else {
        Issue.record("expected a dispatcher")
        return
      }
      #expect(!mixed.supportsFrags)
      #expect(mixed.components.map(\.supportsFrags) == [true, false])
      #expect(mixed.components.map(\.id) == [first.programID, second.programID])
      try second.detach()
      guard case .dispatcher(let again) = try XDP.programs(on: veth) else {
        Issue.record("expected a dispatcher")
        return
      }
      #expect(again.supportsFrags)
      try first.detach()
      #expect(try XDP.programs(on: veth) == .none)
    }
  }

}

/// `struct xdp_dispatcher_config_v1` as a value of its exact size (84 bytes).
private struct V1Config: BitwiseCopyable {
  var words: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
              UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)

  init(_ values: [UInt32]) {
    words = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    withUnsafeMutableBytes(of: &words) { raw in
      for (index, value) in values.prefix(21).enumerated() { raw.storeBytes(of: value, toByteOffset: index * 4, as: UInt32.self) }
    }
  }
}
