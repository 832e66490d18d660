import Glibc
import Testing
import XDPKit
import XDPKitSys
import XDPKitTestSupport

/// Map declarations the kernel refuses as written, which the loader fixes the way the kernel
/// requires (and says so in the notes).
@Suite("Map fix-ups on the real kernel", .kernel)
struct MapFixupTests {
  @Test("local storage gets max_entries 0 and BPF_F_NO_PREALLOC; typed ring buffer and perf event array load")
  func fixups() throws {
    let loaded = try TestFixtures.object("map_fixups").load()
    defer { loaded.close() }

    let sock = try loaded.map("SOCK_STATE").info()
    #expect(sock.type == .skStorage)
    #expect(sock.maxEntries == 0)
    #expect(sock.flags.rawValue & 1 == 1)
    #expect(sock.btfKeyTypeID != 0 && sock.btfValueTypeID != 0)
    let task = try loaded.map("TASK_STATE").info()
    #expect(task.type == .taskStorage)
    #expect(task.maxEntries == 0)

    let ring = try loaded.map("EVENTS").info()
    #expect(ring.type == .ringBuffer)
    #expect(ring.keySize == 0 && ring.valueSize == 0 && ring.maxEntries == 4096)
    #expect(ring.btfKeyTypeID == 0)

    let perf = try loaded.map("PERF").info()
    #expect(perf.type == .perfEventArray)
    #expect(perf.keySize == 4 && perf.valueSize == 4)
    #expect(perf.maxEntries == UInt32(try SystemInfo.possibleCPUCount()))
    #expect(perf.btfKeyTypeID == 0)

    // Each change is noted; nothing was retried after an error.
    #expect(loaded.notes.contains("map TASK_STATE: max_entries 16 → 0 (local storage has no fixed size)"))
    #expect(loaded.notes.contains("map SOCK_STATE: added BPF_F_NO_PREALLOC (required for local storage)"))
    #expect(loaded.notes.contains("map EVENTS: key/value sizes 4/4 → 0/0 (a ring buffer has no keys or values)"))
    #expect(!loaded.notes.contains { $0.contains("created without BTF types") }, "\(loaded.notes)")

    // The program that uses the ring buffer runs.
    let run = try loaded.program("xdp_counts").testRun(packet: Packet.ipv4UDP(source: (192, 0, 2, 1)))
    #expect(run.action == .pass)
  }

  @Test("a ring buffer size that is no power-of-2 multiple of the page size is rounded up, and noted")
  func ringSizeRoundedUp() throws {
    let loaded = try TestFixtures.object("map_fixups").load(options: LoadOptions(maxEntries: ["EVENTS": 5000]))
    defer { loaded.close() }
    let page = UInt32(getpagesize())
    let expected = page >= 8192 ? page : 8192  // 5000 rounded up: two 4 KiB pages, or one larger page
    #expect(try loaded.map("EVENTS").info().maxEntries == expected)
    #expect(loaded.notes.contains(
      "map EVENTS: max_entries 5000 → \(expected) (a ring's size must be a power of 2 and a multiple of the page size)"))
  }

  @Test("a bloom filter is created with its BTF value type; queue and stack, which refuse BTF, without, first time")
  func keylessMaps() throws {
    let (result, bytes) = try BPFClang.compile("""
      #define SEC(name) __attribute__((section(name), used))
      #define __uint(name, val) int (*name)[val]
      #define __type(name, val) typeof(val) *name
      struct { __uint(type, 30); __type(value, unsigned int); __uint(max_entries, 64); __uint(map_extra, 3); } BLOOM SEC(".maps");
      struct { __uint(type, 22); __type(value, unsigned long long); __uint(max_entries, 16); } FIFO SEC(".maps");
      struct { __uint(type, 23); __type(value, unsigned long long); __uint(max_entries, 16); } LIFO SEC(".maps");
      SEC("xdp") int keyless(void *ctx) { return 2; }
      char LICENSE[] SEC("license") = "GPL";
      """, flags: ["-O2", "-g", "-target", "bpf", "-Wall", "-Werror"])
    let loaded = try BPFObject(bytes: try #require(bytes, "clang: \(result.standardError)")).load()
    defer { loaded.close() }
    let bloom = try loaded.map("BLOOM").info()
    #expect(bloom.type == .bloomFilter && bloom.keySize == 0 && bloom.valueSize == 4 && bloom.mapExtra == 3)
    #expect(bloom.btfKeyTypeID == 0 && bloom.btfValueTypeID != 0)
    for name in ["FIFO", "LIFO"] {
      let info = try loaded.map(name).info()
      #expect(info.valueSize == 8 && info.btfValueTypeID == 0)
    }
    #expect(!loaded.notes.contains { $0.contains("created without BTF types") }, "\(loaded.notes)")
  }
}

