import Foundation
import Synchronization
import Testing
import XDPKit
import XDPKitTestSupport

/// Attaching, replacing and detaching XDP programs on a veth end inside a namespace the test
/// made. Every attach, query and detach runs inside `network.withNamespace(.b)`, where the
/// interface exists; the host's interfaces are never touched.
@Suite("XDP attachment on a veth", .kernel)
struct AttachTests {
  /// Two loads of xdp_pass: two distinct programs to attach and swap.
  struct Programs {
    let first: LoadedObject
    let second: LoadedObject
    var a: XDPProgram { get throws { try first.xdpProgram("xdp_pass") } }
    var b: XDPProgram { get throws { try second.xdpProgram("xdp_pass") } }
    var idA: UInt32 { get throws { try first.program("xdp_pass").id } }
    var idB: UInt32 { get throws { try second.program("xdp_pass").id } }

    init() throws {
      let object = try TestFixtures.object("xdp_pass")
      first = try object.load()
      second = try object.load()
    }
  }

  /// Runs `body` on this thread inside namespace B of a fresh ``TestNetwork``, with two loaded
  /// `xdp_pass` programs and B's veth; the namespaces are removed afterwards, also on failure.
  func onVethB(_ body: (Programs, NetworkInterface, TestNetwork) throws -> Void) throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let programs = try Programs()
    try network.withNamespace(.b) { try body(programs, .name(network.interfaceB), network) }
  }

  // MARK: bpf_link, each mode

  @Test("bpf_link attach in each mode shows that mode and the program id; detach removes it",
        arguments: [
          (XDPAttachMode.native, XDPAttachmentState.Mode.driver, XDPAttachMode.native),
          (.generic, .generic, .generic),
          (.auto, .driver, .native),
        ])
  func linkModes(requested: XDPAttachMode, expected: XDPAttachmentState.Mode, used: XDPAttachMode) throws {
    try onVethB { (programs, veth, network) throws in
      let id = try programs.idA
      #expect(try XDP.attachment(on: veth) == XDPAttachmentState())
      let link = try programs.a.attach(to: veth, mode: requested)
      #expect(link.isLink)
      #expect(link.mode == used)
      #expect(link.interfaceIndex == network.interfaceIndexB)
      let state = try XDP.attachment(on: veth)
      #expect(state.mode == expected)
      #expect(state.programID == id)
      if expected == .driver {
        #expect(state.driverProgramID == id)
        #expect(state.genericProgramID == nil)
      } else {
        #expect(state.genericProgramID == id)
        #expect(state.driverProgramID == nil)
      }
      let info = try link.info()
      #expect(info.programID == id)
      #expect(info.xdpInterfaceIndex == UInt32(network.interfaceIndexB))

      try link.detach()
      #expect(link.isDetached)
      #expect(try XDP.attachment(on: veth).mode == .notAttached)
      #expect(throws: AttachError.self) { try link.detach() }
    }
  }

  @Test("auto mode falls back to generic on an interface without native XDP (a bridge)",
        arguments: [XDPAttachMethod.link, .netlink()])
  func autoFallsBackToGeneric(method: XDPAttachMethod) throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    // A bridge inside B's namespace (this kernel has no dummy driver): it has no ndo_bpf, so
    // no native XDP.
    let bridge = "xkbridge0"
    try network.addBridge(bridge, on: .b)
    let programs = try Programs()
    let id = try programs.idA
    try network.withNamespace(.b) { () throws in
      #expect {
        try programs.a.attach(to: .name(bridge), mode: .native, method: method)
      } throws: { error in
        print("native on a bridge via \(method): \(error)")
        guard case AttachError.modeNotSupported(let mode, let interface, _) = error else { return false }
        return mode == .native && interface == bridge
      }
      let link = try programs.a.attach(to: .name(bridge), mode: .auto, method: method)
      #expect(link.mode == .generic)
      let state = try XDP.attachment(on: .name(bridge))
      #expect(state.mode == .generic)
      #expect(state.genericProgramID == id)
      try link.detach()
      #expect(try XDP.attachment(on: .name(bridge)).mode == .notAttached)
    }
  }

  @Test("a bpf_link that goes out of scope detaches the program")
  func linkDeinitDetaches() throws {
    try onVethB { (programs, veth, network) throws in
      let id = try programs.idA
      func attachAndDrop() throws {
        let link = try programs.a.attach(to: veth, mode: .native)
        #expect(try XDP.attachment(on: veth).programID == id)
        _ = link
      }
      try attachAndDrop()
      #expect(try waitUntil { try XDP.attachment(on: veth).mode == .notAttached })
      // The program itself is still loaded: only the link went away.
      #expect(try programs.idA == id)
    }
  }

  @Test("attach by interface index")
  func attachByIndex() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let programs = try Programs()
    let id = try programs.idA
    try network.withNamespace(.b) { () throws in
      let link = try programs.a.attach(to: .index(network.interfaceIndexB), mode: .native)
      #expect(try XDP.attachment(on: .index(network.interfaceIndexB)).programID == id)
      #expect(try XDP.attachment(on: .name(network.interfaceB)).programID == id)
      try link.detach()
      #expect(try XDP.attachment(on: .index(network.interfaceIndexB)).mode == .notAttached)
    }
  }

  @Test("a nonexistent interface is .noSuchInterface, by name and by index")
  func noSuchInterface() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let programs = try Programs()
    try network.withNamespace(.b) { () throws in
      // The veth of side A does not exist in B's namespace.
      for interface in [NetworkInterface.name("xk-nope0"), .name(network.interfaceA), .index(999_999)] {
        for method in [XDPAttachMethod.link, .netlink()] {
          #expect {
            try programs.a.attach(to: interface, mode: .native, method: method)
          } throws: { error in
            guard case AttachError.noSuchInterface(let name) = error else { return false }
            return name == interface.description
          }
        }
      }
      #expect(throws: AttachError.self) { try XDP.attachment(on: "xk-nope0") }
    }
  }

  @Test("offload mode on a veth is .modeNotSupported, through bpf_link and netlink")
  func offloadNotSupported() throws {
    try onVethB { (programs, veth, network) throws in
      for method in [XDPAttachMethod.link, .netlink()] {
        #expect {
          try programs.a.attach(to: veth, mode: .offload, method: method)
        } throws: { error in
          guard case AttachError.modeNotSupported(let mode, let interface, let cause) = error else {
            Issue.record("\(method): \(error)")
            return false
          }
          return mode == .offload && interface == network.interfaceB && cause.errno == .invalidArgument
        }
      }
      #expect(try XDP.attachment(on: veth).mode == .notAttached)
    }
  }

  // MARK: Replacing a bpf_link's program

  @Test("bpf_link replace swaps the program id with no moment of detachment")
  func linkReplace() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let programs = try Programs()
    let idA = try programs.idA, idB = try programs.idB
    let swaps = 100
    let link = try network.withNamespace(.b) {
      try programs.a.attach(to: .name(network.interfaceB), mode: .native)
    }

    // A watcher polls the interface from its own thread (inside B) while the program is
    // swapped back and forth; it must never see the interface without a program.
    let watch = AttachmentWatch()
    let watcher = Thread {
      defer { watch.done.signal() }
      let clock = ContinuousClock()
      let deadline = clock.now.advanced(by: .seconds(60))
      while !watch.stop.load(ordering: .acquiring), clock.now < deadline {
        do {
          let state = try network.withNamespace(.b) { try XDP.attachment(on: .name(network.interfaceB)) }
          watch.observations.withLock { o in
            o.polls += 1
            if !state.isAttached { o.unattached += 1 }
            if let id = state.programID, id != idA, id != idB { o.foreign.append("\(state)") }
          }
        } catch {
          watch.observations.withLock { $0.foreign.append("error: \(error)") }
          return
        }
      }
    }
    watcher.start()
    for i in 0 ..< swaps {
      try link.replace(with: i % 2 == 0 ? programs.b : programs.a)
    }
    // Keep swapping (in pairs) until the watcher has made a good number of observations.
    var extra = 0
    while watch.observations.withLock({ $0.polls }) < 50, extra < 10_000 {
      try link.replace(with: programs.b)
      try link.replace(with: programs.a)
      extra += 1
    }
    watch.stop.store(true, ordering: .releasing)
    watch.done.wait()
    let seen = watch.observations.withLock { $0 }
    #expect(seen.polls > 0)
    #expect(seen.unattached == 0, "the interface was seen without a program \(seen.unattached) times")
    #expect(seen.foreign.isEmpty, "\(seen.foreign)")

    // An even number of swaps from A leaves A; one more leaves B.
    try network.withNamespace(.b) { () throws in
      let veth = NetworkInterface.name(network.interfaceB)
      #expect(try XDP.attachment(on: veth).programID == idA)
      try link.replace(with: programs.b)
      let state = try XDP.attachment(on: veth)
      #expect(state.mode == .driver)
      #expect(state.programID == idB)
      #expect(try link.info().programID == idB)
      try link.detach()
      #expect(try XDP.attachment(on: veth).mode == .notAttached)
      // A detached link refuses further replacement.
      #expect(throws: AttachError.self) { try link.replace(with: programs.a) }
    }
  }

  // MARK: Real traffic

  @Test("the blocklist firewall drops a listed source's datagrams on the veth, and passes them once removed")
  func blocklistTraffic() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let loaded = try TestFixtures.object("blocklist_btf").load()
    defer { loaded.close() }
    let blocklist = try loaded.hashMap("BLOCKLIST", key: UInt32.self, value: UInt32.self)
    let stats = try loaded.perCPUArray("STATS", value: UInt64.self)
    let source: UInt32 = 0xC000_0201   // 192.0.2.1, side A, host byte order
    let port: UInt16 = 47_001
    let count = 40

    let link = try network.withNamespace(.b) {
      try loaded.xdpProgram("xdp_firewall").attach(to: .name(network.interfaceB), mode: .auto)
    }
    defer { try? link.detach() }
    #expect(link.mode == .native)
    let receiver = try network.countingReceiver(in: .b, port: port, address: network.ipv4B)
    defer { receiver.stop() }

    // Listed: everything from A is dropped before the stack sees it.
    try blocklist.insert(1, forKey: source)
    #expect(try network.sendUDP(from: .a, to: network.ipv4B, count: count, port: port) == count)
    #expect(receiver.count() == 0)
    #expect(try waitUntil { try stats.sum(at: XDPAction.drop.rawValue) == UInt64(count) })
    #expect(try stats.sum(at: XDPAction.drop.rawValue) == UInt64(count))

    // Removed: everything arrives, nothing more is dropped.
    #expect(try blocklist.removeValue(forKey: source))
    #expect(try network.sendUDP(from: .a, to: network.ipv4B, count: count, port: port) == count)
    #expect(receiver.count() == count)
    #expect(try stats.sum(at: XDPAction.drop.rawValue) == UInt64(count))
    #expect(try stats.sum(at: XDPAction.pass.rawValue) >= UInt64(count))
  }
}

/// What the watcher thread of `linkReplace` saw.
private final class AttachmentWatch: Sendable {
  struct Observations: Sendable {
    var polls = 0
    var unattached = 0
    var foreign: [String] = []
  }
  let observations = Mutex(Observations())
  let stop = Atomic<Bool>(false)
  let done = DispatchSemaphore(value: 0)
}

/// Polls `condition` every 10 ms for up to `limit`; returns its last value.
func waitUntil(_ limit: Duration = .seconds(5), _ condition: () throws -> Bool) rethrows -> Bool {
  let clock = ContinuousClock()
  let deadline = clock.now.advanced(by: limit)
  while true {
    if try condition() { return true }
    if clock.now >= deadline { return false }
    usleep(10_000)
  }
}
