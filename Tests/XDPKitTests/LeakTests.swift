import Foundation
import Testing
import XDPKit
import XDPKitTestSupport

/// Many cycles of load → attach → detach → close must leave no descriptor and no kernel object
/// behind.
@Suite("Leaks over many attach cycles", .kernel)
struct LeakTests {
  /// The number of open descriptors of this process (entries of /proc/self/fd, minus the one
  /// the listing itself holds open).
  static func openDescriptorCount() throws -> Int {
    try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
  }

  /// The kernel's program, map and link ids.
  struct KernelObjects: Equatable, CustomStringConvertible {
    var programs: Set<UInt32>
    var maps: Set<UInt32>
    var links: Set<UInt32>

    static func now() throws -> Self {
      Self(programs: Set(try BPF.allProgramIDs()), maps: Set(try BPF.allMapIDs()),
           links: Set(try BPF.allLinkIDs()))
    }

    var description: String { "\(programs.count) programs, \(maps.count) maps, \(links.count) links" }
  }

  /// Waits (up to `limit`) for `condition`, as the kernel frees programs, maps and links after
  /// an RCU grace period and descriptors of other tests running in parallel come and go.
  static func settle(_ limit: Duration, _ condition: () throws -> Bool) rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: limit)
    while true {
      if try condition() { return true }
      if clock.now >= deadline { return false }
      usleep(20_000)
    }
  }

  @Test("1,000 cycles of load, attach (bpf_link), detach, close leave descriptors and kernel objects as they were")
  func attachCycles() async throws {
    let cycles = 1_000
    let network = try TestNetwork()
    defer { network.destroy() }
    // The firewall: two maps with BTF, a program with func and line info.
    let object = try TestFixtures.object("blocklist_btf")
    let veth = NetworkInterface.name(network.interfaceB)

    var created = KernelObjects(programs: [], maps: [], links: [])
    var createdBTF: Set<UInt32> = []
    func cycle() throws {
      let loaded = try object.load()
      let program = try loaded.program("xdp_firewall")
      let info = try program.info()
      created.programs.insert(info.id)
      created.maps.formUnion(info.mapIDs)
      if info.btfID != 0 { createdBTF.insert(info.btfID) }
      for name in loaded.mapNames { created.maps.insert(try loaded.map(name).id) }
      try network.withNamespace(.b) { () throws in
        let link = try loaded.xdpProgram("xdp_firewall").attach(to: veth, mode: .native)
        created.links.insert(try link.info().id)
        try link.detach()
      }
      loaded.close()
    }

    // Warm up once, so lazily created process-wide state (caches, the possible-CPU count,
    // Foundation's own descriptors) exists before the baseline is taken.
    // The kernel frees its objects asynchronously (after an RCU grace period): wait until the
    // warm-up's are gone, or the baseline would count them.
    try cycle()
    _ = try Self.settle(.seconds(10)) {
      let now = try KernelObjects.now()
      return created.programs.isDisjoint(with: now.programs) && created.maps.isDisjoint(with: now.maps)
        && created.links.isDisjoint(with: now.links)
    }
    let descriptorsBefore = try Self.openDescriptorCount()
    let kernelBefore = try KernelObjects.now()

    let clock = ContinuousClock()
    let start = clock.now
    // The cycles take about a minute: yield between them, or this test holds one of the
    // cooperative pool's threads (two on a 2-core machine) all along and starves the async
    // tests that run beside it (a ring buffer's waiting iterator, a log forwarder).
    for _ in 0 ..< cycles {
      try cycle()
      await Task.yield()
    }
    let elapsed = clock.now - start
    print("leak test: \(cycles) cycles in \(elapsed) (\(elapsed / cycles) per cycle)")

    // Nothing attached at the end.
    try network.withNamespace(.b) { () throws in
      #expect(try XDP.attachment(on: veth).mode == .notAttached)
    }

    // Every program, map and link made by the cycles is gone from the kernel.
    var leftover = KernelObjects(programs: [], maps: [], links: [])
    let freed = try Self.settle(.seconds(10)) {
      let now = try KernelObjects.now()
      leftover = KernelObjects(programs: created.programs.intersection(now.programs),
                               maps: created.maps.intersection(now.maps),
                               links: created.links.intersection(now.links))
      return leftover == KernelObjects(programs: [], maps: [], links: [])
    }
    #expect(freed, "still in the kernel: programs \(leftover.programs.sorted()), maps \(leftover.maps.sorted()), links \(leftover.links.sorted())")
    #expect(created.programs.count == cycles + 1)
    #expect(created.links.count == cycles + 1)
    #expect(createdBTF.count == cycles + 1)
    var leftoverBTF = createdBTF
    #expect(try Self.settle(.seconds(10)) {
      leftoverBTF = createdBTF.intersection(try BPF.allBTFIDs())
      return leftoverBTF.isEmpty
    }, "BTF objects still in the kernel: \(leftoverBTF.sorted())")

    // The kernel's totals and this process's descriptor count are back where they started.
    // Run alone, they match exactly once the kernel's deferred frees are done. Tests running
    // in parallel (in this process or another) make and drop objects and descriptors of their
    // own, so when the totals do not settle to the baseline the test still requires that they
    // did not grow with the number of cycles: leaking one object or descriptor per cycle would
    // leave `cycles` more; noise from other tests stays far below `tolerance`.
    let tolerance = cycles / 10
    var kernelAfter = kernelBefore
    var descriptorsAfter = 0
    let settled = try Self.settle(.seconds(10)) {
      kernelAfter = try KernelObjects.now()
      descriptorsAfter = try Self.openDescriptorCount()
      return kernelAfter.programs.count == kernelBefore.programs.count
        && kernelAfter.maps.count == kernelBefore.maps.count
        && kernelAfter.links.count == kernelBefore.links.count
        && descriptorsAfter == descriptorsBefore
    }
    let summary = "kernel before: \(kernelBefore); after: \(kernelAfter); new: \(Self.describeNew(kernelAfter, since: kernelBefore)); open descriptors: \(descriptorsBefore) before, \(descriptorsAfter) after"
    if settled {
      print("leak test: totals back to the baseline exactly (\(kernelAfter), \(descriptorsAfter) descriptors)")
    } else {
      print("leak test: totals did not settle to the baseline (other tests running?): \(summary)")
    }
    #expect(kernelAfter.programs.count - kernelBefore.programs.count < tolerance, "\(summary)")
    #expect(kernelAfter.maps.count - kernelBefore.maps.count < tolerance, "\(summary)")
    #expect(kernelAfter.links.count - kernelBefore.links.count < tolerance, "\(summary)")
    #expect(descriptorsAfter - descriptorsBefore < tolerance, "\(summary)")
  }

  /// Names of the objects in `after` but not in `before`, for a failure message.
  static func describeNew(_ after: KernelObjects, since before: KernelObjects) -> String {
    var parts: [String] = []
    for id in after.programs.subtracting(before.programs).sorted().prefix(10) {
      let name = (try? BPF.programInfo(BPF.openProgram(id: id)).name) ?? "?"
      parts.append("program \(id) \(name)")
    }
    for id in after.maps.subtracting(before.maps).sorted().prefix(10) {
      let name = (try? BPFMap.open(id: id).name) ?? "?"
      parts.append("map \(id) \(name)")
    }
    for id in after.links.subtracting(before.links).sorted().prefix(10) { parts.append("link \(id)") }
    return parts.isEmpty ? "none" : parts.joined(separator: ", ")
  }
}
