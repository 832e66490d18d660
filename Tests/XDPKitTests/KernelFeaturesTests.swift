import Foundation
import SystemPackage
import Testing
import XDPKit
import XDPKitSys
import XDPKitTestSupport

/// KernelFeatures agrees with what the kernel does: each probe's "supported" is followed by a
/// real load or create that succeeds, and each "not supported" by one that fails.
@Suite("Kernel feature probes", .kernel)
struct KernelFeaturesTests {
  static let trampolineTypes: [BPFProgramType] = [.tracing, .lsm, .ext]
  static var lockedDown: Bool { SystemInfo.lockdownMode()?.refusesTrampolines == true }

  /// `r0 = 1; exit`: another program than the probe's.
  static let returnOne: [UInt64] = [0x1_0000_00b7, 0x95]

  @Test("program types: supported ones load another program; unsupported ones refuse it with the probe's errno")
  func programTypes() throws {
    for raw in 1..<BPFProgramType.knownCount {
      let type = BPFProgramType(rawValue: raw)
      let probe = KernelFeatures.programType(type)
      if Self.trampolineTypes.contains(type) {
        if Self.lockedDown {
          #expect(probe.answer == .undetermined && probe.errno == .notPermitted, "\(type): \(probe)")
        } else {
          #expect(probe.answer == .supported, "\(type): \(probe)")
        }
        continue
      }
      if type == .structOps { #expect(probe.isSupported, "\(probe)"); continue }
      var attributes = ProgramLoadAttributes(type: type, instructions: Self.returnOne, license: "GPL", name: "agreement")
      let probeAttributes = FeatureProbesAccess.minimal(type)
      attributes.expectedAttachType = probeAttributes.expectedAttachType
      attributes.flags = probeAttributes.flags
      let real = BPF.loadProgram(attributes).result
      switch (probe.answer, real) {
      case (.supported, .success): break
      case (.unsupported, .failure(let error)): #expect(error.errno == probe.errno, "\(type)")
      default: Issue.record("\(type): probe \(probe), real load \(real)")
      }
    }
    // A type no kernel has: the probe says no, and so does a real program of it.
    let unknown = BPFProgramType(rawValue: 200)
    #expect(KernelFeatures.programType(unknown).answer == .unsupported)
    #expect(KernelFeatures.programType(unknown).errno == .invalidArgument)
    let loaded = BPF.loadProgram(ProgramLoadAttributes(type: unknown, instructions: Self.returnOne, license: "GPL")).result
    guard case .failure(let error) = loaded else { Issue.record("type 200 loaded"); return }
    #expect(error.errno == .invalidArgument)
    // XDP through the whole loader.
    #expect(KernelFeatures.programType(.xdp).isSupported)
    #expect(try TestFixtures.object("xdp_pass").load().program("xdp_pass").id > 0)
  }

  @Test("map types: supported ones create with other sizes; unsupported ones refuse them")
  func mapTypes() throws {
    for raw in 1..<BPFMapType.knownCount {
      let type = BPFMapType(rawValue: raw)
      let probe = KernelFeatures.mapType(type)
      guard let attributes = Self.realMap(type) else {
        // Types whose creation needs more than sizes (inner maps, BTF, kernel value types):
        // the probe is the real creation.
        #expect(probe.answer != .undetermined, "\(type): \(probe)")
        continue
      }
      let real = Result { () throws(SyscallError) in try BPF.createMap(attributes) }
      switch (probe.answer, real) {
      case (.supported, .success): break
      case (.unsupported, .failure(let error)): #expect(error.errno == probe.errno, "\(type)")
      default: Issue.record("\(type): probe \(probe), real create \(real)")
      }
    }
    let unknown = BPFMapType(rawValue: 200)
    #expect(KernelFeatures.mapType(unknown).answer == .unsupported)
    #expect(throws: SyscallError(command: .mapCreate, errno: .invalidArgument)) {
      try BPF.createMap(MapCreateAttributes(type: unknown, keySize: 8, valueSize: 16, maxEntries: 64))
    }
    #expect(KernelFeatures.ringBuffer.isSupported)
    #expect(try BPF.createMap(MapCreateAttributes(type: .ringBuffer, keySize: 0, valueSize: 0, maxEntries: 1 << 16)).rawValue >= 0)
  }

  /// A map of `type` as a program would declare it, with sizes other than the probe's; nil for
  /// the types that need more than sizes.
  static func realMap(_ type: BPFMapType) -> MapCreateAttributes? {
    switch type {
    case .hash, .perCPUHash, .lruHash, .lruPerCPUHash, .array, .perCPUArray:
      return MapCreateAttributes(type: type, keySize: 4, valueSize: 64, maxEntries: 1024)
    case .programArray, .perfEventArray, .cgroupArray, .devMap, .cpuMap, .xskMap, .sockMap, .sockHash,
         .reuseportSockArray, .devMapHash:
      return MapCreateAttributes(type: type, keySize: 4, valueSize: 4, maxEntries: 64)
    case .stackTrace: return MapCreateAttributes(type: type, keySize: 4, valueSize: 127 * 8, maxEntries: 64)
    case .lpmTrie: return MapCreateAttributes(type: type, keySize: 20, valueSize: 8, maxEntries: 64, flags: MapCreateFlags(rawValue: 1))
    case .queue, .stack, .bloomFilter: return MapCreateAttributes(type: type, keySize: 0, valueSize: 16, maxEntries: 64)
    case .ringBuffer, .userRingBuffer: return MapCreateAttributes(type: type, keySize: 0, valueSize: 0, maxEntries: 1 << 16)
    default: return nil
    }
  }

