// Exact-value tests of the object reader that run over every fixture: name lookups, the
// views every object offers, and program types from section names.

import Testing

@testable import XDPKitObject

extension ReaderFixtureTests {
  // MARK: Every fixture

  /// Program and map names of each fixture, for the lookup tests.
  static let names: [String: (programs: [String], maps: [String])] = [
    "xdp_pass": (["xdp_pass"], []),
    "blocklist_btf": (["xdp_firewall"], ["STATS", "BLOCKLIST"]),
    "blocklist_legacy": (["xdp_firewall"], ["BLOCKLIST", "STATS"]),
    "legacy_long": (["xdp_long_maps"], ["COUNTERS", "PINNED"]),
    "globals": (["xdp_globals"], []),
    "calls": (["xdp_first", "xdp_second"], []),
    "map_in_map": (["xdp_tail_target", "xdp_maps"],
                   ["INNER", "OUTER", "JUMP_TABLE", "OUTER_HASH", "DYNAMIC", "PINNED", "SPARSE",
                    "PREFIXES", "SEEN", "EVENTS"]),
    "multi_prog": (multiProgCases.map(\.program), []),
    "extern": (["xdp_extern"], []),
    "extern_ksym": (["xdp_ksym"], []),
    "verifier_reject": (["xdp_unchecked"], []),
  ]

