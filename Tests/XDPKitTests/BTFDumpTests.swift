import Foundation
import Testing
import XDPKit
import XDPKitTestSupport

/// `BTF.cDeclarations()`, `BTF.rawDump()` and `xdpkit btf dump` on the btf_dump fixture
/// (Tests/XDPKitObjectTests/Fixtures/btf_dump.c): exact text, C that clang compiles with every
/// struct at the size and every member at the offset the BTF gives, and JSON that decodes.
@Suite("BTF dump")
struct BTFDumpTests {
  static func fixtureBTF(_ name: String = "btf_dump") throws -> BTF {
    try #require(try TestFixtures.object(name).btf)
  }

  static func xdpkit(_ arguments: String...) throws -> CommandResult {
    try Command.run(try PrivilegeTests.toolPath(), arguments, timeout: .seconds(120))
  }

  /// `_Static_assert`s that every named struct and union of `btf` has its BTF size, and every
  /// member that is not a bitfield its BTF offset.
  static func layoutAssertions(_ btf: BTF, including: (String) -> Bool = { _ in true }) -> String {
    var lines: [String] = []
    for id in 1..<btf.types.count {
      let type = btf.types[id]
      guard let name = type.name, including(name) else { continue }
      let keyword: String
      let size: UInt32
      let members: [BTFType.Member]
      switch type.body {
      case .struct(let s, let m): (keyword, size, members) = ("struct", s, m)
      case .union(let s, let m): (keyword, size, members) = ("union", s, m)
      default: continue
      }
      lines.append("_Static_assert(sizeof(\(keyword) \(name)) == \(size), \"size of \(name)\");")
      for member in members where member.bitfieldSize == 0 {
        guard let memberName = member.name else { continue }
        lines.append("_Static_assert(__builtin_offsetof(\(keyword) \(name), \(memberName)) == \(member.bitOffset / 8), \"\(name).\(memberName)\");")
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Compiles `source` with clang (`-Wall -Werror`) for BPF and for the host.
  static func expectCompiles(_ source: String, _ comment: Comment, targets: [[String]] = [["-target", "bpf"], []]) throws {
    for target in targets {
      let (result, _) = try BPFClang.compile(source, flags: target + ["-Wall", "-Werror", "-std=gnu11"])
      #expect(result.succeeded, "\(comment) \(target): \(result.standardError)")
    }
  }

  @Test("the C form of the fixture, exactly: dependencies first, forward declarations for what is only pointed to")
  func cText() throws {
    #expect(try Self.fixtureBTF().cDeclarations() == """
      typedef unsigned int u32_t;

      typedef unsigned long long u64_t;

      struct dump_flags {
      	unsigned int enabled: 1;
      	unsigned int level: 3;
      	int delta: 12;
      	unsigned char kind;
      	u64_t wide: 40;
      };

      union dump_address {
      	u32_t v4;
      	unsigned char v6[16];
      	struct {
      		unsigned short low;
      		unsigned short high;
      	} halves;
      };

      enum dump_color {
      	DUMP_RED = 1,
      	DUMP_GREEN = 2,
      	DUMP_BLUE = -1
      };

      enum dump_wide {
      	DUMP_WIDE_SMALL = 1ULL,
      	DUMP_WIDE_BIG = 21474836483ULL
      };

      struct list_node;

      typedef int (*dump_callback)(struct list_node *, void *);

      struct opaque;

      struct ping;

      struct pong {
      	struct ping *partner;
      	int hits;
      };

      struct ping {
      	struct pong partner;
      	char tag[4];
      };

      struct dump_value {
      	struct dump_flags flags;
      	union dump_address address;
      	enum dump_color color;
      	enum dump_wide wide;
      	dump_callback callback;
      	struct opaque *hidden;
      	struct list_node *head;
      	struct ping ping;
      	int grid[2][3];
      	union {
      		long signed_total;
      		unsigned long total;
      	};
      	const char *label;
      };

      struct list_node {
      	struct list_node *next;
      	const volatile u32_t value;
      };

      typedef unsigned int __u32;

      struct xdp_md {
      	__u32 data;
      	__u32 data_end;
      	__u32 data_meta;
      	__u32 ingress_ifindex;
      	__u32 rx_queue_index;
      	__u32 egress_ifindex;
      };

      int xdp_btf_dump(struct xdp_md *ctx);

      """)
  }

  @Test("the C form of the fixture's BTF compiles, and clang lays every struct out as the BTF says")
  func cCompiles() throws {
    let btf = try Self.fixtureBTF()
    try Self.expectCompiles(btf.cDeclarations() + Self.layoutAssertions(btf), "btf_dump")
  }

  @Test("padding of more than 64 bytes is one named byte array: the text stays small and the layout holds")
  func largePadding() throws {
    var btf = try Self.fixtureBTF()
    // struct xdp_md (six u32, 24 bytes) made 1 MiB larger, as a malformed object may say.
    let id = try #require(btf.typeID(named: "xdp_md", kind: .struct))
    var type = try btf.type(id: id)
    guard case .struct(let size, let members) = type.body else {
      Issue.record("xdp_md is not a struct")
      return
    }
    #expect(size == 24)
    type.body = .struct(size: size + (1 << 20), members: members)
    try btf.replaceType(id: id, with: type)
    let text = btf.cDeclarations()
    #expect(text.contains("\tunsigned char __pad_at_24[1048576];\n"), "\(text)")
    #expect(text.utf8.count < 4096)
    try Self.expectCompiles(text + Self.layoutAssertions(btf), "xdp_md grown by 1 MiB")
  }

  @Test("the C form of other fixtures compiles with the same layout", arguments: [
    "blocklist_btf", "btf_kinds", "core_kinds", "generator_kinds", "generator_records", "globals", "map_in_map", "extern_ksym",
  ])
  func otherFixturesCompile(fixture: String) throws {
    let btf = try Self.fixtureBTF(fixture)
    try Self.expectCompiles(btf.cDeclarations() + Self.layoutAssertions(btf), "\(fixture)")
  }

  @Test("the kernel's vmlinux BTF as C compiles with -Wall -Werror, and its uniquely named structs have the BTF's layout")
  func vmlinuxCompiles() throws {
    let btf = try KernelBTF.load().btf
    var counts: [String: Int] = [:]
    for type in btf.types where [.struct, .union, .enum, .enum64].contains(type.kind) {
      if let name = type.name { counts[name, default: 0] += 1 }
    }
    // Only types no other struct, union or enum shares a tag with: the others are written as name___2.
    let assertions = Self.layoutAssertions(btf, including: { counts[$0] == 1 })
    let declarations = btf.cDeclarations(functions: false)
    try Self.expectCompiles(declarations, "vmlinux", targets: [["-target", "bpf"]])
    // The layout is the host's: va_list is 24 bytes on x86-64 and a pointer on BPF.
    try Self.expectCompiles(declarations + assertions, "vmlinux", targets: [[]])
  }

  @Test("xdpkit btf dump FILE: the library's raw and C text, and JSON with every type")
  func command() throws {
    let path = TestFixtures.directory.appendingPathComponent("btf_dump.o").path
    let btf = try Self.fixtureBTF()
    let raw = try Self.xdpkit("btf", "dump", path)
    #expect(raw.status == 0, "\(raw.standardError)")
    #expect(raw.standardOutput == btf.rawDump())
    let c = try Self.xdpkit("btf", "dump", path, "--format", "c")
    #expect(c.standardOutput == btf.cDeclarations())
    let noFunctions = try Self.xdpkit("btf", "dump", path, "--format", "c", "--no-functions")
    #expect(noFunctions.standardOutput == btf.cDeclarations(functions: false))
    #expect(!noFunctions.standardOutput.contains("xdp_btf_dump"))

    struct Item: Decodable, Equatable { var name: String?; var type: UInt32?; var bitOffset: UInt32?; var bitfieldSize: UInt8? }
    struct Summary: Decodable { var id: UInt32; var kind: String; var name: String?; var size: UInt32?; var items: [Item]? }
    let json = try JSONDecoder().decode([Summary].self, from: Data(try Self.xdpkit("btf", "dump", path, "--json").standardOutput.utf8))
    #expect(json.map(\.id) == Array(1..<UInt32(btf.types.count)))
    let flags = json[11]
    #expect(flags.kind == "STRUCT" && flags.name == "dump_flags" && flags.size == 8)
    #expect(flags.items?.first == Item(name: "enabled", type: 9, bitOffset: 0, bitfieldSize: 1))
    #expect(flags.items?.last == Item(name: "wide", type: 14, bitOffset: 24, bitfieldSize: 40))
  }

  @Test("raw lines of the fixture: one entry per type, members, values and parameters indented")
  func rawLines() throws {
    let btf = try Self.fixtureBTF()
    #expect(btf.rawDescription(of: 12) == """
      [12] STRUCT dump_flags  size 8  members 5
      \tenabled  type 9  offset 0  bits 1
      \tlevel  type 9  offset 1  bits 3
      \tdelta  type 2  offset 4  bits 12
      \tkind  type 13  offset 16
      \twide  type 14  offset 24  bits 40
      """)
    #expect(btf.rawDescription(of: 20) == "[20] ENUM dump_color  size 4  signed  values 3\n\tDUMP_RED = 1\n\tDUMP_GREEN = 2\n\tDUMP_BLUE = -1")
    #expect(btf.rawDescription(of: 21) == "[21] ENUM64 dump_wide  size 8  unsigned  values 2\n\tDUMP_WIDE_SMALL = 1\n\tDUMP_WIDE_BIG = 21474836483")
    #expect(btf.rawDescription(of: 24) == "[24] FUNC_PROTO (anon)  returns 2  parameters 2\n\t(anon)  type 25\n\t(anon)  type 29")
    #expect(btf.rawDescription(of: 29) == "[29] PTR (anon)  to 0")
    #expect(btf.rawDescription(of: 31) == "[31] FWD opaque  of struct")
    #expect(btf.rawDescription(of: 38) == "[38] ARRAY (anon)  element 37  index 4  count 2")
    #expect(btf.rawDescription(of: 45) == "[45] VAR DUMP_VALUES  type 44  linkage global")
    #expect(btf.rawDescription(of: 50) == "[50] FUNC xdp_btf_dump  type 49  linkage global")
    #expect(btf.rawDescription(of: 52) == "[52] DATASEC .maps  size 0  variables 1\n\tDUMP_VALUES  type 45  offset 0  size 32")
    #expect(btf.rawDump().split(separator: "\n").filter { $0.hasPrefix("[") }.count == btf.types.count - 1)
  }

  @Test("xdpkit btf dump ID: a loaded object's BTF as the kernel holds it", .kernel)
  func kernelID() throws {
    let loaded = try TestFixtures.object("btf_dump").load()
    defer { loaded.close() }
    let btfID = try loaded.program("xdp_btf_dump").info().btfID
    #expect(btfID != 0)
    let kernelBytes = try BPF.btfBytes(BPF.openBTF(id: btfID))
    let kernel = try BTF(bytes: kernelBytes)
    let raw = try Self.xdpkit("btf", "dump", "\(btfID)")
    #expect(raw.status == 0, "\(raw.standardError)")
    #expect(raw.standardOutput == kernel.rawDump())
    // The loader filled in the data section sizes clang leaves at 0.
    #expect(raw.standardOutput.contains("DATASEC .maps  size 32  variables 1"))
    let c = try Self.xdpkit("btf", "dump", "\(btfID)", "--format", "c")
    try Self.expectCompiles(c.standardOutput + Self.layoutAssertions(kernel), "BTF id \(btfID)")
  }
}