  @Test("helpers: the kernel's numbering, an allowed helper used for real, a refused one refused for real")
  func helpers() throws {
    let numbers = KernelFeatures.helperNumbers()
    #expect(numbers["bpf_map_lookup_elem"] == 1)
    #expect(numbers["bpf_xdp_adjust_tail"] == 65)
    #expect(numbers["bpf_skb_store_bytes"] == 9)

    let adjustTail = try #require(KernelFeatures.helper(named: "bpf_xdp_adjust_tail", programType: .xdp))
    #expect(adjustTail.isSupported)
    // r2 = 0; call bpf_xdp_adjust_tail (r1 is the context); r0 = XDP_PASS; exit.
    let usesAdjustTail: [UInt64] = [0xb7 | 2 << 8, 0x85 | 65 << 32, 0x2_0000_00b7, 0x95]
    #expect(throws: Never.self) {
      try BPF.loadProgram(ProgramLoadAttributes(type: .xdp, instructions: usesAdjustTail, license: "GPL")).result.get()
    }

    let storeBytes = try #require(KernelFeatures.helper(named: "bpf_skb_store_bytes", programType: .xdp))
    #expect(storeBytes.answer == .unsupported)
    #expect(storeBytes.errno == .invalidArgument)
    let usesStoreBytes: [UInt64] = [0xb7 | 2 << 8, 0xb7 | 3 << 8, 0xb7 | 4 << 8, 0xb7 | 5 << 8, 0x85 | 9 << 32, 0x2_0000_00b7, 0x95]
    guard case .failure(let error) = BPF.loadProgram(
      ProgramLoadAttributes(type: .xdp, instructions: usesStoreBytes, license: "GPL")).result
    else { Issue.record("an XDP program calling bpf_skb_store_bytes loaded"); return }
    #expect(error.errno == storeBytes.errno)

    // No such helper at all.
    #expect(KernelFeatures.helper(100_000, programType: .xdp).answer == .unsupported)
    #expect(KernelFeatures.helper(named: "bpf_no_such_helper", programType: .xdp) == nil)
  }

  @Test("XDP links, ring buffer and BTF kinds: supported here, decided by the errno they name")
  func attachAndBTF() throws {
    let links = KernelFeatures.xdpLinks
    #expect(links.isSupported)
    #expect(links.errno == .badFileDescriptor)
    for kind in [BTFKernelFeatures.globalFunctions, .float, .declarationTags, .typeTags, .enum64] {
      let answer = KernelFeatures.btfKind(kind)
      #expect(answer.isSupported && answer.errno == nil, "\(kind): \(answer)")
    }
  }

  @Test("XDP fragments and mmapable arrays: the probes agree with a real load and a real create")
  func fragmentsAndMmapable() throws {
    let fragments = KernelFeatures.xdpFragments
    #expect(fragments.isSupported && fragments.errno == nil, "\(fragments)")
    // Another program than the probe's: r0 = XDP_PASS (2); exit.
    var attributes = ProgramLoadAttributes(type: .xdp, instructions: [0x0000_0002_0000_00b7, 0x95], license: "GPL")
    attributes.flags = .xdpHasFragments
    #expect(try BPF.loadProgram(attributes).result.get().rawValue >= 0)

    let mmapable = KernelFeatures.mmapableArrays
    #expect(mmapable.isSupported && mmapable.errno == nil, "\(mmapable)")
    let map = try BPF.createMap(MapCreateAttributes(type: .array, keySize: 4, valueSize: 64, maxEntries: 4, flags: .mmapable))
    let length = Int(getpagesize())
    let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, map.rawValue, 0)
    #expect(address != MAP_FAILED)
    if let address, address != MAP_FAILED { munmap(address, length) }
  }

  @Test("xdpkit feature --json: every type once, XDP supported, helpers listed for the asked type")
  func featureCommand() throws {
    let result = try Command.run(try PrivilegeTests.toolPath(), ["feature", "--json", "--helpers", "xdp"],
                                 timeout: .seconds(120))
    #expect(result.status == 0, "\(result.standardError)")
    struct Entry: Decodable { var name: String; var answer: String; var errno: Int32? }
    struct Report: Decodable {
      var programTypes: [Entry]; var mapTypes: [Entry]; var xdpLinks: Entry; var helpers: [Entry]?
      var helpersProgramType: String?
    }
    let report = try JSONDecoder().decode(Report.self, from: Data(result.standardOutput.utf8))
    #expect(report.programTypes.count == Int(BPFProgramType.knownCount) - 1)
    #expect(report.mapTypes.count == Int(BPFMapType.knownCount) - 1)
    #expect(report.programTypes.first { $0.name == "BPF_PROG_TYPE_XDP" }?.answer == "supported")
    #expect(report.xdpLinks.answer == "supported" && report.xdpLinks.errno == EBADF)
    #expect(report.helpersProgramType == "BPF_PROG_TYPE_XDP")
    #expect(report.helpers?.first { $0.name == "bpf_xdp_adjust_tail" }?.answer == "supported")
    #expect(report.helpers?.first { $0.name == "bpf_skb_store_bytes" }?.answer == "unsupported")

    let bad = try Command.run(try PrivilegeTests.toolPath(), ["feature", "--helpers", "no_such_type"], timeout: .seconds(60))
    #expect(bad.status == 1)
    #expect(bad.standardError == "error: --helpers no_such_type: no such program type\nhint: use a name such as xdp, sched_cls or BPF_PROG_TYPE_KPROBE\n")
  }
}

/// The probe's attributes for a type, for the agreement test to load the same kind of program.
enum FeatureProbesAccess {
  static func minimal(_ type: BPFProgramType) -> ProgramLoadAttributes { KernelFeatures.minimalProgramAttributes(type) }
}
