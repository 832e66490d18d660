import Foundation
import Testing
import XDPKit
import XDPKitSys
import XDPKitObject
import XDPKitTestSupport

@Suite("Loader on the real kernel", .kernel)
struct LoaderTests {
  @Test("every loadable fixture loads", arguments: [
    "xdp_pass", "blocklist_btf", "blocklist_legacy", "legacy_long", "globals", "calls", "multi_prog", "map_in_map",
  ])
  func fixtureLoads(name: String) throws {
    let object = try TestFixtures.object(name)
    var options = LoadOptions()
    if name == "map_in_map" { options.maxEntries["DYNAMIC"] = 16 }
    let loaded = try object.load(options: options)
    defer { loaded.close() }
    #expect(loaded.programNames == object.programs.map(\.name).sorted())
    #expect(loaded.mapNames == object.maps.map(\.name).sorted())
    for name in loaded.programNames {
      let program = try loaded.program(name)
      let info = try program.info()
      #expect(info.id > 0)
      #expect(info.type == program.type)
    }
  }

  @Test("the object's BTF is loaded and func/line info reaches the kernel")
  func btfLoaded() throws {
    let loaded = try TestFixtures.object("blocklist_btf").load()
    #expect(loaded.notes.filter { $0.contains("BTF") }.isEmpty, "\(loaded.notes)")
    let info = try loaded.program("xdp_firewall").info()
    #expect(info.btfID != 0)
  }

