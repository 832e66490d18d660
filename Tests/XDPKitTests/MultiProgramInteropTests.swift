import Foundation
import Testing
import XDPKit
import XDPKitSys
import XDPKitTestSupport

/// XDPKit and xdp-tools' `xdp-loader` (libxdp) on one interface. In the 6.1 VM both build real
/// dispatchers; on a host under lockdown libxdp attaches its program alone. Part of the
/// serialized MultiProgramTests suite.
extension MultiProgramTests {
  /// A program loaded by `xdp-loader` and one attached by XDPKit share the interface: both
  /// run, both are listed by either side, and either side's unload leaves the other's program.
  /// On a kernel under lockdown libxdp falls back to attaching its program alone, which
  /// XDPKit then refuses to replace.
  @Test func coexistsWithXDPLoader() throws {
    let fixture = TestFixtures.directory.appendingPathComponent("multiprog_component.o").path
    let object = try TestFixtures.object("multiprog_component")
    let ours = XDPComponent(object: object, program: "xdp_plain",
                            options: LoadOptions(globals: ["mark": UInt8(ascii: "Z")]))
    let network = try TestNetwork()
    defer { network.destroy() }
    let veth = NetworkInterface.name(network.interfaceB)
    // nsenter rather than `ip netns exec`, which remounts /sys and so hides bpffs (and the
    // dispatcher pins) from xdp-loader.
    let loaderPath = try Command.locate("xdp-loader", candidates: ["/usr/sbin/xdp-loader", "/usr/bin/xdp-loader"])
    let nsenter = try Command.locate("nsenter", candidates: ["/usr/bin/nsenter", "/bin/nsenter"])
    func loader(_ arguments: String...) throws -> CommandResult {
      try Command.run(nsenter, ["--net=/run/netns/\(network.namespaceB)", loaderPath] + arguments,
                      timeout: .seconds(300))
    }
    func listed() throws -> XDPInterfacePrograms { try network.withNamespace(.b) { try XDP.programs(on: veth) } }
    func theirs() throws -> CommandResult {
      try loader("load", "-m", "native", network.interfaceB, fixture, "-n", "xdp_mark")
    }

    let first = try theirs()
    #expect(first.succeeded, "xdp-loader load: \(first.standardError)")
    if try TrampolineTests.lockdown().refusesTrampolines {
      guard case .single(let id, "xdp_mark", .native) = try listed() else {
        Issue.record("expected xdp-loader's program alone, found \(try listed())")
        return
      }
      #expect {
        _ = try network.withNamespace(.b) { try ours.attach(to: veth) }
      } throws: { error in
        guard case MultiProgramError.notADispatcher(id, "xdp_mark", _) = error else { return false }
        return true
      }
      #expect(try loader("unload", network.interfaceB, "--all").succeeded)
      #expect(try listed() == .none)
      return
    }

    guard case .dispatcher(let theirDispatcher) = try listed(), theirDispatcher.components.count == 1 else {
      Issue.record("expected xdp-loader's dispatcher with one program, found \(try listed())")
      return
    }
    let theirID = theirDispatcher.components[0].id
    #expect(theirDispatcher.components[0].name == "xdp_mark")
    #expect(theirDispatcher.components[0].runConfig == XDPRunConfig(priority: 20, chainCallActions: 6))

    let attached = try network.withNamespace(.b) { try ours.attach(to: veth, priority: 10) }
    guard case .dispatcher(let shared) = try listed() else {
      Issue.record("expected a dispatcher, found \(try listed())")
      return
    }
    #expect(shared.components.map(\.id) == [attached.programID, theirID])
    #expect(shared.components.map(\.name) == ["xdp_plain", "xdp_mark"])
    let status = try loader("status", network.interfaceB)
    #expect(status.succeeded)
    #expect(status.standardOutput.contains("xdp_plain") && status.standardOutput.contains("xdp_mark"))
    #expect(status.standardOutput.contains(" \(attached.programID) ") && status.standardOutput.contains(" \(theirID) "))
    // Both run: ours marks Z, theirs (priority 20) marks A after it.
    #expect(Array(try DispatcherTestSupport.testRun(dispatcherID: shared.id).packet[42..<45]) == Array("ZA".utf8) + [0])

    // xdp-loader removes its program; ours stays and runs.
    #expect(try loader("unload", network.interfaceB, "-i", "\(theirID)").succeeded)
    guard case .dispatcher(let alone) = try listed() else {
      Issue.record("expected our program to remain, found \(try listed())")
      return
    }
    #expect(alone.components.map(\.id) == [attached.programID])
    #expect(Array(try DispatcherTestSupport.testRun(dispatcherID: alone.id).packet[42..<44]) == Array("Z".utf8) + [0])

    // The other way round: theirs joins ours, ours leaves, theirs stays.
    #expect(try theirs().succeeded)
    guard case .dispatcher(let again) = try listed(), again.components.count == 2 else {
      Issue.record("expected two programs, found \(try listed())")
      return
    }
    #expect(again.components[0].id == attached.programID && again.components[1].name == "xdp_mark")
    try network.withNamespace(.b) { try attached.detach() }
    guard case .dispatcher(let remaining) = try listed() else {
      Issue.record("expected xdp-loader's program to remain, found \(try listed())")
      return
    }
    #expect(remaining.components.map(\.id) == [again.components[1].id])
    #expect(Array(try DispatcherTestSupport.testRun(dispatcherID: remaining.id).packet[42..<44]) == Array("A".utf8) + [0])
    #expect(try loader("unload", network.interfaceB, "--all").succeeded)
    #expect(try listed() == .none)
  }
}
