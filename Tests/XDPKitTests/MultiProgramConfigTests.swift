import Testing
@testable import XDPKit
import XDPKitTestSupport

/// The parts of the multi-program protocol that need no kernel: run configurations read from
/// BTF, the dispatcher's version marker, the configuration layout (versions 1 and 2), the run
/// order and the state directory's path.
@Suite("Multi-program XDP: configuration")
struct MultiProgramConfigTests {
  @Test func runConfigFromBTFAndDefaults() throws {
    let object = try TestFixtures.object("multiprog_component")
    let marked = XDPComponent(object: object, program: "xdp_mark")
    #expect(try marked.declaredRunConfig() == XDPRunConfig(priority: 20, chainCallActions: 1 << 1 | 1 << 2))
    #expect(try marked.declaredRunConfig().description == "priority 20, chain on XDP_DROP,XDP_PASS")
    let plain = XDPComponent(object: object, program: "xdp_plain")
    #expect(try plain.declaredRunConfig() == XDPRunConfig(priority: 50, chainCallActions: 1 << 2))
    #expect {
      _ = try XDPComponent(object: object, program: "nope").declaredRunConfig()
    } throws: { error in
      guard case MultiProgramError.noSuchProgram("nope", let available) = error else { return false }
      return available == ["xdp_mark", "xdp_plain", "xdp_frags"]
    }
  }

  @Test func dispatcherVersionMarkerInBTF() throws {
    let ours = try #require(try DispatcherChange.dispatcherObject.get().btf)
    #expect(try ours.xdpDispatcherVersion() == 2)
    let old = try #require(try TestFixtures.object("dispatcher_v1").btf)
    #expect(try old.xdpDispatcherVersion() == 1)
    #expect(try #require(try TestFixtures.object("xdp_pass").btf).xdpDispatcherVersion() == nil)
  }

  @Test func configurationLayout() throws {
    let config = XDPDispatcherConfig(
      slots: [(XDPRunConfig(priority: 10, chainCallActions: 1 << 2), false),
              (XDPRunConfig(priority: 20, chainCallActions: 1 << 1 | 1 << 2), true)],
      dispatcherFrags: false)
    let bytes = config.encoded()
    #expect(bytes.count == 124)
    #expect(Array(bytes[0..<4]) == [236, 2, 2, 0])
    #expect(Array(bytes[4..<12]) == [4, 0, 0, 0x80, 6, 0, 0, 0x80])   // chain masks | 1 << 31
    #expect(Array(bytes[44..<52]) == [10, 0, 0, 0, 20, 0, 0, 0])       // priorities
    #expect(Array(bytes[84..<92]) == [0, 0, 0, 0, 32, 0, 0, 0])        // BPF_F_XDP_HAS_FRAGS
    let decoded = try XDPDispatcherConfig.decode(bytes, btfVersion: nil, programID: 1)
    #expect(decoded == config)
    #expect(decoded.runConfig(slot: 1) == XDPRunConfig(priority: 20, chainCallActions: 6))

    // Version 1: no magic; the version comes from BTF; 84 bytes.
    var v1 = [UInt8](repeating: 0, count: 84)
    v1[0] = 1
    v1[4] = 4; v1[7] = 0x80
    v1[44] = 7
    let old = try XDPDispatcherConfig.decode(v1, btfVersion: 1, programID: 9)
    #expect(old.version == 1 && old.programCount == 1)
    #expect(old.runConfig(slot: 0) == XDPRunConfig(priority: 7, chainCallActions: 4))

    #expect {
      _ = try XDPDispatcherConfig.decode([236, 3] + [UInt8](repeating: 0, count: 122), btfVersion: nil, programID: 5)
    } throws: { error in
      guard case MultiProgramError.newerDispatcher(5, 3, 2) = error else { return false }
      return true
    }
    #expect {
      _ = try XDPDispatcherConfig.decode(v1, btfVersion: nil, programID: 6)
    } throws: { error in
      guard case MultiProgramError.notADispatcher(6, _, let reason) = error else { return false }
      return reason.contains("no magic")
    }
    #expect {
      _ = try XDPDispatcherConfig.decode([236, 2, 0, 0], btfVersion: nil, programID: 7)
    } throws: { error in
      guard case MultiProgramError.notADispatcher(7, _, let reason) = error else { return false }
      return reason.contains("124 bytes, this one 4")
    }
  }

  @Test func runOrderTieBreaks() {
    func key(_ priority: UInt32, _ name: String, installed: Bool = true, tag: [UInt8] = [1], time: UInt64 = 5,
             id: UInt32 = 9) -> RunOrderKey {
      RunOrderKey(priority: priority, name: Array(name.utf8), isInstalled: installed, tag: installed ? tag : [],
                  loadTime: installed ? time : 0, id: installed ? id : 0)
    }
    // Priority first, whatever the name.
    #expect(RunOrderKey.runsBefore(key(10, "zeta"), key(20, "alpha")))
    // Equal priority: function name, bytewise ("B" < "a").
    #expect(RunOrderKey.runsBefore(key(50, "B"), key(50, "a")))
    #expect(!RunOrderKey.runsBefore(key(50, "a"), key(50, "B")))
    // Equal name: installed before new.
    #expect(RunOrderKey.runsBefore(key(50, "f"), key(50, "f", installed: false)))
    #expect(!RunOrderKey.runsBefore(key(50, "f", installed: false), key(50, "f")))
    // Both installed: tag, then load time, then id.
    #expect(RunOrderKey.runsBefore(key(50, "f", tag: [1, 2]), key(50, "f", tag: [1, 3])))
    #expect(RunOrderKey.runsBefore(key(50, "f", time: 4), key(50, "f", time: 5)))
    #expect(RunOrderKey.runsBefore(key(50, "f", id: 3), key(50, "f", id: 4)))
    #expect(!RunOrderKey.runsBefore(key(50, "f"), key(50, "f")))
  }

  @Test func stateDirectoryPath() {
    #expect(DispatcherPins.statePath(environment: [:]) == "/sys/fs/bpf/xdp")
    #expect(DispatcherPins.statePath(environment: ["LIBXDP_BPFFS": ""]) == "/sys/fs/bpf/xdp")
    #expect(DispatcherPins.statePath(environment: ["LIBXDP_BPFFS": "/run/bpf//"]) == "/run/bpf/xdp")
    #expect(DispatcherPins.statePath(environment: ["LIBXDP_BPFFS": "/"]) == "/xdp")
    #expect(DispatcherPins.directoryName(interfaceIndex: 3, dispatcherID: 77) == "dispatch-3-77")
  }
}