  @Test("xdp_pass passes a packet")
  func xdpPass() throws {
    let loaded = try TestFixtures.object("xdp_pass").load()
    let run = try loaded.program("xdp_pass").testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1)), repetitions: 10)
    #expect(run.action == .pass)
    #expect(run.packet == Packet.ipv4UDP(source: (192, 0, 2, 1)))
  }

  @Test("blocklist: a listed source is dropped, counters count per action", arguments: ["blocklist_btf", "blocklist_legacy"])
  func blocklist(name: String) throws {
    let loaded = try TestFixtures.object(name).load()
    let program = try loaded.program("xdp_firewall")
    let blocklist = try loaded.hashMap("BLOCKLIST", key: UInt32.self, value: UInt32.self)
    let stats = try loaded.perCPUArray("STATS", value: UInt64.self)
    let packet = Packet.ipv4UDP(source: (192, 0, 2, 1))

    #expect(try program.testRun(packet: packet, repetitions: 5).action == .pass)
    try blocklist.insert(0xC000_0201, forKey: 0xC000_0201)
    #expect(try program.testRun(packet: packet, repetitions: 3).action == .drop)
    #expect(try program.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 9))).action == .pass)
    #expect(try stats.sum(at: 2) == 6)   // XDP_PASS
    #expect(try stats.sum(at: 1) == 3)   // XDP_DROP
    #expect(try blocklist.removeValue(forKey: 0xC000_0201))
    #expect(try program.testRun(packet: packet).action == .pass)
  }

  @Test("globals set before load are seen by the program; .bss/.data readable after")
  func globals() throws {
    let object = try TestFixtures.object("globals")
    let options = LoadOptions(globals: ["enabled": UInt8(1), "mode": UInt32(2), "limit": UInt32(50)])
    let loaded = try object.load(options: options)
    let program = try loaded.program("xdp_globals")
    let small = Packet.ipv4UDP(source: (192, 0, 2, 1), payload: 0)     // 42 bytes
    let large = Packet.ipv4UDP(source: (192, 0, 2, 1), payload: 100)   // 142 bytes
    #expect(try program.testRun(packet: small).action == .pass)
    #expect(try program.testRun(packet: large, repetitions: 4).action == .drop)
    #expect(try loaded.global("packets", as: UInt64.self) == 5)
    #expect(try loaded.global("drops", as: UInt32.self) == 4)
    #expect(try loaded.global("counter_seed", as: UInt32.self) == 7 + 5 * 42)
    #expect(try loaded.global("mode", as: UInt32.self) == 2)
    // .rodata is frozen: writes are refused.
    #expect(throws: (any Error).self) { try loaded.setGlobal("mode", to: UInt32(1)) }
    // .data is writable from user space and the program sees it.
    try loaded.setGlobal("counter_seed", to: UInt32(1000))
    _ = try program.testRun(packet: small)
    #expect(try loaded.global("counter_seed", as: UInt32.self) == 1042)
  }

  @Test("defaults: enabled = 0 passes everything")
  func globalsDefaults() throws {
    let loaded = try TestFixtures.object("globals").load()
    let run = try loaded.program("xdp_globals").testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1), payload: 100))
    #expect(run.action == .pass)
    #expect(try loaded.global("mode", as: UInt32.self) == 1)
  }

  @Test("bpf-to-bpf calls execute: static and global subprograms, and calls between them")
  func calls() throws {
    let loaded = try TestFixtures.object("calls").load()
    let first = try loaded.program("xdp_first")
    let second = try loaded.program("xdp_second")
    // xdp_first: clamp_action(add_one(length & 1)): even length → 1 (DROP), odd → 2 (PASS).
    #expect(try first.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1), payload: 18)).action == .drop)
    #expect(try first.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1), payload: 19)).action == .pass)
    // xdp_second: add_one(0) + add_two(0) = 3 (XDP_TX).
    #expect(try second.testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1))).action == .transmit)
    // Each program carries its own copy of the subprograms it calls.
    #expect(first.instructionCount > 8)
    #expect(second.instructionCount > 10)
  }

  @Test("loading twice from one parsed object gives independent kernel objects")
  func loadTwice() throws {
    let object = try TestFixtures.object("blocklist_btf")
    let a = try object.load()
    let b = try object.load()
    #expect(try a.program("xdp_firewall").id != b.program("xdp_firewall").id)
    try a.hashMap("BLOCKLIST", key: UInt32.self, value: UInt32.self).insert(1, forKey: 1)
    #expect(try b.hashMap("BLOCKLIST", key: UInt32.self, value: UInt32.self).value(forKey: 1) == nil)
  }

  @Test("map-in-map and program array slots are filled from the object's initialisers")
  func mapInMap() throws {
    let loaded = try TestFixtures.object("map_in_map").load(options: LoadOptions(maxEntries: ["DYNAMIC": 16]))
    let outer = try loaded.map("OUTER")
    var key: UInt32 = 1
    var innerID: UInt32 = 0
    let result = BPF.lookupElement(map: outer.fileDescriptor.rawValue, key: &key, value: &innerID)
    #expect((try? result.get()) != nil)
    #expect(innerID == (try loaded.map("INNER").id))
    let jump = try loaded.map("JUMP_TABLE")
    key = 2
    var programID: UInt32 = 0
    _ = BPF.lookupElement(map: jump.fileDescriptor.rawValue, key: &key, value: &programID)
    #expect(programID == (try loaded.program("xdp_tail_target").id))
  }

  @Test("a program-array slot whose program is not selected is an error naming map, slot and program")
  func initialValueOfUnloadedProgram() throws {
    let object = try TestFixtures.object("map_in_map")
    let options = LoadOptions(maxEntries: ["DYNAMIC": 16], programs: ["xdp_maps"])
    #expect {
      try object.load(options: options)
    } throws: { error in
      guard case LoadError.initialValueNotLoaded(let map, let slot, let value, let reason) = error else { return false }
      return map == "JUMP_TABLE" && slot == 2 && value == "program xdp_tail_target"
        && reason == "LoadOptions.programs does not select it"
        && "\(error)" == "load maps: map JUMP_TABLE slot 2: its initial value is program xdp_tail_target, which was not loaded (LoadOptions.programs does not select it); load it too, or remove the slot's initial value"
    }
  }

  @Test("a program the kernel refuses in a program-array slot is named, with the usual reason")
  func initialValueRefused() throws {
    let (result, bytes) = try BPFClang.compile("""
      #define SEC(name) __attribute__((section(name), used))
      int tail_plain(void *ctx);
      int tail_frags(void *ctx);
      struct {
        int (*type)[3];  /* BPF_MAP_TYPE_PROG_ARRAY */
        int (*key_size)[4];
        int (*max_entries)[2];
        typeof(int (void *)) *values[];
      } jumps SEC(".maps") = { .values = { [0] = (void *)&tail_plain, [1] = (void *)&tail_frags } };
      SEC("xdp") int tail_plain(void *ctx) { return 2; }
      SEC("xdp.frags") int tail_frags(void *ctx) { return 2; }
      char LICENSE[] SEC("license") = "GPL";
      """, flags: ["-O2", "-g", "-target", "bpf", "-Wall", "-Werror"])
    let object = try BPFObject(bytes: try #require(bytes, "clang: \(result.standardError)"))
    #expect {
      try object.load()
    } throws: { error in
      // Slot 0's program makes the array non-frags; the frags program in slot 1 is refused.
      guard case LoadError.initialValue(let map, let slot, let value, let failure) = error else { return false }
      return map == "jumps" && slot == 1 && value == "program tail_frags" && failure.errno == .invalidArgument
        && "\(error)".hasSuffix("; a program array takes only programs of the same type and XDP frags setting as the first it holds")
    }
  }

  @Test("max_entries 0 without an override is an error naming the map")
  func missingMaxEntries() throws {
    let object = try TestFixtures.object("map_in_map")
    #expect {
      try object.load()
    } throws: { error in
      guard case LoadError.missingMaxEntries(let map) = error else { return false }
      return map == "DYNAMIC"
    }
  }

  @Test("a non-weak kfunc loads where the kernel has it, and is an error naming it where not")
  func nonWeakKfunc() throws {
    let object = try TestFixtures.object("extern")
    let vmlinux = try BTF(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: "/sys/kernel/btf/vmlinux"))))
    if vmlinux.typeID(named: "bpf_cast_to_kern_ctx", kind: .function) != nil {
      let loaded = try object.load()
      #expect(try loaded.program("xdp_extern").testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1))).action == .pass)
    } else {
      #expect {
        try object.load()
      } throws: { error in
        guard case LoadError.unresolvedExtern(.missingKernelSymbol(let name, _)) = error else { return false }
        return name == "bpf_cast_to_kern_ctx"
      }
    }
  }

  @Test("a typeless data ksym resolves where kallsyms lists data symbols, else an error naming it")
  func ksymVariables() throws {
    // A typeless data symbol has an address in /proc/kallsyms only with CONFIG_KALLSYMS_ALL.
    let object = try TestFixtures.object("extern_ksym")
    let config = try KernelConfig(text: try SystemInfo.kernelConfigurationText().get())
    if config.values["CONFIG_KALLSYMS_ALL"] == "y" {
      let loaded = try object.load()
      let action = try loaded.program("xdp_ksym").testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1))).action
      #expect(action == .pass || action == .transmit)
    } else {
      #expect {
        try object.load()
      } throws: { error in
        guard case LoadError.unresolvedExtern(.missingKernelSymbol(let name, let place)) = error else { return false }
        return name == "bpf_prog_active" && place.contains("/proc/kallsyms")
      }
    }
  }

  @Test("unknown names in options list what exists")
  func unknownOptionNames() throws {
    let object = try TestFixtures.object("blocklist_btf")
    #expect {
      try object.load(options: LoadOptions(maxEntries: ["NOPE": 1]))
    } throws: { error in
      guard case LoadError.unknownMap(let lookup) = error else { return false }
      return lookup.name == "NOPE" && lookup.available.sorted() == ["BLOCKLIST", "STATS"]
    }
    let loaded = try object.load()
    #expect {
      try loaded.program("nope")
    } throws: { error in
      guard case LoadedObjectError.notFound(let lookup) = error else { return false }
      return lookup.available == ["xdp_firewall"]
    }
  }

  @Test("a global of the wrong size is refused before anything is created")
  func wrongGlobalSize() throws {
    let object = try TestFixtures.object("globals")
    #expect {
      try object.load(options: LoadOptions(globals: ["mode": UInt64(1)]))
    } throws: { error in
      guard case LoadError.variableSizeMismatch(let v, let expected, let actual) = error else { return false }
      return v == "mode" && expected == 4 && actual == 8
    }
  }

  @Test("a verifier rejection carries the full verifier log")
  func verifierRejection() throws {
    let object = try TestFixtures.object("verifier_reject")
    #expect {
      try object.load()
    } throws: { error in
      guard case LoadError.program(let name, let failure) = error else { return false }
      return name == "xdp_unchecked" && failure.verifierLog.contains("invalid access to packet")
        && failure.syscall.errno == .permissionDenied
    }
  }

  @Test("a typed view whose key or value size differs from the map's is refused, naming both")
  func wrongViewSizes() throws {
    let loaded = try TestFixtures.object("blocklist_btf").load()
    #expect {
      try loaded.hashMap("BLOCKLIST", key: UInt64.self, value: UInt32.self)
    } throws: { error in
      guard case MapError.keySizeMismatch(let map, let expected, let actual) = error else { return false }
      return map == "BLOCKLIST" && expected == 4 && actual == 8
    }
    #expect {
      try loaded.perCPUArray("STATS", value: UInt32.self)
    } throws: { error in
      guard case MapError.valueSizeMismatch(let map, let expected, let actual) = error else { return false }
      return map == "STATS" && expected == 8 && actual == 4
    }
    #expect {
      try loaded.arrayMap("BLOCKLIST", value: UInt32.self)
    } throws: { error in
      guard case MapError.wrongType(let map, _, let actual) = error else { return false }
      return map == "BLOCKLIST" && actual == .hash
    }
  }
}

