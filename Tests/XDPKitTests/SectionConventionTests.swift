import Testing
import XDPKit
import XDPKitTestSupport

/// libbpf conventions an object may rely on, each in an object compiled here and loaded on the
/// running kernel: `?` sections loaded only when named, `syscall` programs (sleepable, as the
/// kernel requires), `char`/`unsigned char` `__kconfig` externs holding the letter, and
/// `__hidden` global functions verified in their callers' context, and `.rodata` with
/// `bpf_metadata_*` values bound to every program.
@Suite("libbpf section and symbol conventions on the real kernel", .kernel)
struct SectionConventionTests {
  static let source = """
    #define SEC(name) __attribute__((section(name), used))
    #define __kconfig __attribute__((section(".kconfig")))
    #define __hidden __attribute__((visibility("hidden")))

    /* Read by no program: bound to each, as libbpf binds it, so bpftool shows it. */
    volatile const char bpf_metadata_owner[] SEC(".rodata") = "xdpkit-tests";

    extern char CONFIG_BPF_SYSCALL __kconfig;
    extern unsigned char CONFIG_BPF __kconfig;
    char seen_syscall = 0;
    unsigned char seen_bpf = 0;

    /* Dereferences its argument unchecked: the verifier refuses that in a global function,
     * which it checks alone, and accepts it in a static one, checked in its caller. */
    __hidden __attribute__((noinline)) int bump(int *value) { return *value + 1; }

    SEC("xdp") int xdp_main(void *ctx)
    {
      int one = 1;

      seen_syscall = CONFIG_BPF_SYSCALL;
      seen_bpf = CONFIG_BPF;
      return bump(&one);  /* 2: XDP_PASS */
    }

    SEC("?xdp") int xdp_on_request(void *ctx) { return 1; }

    SEC("syscall") int sys_seven(void *ctx) { return 7; }

    char LICENSE[] SEC("license") = "GPL";
    """

  static func object() throws -> BPFObject {
    let (result, bytes) = try BPFClang.compile(
      source, flags: ["-O2", "-g", "-target", "bpf", "-Wall", "-Werror"])
    return try BPFObject(bytes: try #require(bytes, "clang: \(result.standardError)"))
  }

  @Test("a whole-object load leaves the ? program out with the reason, and loads the rest")
  func wholeObject() throws {
    let object = try Self.object()
    #expect(object.programs.map(\.name) == ["xdp_main", "xdp_on_request", "sys_seven"])
    #expect(try object.program(named: "xdp_on_request").programType == .xdp)
    #expect(try object.program(named: "xdp_on_request").kind.loadsByDefault == false)
    #expect(try object.program(named: "sys_seven").kind.isSleepable)

    let loaded = try object.load()
    defer { loaded.close() }
    let reason = "its section ?xdp loads it only when LoadOptions.programs names it"
    #expect(loaded.skippedPrograms == ["xdp_on_request": reason])
    #expect(loaded.notes.contains("program xdp_on_request not loaded: \(reason)"))
    #expect(throws: (any Error).self) { try loaded.program("xdp_on_request") }

    // The hidden function was verified in its caller: the program loaded and runs.
    let run = try loaded.program("xdp_main").testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1)))
    #expect(run.action == .pass)
    // char and unsigned char __kconfig externs hold the letter.
    #expect(try loaded.global("CONFIG_BPF_SYSCALL", as: UInt8.self) == UInt8(ascii: "y"))
    #expect(try loaded.global("CONFIG_BPF", as: UInt8.self) == UInt8(ascii: "y"))
    #expect(try loaded.global("seen_syscall", as: UInt8.self) == UInt8(ascii: "y"))
    #expect(try loaded.global("seen_bpf", as: UInt8.self) == UInt8(ascii: "y"))

    // A syscall program loads sleepable, as the kernel requires, and runs.
    #expect(try loaded.program("sys_seven").testRun(context: [UInt8](repeating: 0, count: 8)) == 7)

    // .rodata with bpf_metadata_ values is bound to every program, which does not read it.
    let rodata = try loaded.dataMap(".rodata").id
    for name in ["xdp_main", "sys_seven"] {
      #expect(try loaded.program(name).info().mapIDs.contains(rodata), "\(name)")
    }
    #expect(!loaded.notes.contains { $0.contains("not bound") }, "\(loaded.notes)")
  }

  @Test("a ? program named in LoadOptions.programs loads and runs")
  func namedOnRequest() throws {
    let loaded = try Self.object().load(options: LoadOptions(programs: ["xdp_on_request"]))
    defer { loaded.close() }
    #expect(loaded.skippedPrograms.isEmpty)
    let run = try loaded.program("xdp_on_request").testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1)))
    #expect(run.action == .drop)
  }

  @Test("with clang -ffunction-sections, functions in .text.NAME sections are subprograms, linked where called")
  func functionSections() throws {
    let (result, bytes) = try BPFClang.compile("""
      #define SEC(name) __attribute__((section(name), used))
      static __attribute__((noinline)) int twice(int x) { return x * 2; }
      __attribute__((noinline)) int plus_one(int x) { return x + 1; }
      SEC("xdp") int xdp_sections(void *ctx)
      {
        unsigned int queue = *(volatile unsigned int *)((char *)ctx + 16);  /* rx_queue_index: 0 in a test run */

        return (plus_one(twice(queue)) & 1) + 1;  /* 2: XDP_PASS */
      }
      char LICENSE[] SEC("license") = "GPL";
      """, flags: ["-O2", "-g", "-target", "bpf", "-Wall", "-Werror", "-ffunction-sections"])
    let object = try BPFObject(bytes: try #require(bytes, "clang: \(result.standardError)"))
    #expect(object.programs.map(\.name) == ["xdp_sections"])
    #expect(Set(object.functions.map(\.sectionName)).isSuperset(of: [".text.twice", ".text.plus_one"]))
    let loaded = try object.load()
    defer { loaded.close() }
    #expect(loaded.skippedPrograms.isEmpty)
    #expect(try loaded.program("xdp_sections").testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1))).action == .pass)
  }

  @Test("a netfilter program loads with the expected attach type BPF_NETFILTER (6.4+); an older kernel refuses the type")
  func netfilter() throws {
    let (result, bytes) = try BPFClang.compile("""
      #define SEC(name) __attribute__((section(name), used))
      SEC("netfilter") int nf_accept(void *ctx) { return 1; }  /* NF_ACCEPT */
      char LICENSE[] SEC("license") = "GPL";
      """, flags: ["-O2", "-g", "-target", "bpf", "-Wall", "-Werror"])
    let object = try BPFObject(bytes: try #require(bytes, "clang: \(result.standardError)"))
    #expect(object.programs.first?.kind.expectedAttachType == .netfilter)
    if KernelFeatures.programType(.netfilter).isSupported {
      let loaded = try object.load(options: LoadOptions(programs: ["nf_accept"]))
      defer { loaded.close() }
      #expect(try loaded.program("nf_accept").type == .netfilter)
    } else {
      #expect {
        try object.load(options: LoadOptions(programs: ["nf_accept"]))
      } throws: { error in
        guard case LoadError.program(let name, let failure) = error else { return false }
        return name == "nf_accept" && failure.syscall.errno == .invalidArgument
      }
    }
  }
}