  @Test(arguments: allFixtureNames)
  func lookupsListWhatTheObjectHas(_ fixture: String) throws {
    let object = try BPFObject(bytes: fixtureBytes(fixture))
    let expected = try #require(Self.names[fixture])
    #expect(object.programs.map(\.name) == expected.programs)
    #expect(object.maps.map(\.name) == expected.maps)
    #expect(throws: ObjectLookupError(kind: .program, name: "no_such_program", available: expected.programs)) {
      try object.program(named: "no_such_program")
    }
    #expect(throws: ObjectLookupError(kind: .map, name: "NO_SUCH_MAP", available: expected.maps)) {
      try object.map(named: "NO_SUCH_MAP")
    }
    for name in expected.programs { #expect(try object.program(named: name).name == name) }
    for name in expected.maps { #expect(try object.map(named: name).name == name) }
    // Names are case-sensitive.
    if let first = expected.maps.first {
      #expect(throws: ObjectLookupError.self) { try object.map(named: first.lowercased()) }
    }
  }

  @Test(arguments: allFixtureNames)
  func commonFacts(_ fixture: String) throws {
    let object = try BPFObject(bytes: fixtureBytes(fixture))
    #expect(object.license == "GPL")
    #expect(object.elf.machine == ELFConstants.emBPF)
    #expect(object.btf != nil)
    #expect(object.btfExt != nil)
    let text = try #require(object.elf.section(named: ".text"))
    #expect(text.index == 2)
    #expect(text.size == (fixture == "calls" ? 112 : 0))
    // Programs are the functions outside `.text`, in order.
    #expect(object.programs.map(\.function) == object.functions.filter { $0.sectionName != ".text" })
    // Relocations of a program lie inside it; instructions are whole 8-byte slots.
    for program in object.programs {
      #expect(program.function.bytes.count == Int(program.function.size))
      #expect(program.function.size % 8 == 0)
      for r in program.relocations {
        #expect(r.sectionIndex == program.function.sectionIndex)
        #expect(r.offset >= program.function.offset && r.offset < program.function.offset + program.function.size)
      }
    }
    // Map definitions sit where their symbols say.
    for map in object.maps {
      #expect(object.elf.symbols[map.symbolIndex].name == map.name)
      #expect(object.elf.symbols[map.symbolIndex].value == map.offset)
    }
  }

  @Test(arguments: allFixtureNames)
  func parsingTwiceGivesEqualResults(_ fixture: String) throws {
    let bytes = try fixtureBytes(fixture)
    let a = try BPFObject(bytes: bytes)
    let b = try BPFObject(bytes: bytes)
    #expect(a.programs == b.programs)
    #expect(a.functions == b.functions)
    #expect(a.maps == b.maps)
    #expect(a.dataSections == b.dataSections)
    #expect(a.relocations == b.relocations)
    #expect(a.license == b.license)
    #expect(a.kernelVersion == b.kernelVersion)
    #expect(a.btf == b.btf)
    #expect(a.btfExt == b.btfExt)
    #expect(a.elf.sections == b.elf.sections)
    #expect(a.elf.symbols == b.elf.symbols)
    #expect(a.elf.reader.bytes == bytes)
  }

  // MARK: Section names

  struct KindCase: Sendable, CustomTestStringConvertible {
    var name: String
    var type: BPFProgramType?
    var attach: BPFAttachType? = nil
    var frags = false
    var target: String? = nil
    var legacy = false
    var sleepable = false
    var byDefault = true
    var testDescription: String { name.isEmpty ? "(empty)" : name }
  }

  static let kindCases: [KindCase] = [
    KindCase(name: "xdp", type: .xdp, attach: .xdp),
    KindCase(name: "xdp.frags", type: .xdp, attach: .xdp, frags: true),
    KindCase(name: "xdp/devmap", type: .xdp, attach: .xdpDevMap),
    KindCase(name: "xdp/cpumap", type: .xdp, attach: .xdpCPUMap),
    KindCase(name: "xdp.frags/devmap", type: .xdp, attach: .xdpDevMap, frags: true),
    KindCase(name: "xdp.frags/cpumap", type: .xdp, attach: .xdpCPUMap, frags: true),
    KindCase(name: "xdp_legacy", type: .xdp, attach: .xdp, legacy: true),
    KindCase(name: "xdp_prog/extra", type: .xdp, attach: .xdp, target: "extra", legacy: true),
    KindCase(name: "xdp/legacy_name", type: .xdp, attach: .xdp, target: "legacy_name", legacy: true),
    KindCase(name: "tc", type: .schedClassifier),
    KindCase(name: "classifier", type: .schedClassifier),
    KindCase(name: "classifier/ingress", type: .schedClassifier, target: "ingress"),
    KindCase(name: "action", type: .schedAction),
    KindCase(name: "socket", type: .socketFilter),
    KindCase(name: "tracepoint/syscalls/sys_enter_openat", type: .tracepoint, target: "syscalls/sys_enter_openat"),
    KindCase(name: "tp/syscalls/sys_enter_openat", type: .tracepoint, target: "syscalls/sys_enter_openat"),
    KindCase(name: "kprobe/do_unlinkat", type: .kprobe, target: "do_unlinkat"),
    KindCase(name: "kretprobe/do_unlinkat", type: .kprobe, target: "do_unlinkat"),
    KindCase(name: "fentry/do_unlinkat", type: .tracing, attach: .traceFentry, target: "do_unlinkat"),
    KindCase(name: "fexit/do_unlinkat", type: .tracing, attach: .traceFexit, target: "do_unlinkat"),
    // libbpf's other names, with the expected attach types the kernel checks at load.
    KindCase(name: "kprobe.multi/tcp_*", type: .kprobe, attach: .traceKprobeMulti, target: "tcp_*"),
    KindCase(name: "kretprobe.multi/tcp_*", type: .kprobe, attach: .traceKprobeMulti, target: "tcp_*"),
    KindCase(name: "uprobe.s/libc.so.6:malloc", type: .kprobe, target: "libc.so.6:malloc", sleepable: true),
    KindCase(name: "usdt", type: .kprobe),
    KindCase(name: "cgroup/sendmsg4", type: .cgroupSockAddr, attach: .cgroupUDP4SendMsg, target: "sendmsg4"),
    KindCase(name: "cgroup/recvmsg6", type: .cgroupSockAddr, attach: .cgroupUDP6RecvMsg, target: "recvmsg6"),
    KindCase(name: "cgroup/getpeername4", type: .cgroupSockAddr, attach: .cgroupInet4GetPeerName, target: "getpeername4"),
    KindCase(name: "cgroup/getsockname6", type: .cgroupSockAddr, attach: .cgroupInet6GetSockName, target: "getsockname6"),
    KindCase(name: "cgroup/post_bind4", type: .cgroupSock, attach: .cgroupInet4PostBind, target: "post_bind4"),
    KindCase(name: "cgroup/sock_release", type: .cgroupSock, attach: .cgroupInetSockRelease, target: "sock_release"),
    KindCase(name: "cgroup/getsockopt", type: .cgroupSockopt, attach: .cgroupGetSockopt, target: "getsockopt"),
    KindCase(name: "cgroup/setsockopt", type: .cgroupSockopt, attach: .cgroupSetSockopt, target: "setsockopt"),
    KindCase(name: "sk_reuseport", type: .skReuseport, attach: .skReuseportSelect),
    KindCase(name: "sk_reuseport/migrate", type: .skReuseport, attach: .skReuseportSelectOrMigrate, target: "migrate"),
    KindCase(name: "lwt_seg6local", type: .lwtSeg6Local),
    KindCase(name: "netfilter", type: .netfilter, attach: .netfilter),
    KindCase(name: "syscall", type: .syscall, sleepable: true),
    KindCase(name: "?xdp", type: .xdp, attach: .xdp, byDefault: false),
    KindCase(name: "?tc", type: .schedClassifier, byDefault: false),
    // Not program sections.
    KindCase(name: ".text", type: nil),
    KindCase(name: "license", type: nil),
    KindCase(name: "maps", type: nil),
    KindCase(name: ".maps", type: nil),
    KindCase(name: "xdpfoo", type: nil),
    KindCase(name: "XDP", type: nil),
    KindCase(name: "unknown/thing", type: nil, target: "thing"),
    KindCase(name: "", type: nil),
  ]

  @Test(arguments: kindCases)
  func sectionNameClassification(_ c: KindCase) {
    let kind = ProgramSectionKind(sectionName: c.name)
    #expect(kind.programType == c.type)
    #expect(kind.expectedAttachType == c.attach)
    #expect(kind.allowsFragments == c.frags)
    #expect(kind.attachTarget == c.target)
    #expect(kind.isLegacyName == c.legacy)
    #expect(kind.isSleepable == c.sleepable)
    #expect(kind.loadsByDefault == c.byDefault)
  }
}
