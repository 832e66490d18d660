import CXDPKit
import Foundation
import SystemPackage
import Testing
import XDPKitSys
import XDPKitTestSupport

// rtnetlink, network namespaces and the test harness against the real kernel. Every test makes
// its own pair of namespaces joined by a veth and attaches only to that veth.

@Suite("Netlink and namespaces (kernel)")
struct NetlinkTests {
  @Test(.kernel) func testNetworkCreatesAndDestroysNamespaces() throws {
    let network = try TestNetwork()
    let listed = try namespaceList()
    #expect(listed.contains(network.namespaceA) && listed.contains(network.namespaceB))
    #expect(network.interfaceIndexA > 0 && network.interfaceIndexB > 0)
    #expect(network.interfaceA.utf8.count <= 15 && network.interfaceB.utf8.count <= 15)

    // Each end exists only in its own namespace, under the index the harness reported.
    let nameInB = try network.withNamespace(.b) {
      try interfaceName(index: network.interfaceIndexB)
    }
    #expect(nameInB == network.interfaceB)
    #expect(throws: NetworkInterfaceError.self) {
      try network.withNamespace(.a) { try interfaceIndex(named: network.interfaceB) }
    }
    let shown = try network.run(in: .a, "ip", "-o", "addr", "show", "dev", network.interfaceA)
    #expect(shown.succeeded)
    #expect(shown.standardOutput.contains("192.0.2.1/24"))
    #expect(shown.standardOutput.contains("2001:db8::1/64"))

    network.destroy()
    network.destroy()  // idempotent
    let after = try namespaceList()
    #expect(!after.contains(network.namespaceA) && !after.contains(network.namespaceB))
  }

  @Test func staleNamespaceNamesAreRecognisedNarrowly() {
    #expect(TestNetwork.ownerPID(ofNamespace: "xk-123-4-a") == 123)
    #expect(TestNetwork.ownerPID(ofNamespace: "xk-123-4-b") == 123)
    #expect(TestNetwork.ownerPID(ofNamespace: "xk-123-4-c") == nil)
    #expect(TestNetwork.ownerPID(ofNamespace: "xk-abc-4-a") == nil)
    #expect(TestNetwork.ownerPID(ofNamespace: "xk-123-a") == nil)
    #expect(TestNetwork.ownerPID(ofNamespace: "other-123-4-a") == nil)
  }

  @Test(.kernel) func sweepRemovesOnlyNamespacesOfDeadRuns() throws {
    let ip = try Command.ipPath()
    // A pid with no process: a run that crashed.
    let dead = try #require((4_000_000 ..< 4_000_100).first {
      !FileManager.default.fileExists(atPath: "/proc/\($0)")
    })
    let stale = "xk-\(dead)-99999-a"
    let live = "xk-\(getpid())-99999-b"
    try Command.check(ip, ["netns", "add", stale])
    try Command.check(ip, ["netns", "add", live])
    defer {
      _ = try? Command.run(ip, ["netns", "delete", stale])
      _ = try? Command.run(ip, ["netns", "delete", live])
    }
    let removed = TestNetwork.sweepStaleNamespaces()
    #expect(removed.contains(stale))
    #expect(!removed.contains(live))
    let listed = try namespaceList()
    #expect(!listed.contains(stale) && listed.contains(live))
  }

  @Test(.kernel) func freshVethHasNoXDPProgram() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    // A socket made inside the namespace keeps talking to it after the body returns.
    let socket = try network.withNamespace(.b) { try RouteNetlinkSocket() }
    let state = try socket.xdpState(interfaceIndex: network.interfaceIndexB)
    #expect(state == XDPAttachmentState())
    #expect(state.mode == .notAttached && !state.isAttached)
    #expect(socket.portID != 0)

    let oneShot = try network.withNamespace(.a) {
      try RouteNetlink.xdpState(interfaceIndex: network.interfaceIndexA)
    }
    #expect(oneShot == XDPAttachmentState())
  }

  @Test(.kernel) func missingInterfaceIndexIsNamedInTheError() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let missing: Int32 = 0x7fff_0000
    let error = try #require(throws: NetlinkError.self) {
      try network.withNamespace(.b) { try RouteNetlink.xdpState(interfaceIndex: missing) }
    }
    #expect(error.operation == .getLink(interfaceIndex: missing))
    #expect(error.failure == .kernel)
    #expect(error.errno == .operationNotSupportedByDevice)  // ENODEV
    #expect(error.description.hasPrefix("RTM_GETLINK on ifindex \(missing): "))
  }

  @Test(.kernel) func udpDatagramsArriveExactly() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let receiver = try network.countingReceiver(in: .b, port: 40_000)
    #expect(try network.sendUDP(from: .a, to: network.ipv4B, count: 50, port: 40_000) == 50)
    #expect(receiver.count() == 50)
    receiver.reset()
    #expect(try network.sendUDP(from: .a, to: network.ipv6B, count: 30, port: 40_000,
                                source: network.ipv6A) == 30)
    #expect(receiver.count() == 30)

    // An extra address from another documentation range, bound as the source.
    try network.addAddress("198.51.100.1/24", on: .a)
    try network.addAddress("198.51.100.2/24", on: .b)
    try network.addPeerNeighbour("198.51.100.2", on: .a)
    try network.addPeerNeighbour("198.51.100.1", on: .b)
    let bound = try network.countingReceiver(in: .b, port: 40_001, address: "198.51.100.2")
    #expect(try network.sendUDP(from: .a, to: "198.51.100.2", count: 1_000, port: 40_001,
                                source: "198.51.100.1") == 1_000)
    #expect(bound.count() == 1_000)
  }

  @Test func missingInterfaceNameThrowsTypedError() {
    let name = "xk-no-such-if"
    #expect(throws: NetworkInterfaceError.noSuchInterface(name: name, errno: .operationNotSupportedByDevice)) {
      try interfaceIndex(named: name)
    }
    do {
      _ = try interfaceIndex(named: name)
    } catch {
      #expect(error.description == "no such interface \(name): No such device")
      #expect(error.errno == .operationNotSupportedByDevice)
    }
    // Longer than IFNAMSIZ - 1: cannot exist.
    #expect(throws: NetworkInterfaceError.self) { try interfaceIndex(named: "abcdefghijklmnop") }
    #expect(throws: NetworkInterfaceError.self) { try interfaceName(index: -1) }
  }

  @Test func namespaceNamesAreValidated() {
    #expect(throws: SyscallError.self) { try withNetworkNamespace(named: "../x") { 1 } }
    #expect(throws: SyscallError.self) { try withNetworkNamespace(named: "") { 1 } }
    let error = #expect(throws: SyscallError.self) {
      try withNetworkNamespace(path: "/nonexistent/xdpkit/netns") { 1 }
    }
    #expect(error?.errno == .noSuchFileOrDirectory)
  }

  @Test(.kernel) func namespaceSwitchIsScopedToTheBody() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let outside = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self/ns/net")
    let inside = try network.withNamespace(.a) {
      try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self/ns/net")
    }
    let afterwards = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self/ns/net")
    #expect(inside != outside)
    #expect(afterwards == outside)
    // The body's error passes through, and the thread still comes back.
    struct Marker: Error {}
    #expect(throws: Marker.self) { try network.withNamespace(.b) { throw Marker() } }
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self/ns/net")
      == outside)
  }

  @Test(.kernel) func attachQueryReplaceAndDetachThroughNetlink() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let first = try NetlinkTestProgram.load(returning: 2)   // XDP_PASS
    let second = try NetlinkTestProgram.load(returning: 2)
    let index = network.interfaceIndexB
    let firstID = try NetlinkTestProgram.id(of: first)
    let secondID = try NetlinkTestProgram.id(of: second)
    #expect(firstID != 0 && secondID != 0 && firstID != secondID)

    try network.withNamespace(.b) {
      let socket = try RouteNetlinkSocket()

      // Generic (skb) mode, only if nothing is attached.
      try socket.setXDP(interfaceIndex: index, programFD: first.rawValue,
                        flags: [.skbMode, .updateIfNoExist])
      #expect(try socket.xdpState(interfaceIndex: index)
        == XDPAttachmentState(mode: .generic, programID: firstID, genericProgramID: firstID))

      // Again with UPDATE_IF_NOEXIST: EBUSY, and the kernel says why.
      let busy = try #require(throws: NetlinkError.self) {
        try socket.setXDP(interfaceIndex: index, programFD: second.rawValue,
                          flags: [.skbMode, .updateIfNoExist])
      }
      #expect(busy.errno == .resourceBusy)
      #expect(busy.operation == .setXDP(interfaceIndex: index))
      #expect(busy.kernelMessage != nil)
      #expect(busy.description.contains("(kernel: "))
      print("[extack] UPDATE_IF_NOEXIST over an attached program: \(busy)")

      // Replace, naming the program expected to be there.
      try socket.setXDP(interfaceIndex: index, programFD: second.rawValue, flags: [.skbMode],
                        expectedProgramFD: first.rawValue)
      #expect(try socket.xdpState(interfaceIndex: index).programID == secondID)

      // Replace with the wrong expectation: refused, the attached program stays.
      let mismatch = try #require(throws: NetlinkError.self) {
        try socket.setXDP(interfaceIndex: index, programFD: first.rawValue, flags: [.skbMode],
                          expectedProgramFD: first.rawValue)
      }
      print("[extack] EXPECTED_FD mismatch: \(mismatch)")
      #expect(try socket.xdpState(interfaceIndex: index).programID == secondID)

      // A native attach while a generic one is active is refused.
      let mixed = try #require(throws: NetlinkError.self) {
        try socket.setXDP(interfaceIndex: index, programFD: first.rawValue, flags: [.driverMode])
      }
      print("[extack] native over generic: \(mixed)")

      // Detach generic.
      try socket.setXDP(interfaceIndex: index, programFD: -1, flags: [.skbMode])
      #expect(try socket.xdpState(interfaceIndex: index) == XDPAttachmentState())

      // Native (driver) mode: veth runs XDP in its driver.
      try socket.setXDP(interfaceIndex: index, programFD: first.rawValue,
                        flags: [.driverMode, .updateIfNoExist])
      #expect(try socket.xdpState(interfaceIndex: index)
        == XDPAttachmentState(mode: .driver, programID: firstID, driverProgramID: firstID))
      try socket.setXDP(interfaceIndex: index, programFD: -1, flags: [.driverMode])
      #expect(try socket.xdpState(interfaceIndex: index).mode == .notAttached)

      // No mode flag: the kernel picks native for a driver that has it.
      try RouteNetlink.setXDP(interfaceIndex: index, programFD: second.rawValue)
      #expect(try RouteNetlink.xdpState(interfaceIndex: index).driverProgramID == secondID)
      try RouteNetlink.setXDP(interfaceIndex: index, programFD: -1)
      #expect(try RouteNetlink.xdpState(interfaceIndex: index).isAttached == false)
    }
    // The other end was never touched.
    let a = try network.withNamespace(.a) {
      try RouteNetlink.xdpState(interfaceIndex: network.interfaceIndexA)
    }
    #expect(a == XDPAttachmentState())
  }

  @Test(.kernel, arguments: [XDPFlags.skbMode, XDPFlags.driverMode])
  func dropProgramStopsTrafficUntilDetached(mode: XDPFlags) throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let drop = try NetlinkTestProgram.load(returning: 1)    // XDP_DROP
    let receiver = try network.countingReceiver(in: .b, port: 40_100, address: network.ipv4B)

    try network.withNamespace(.b) {
      try RouteNetlink.setXDP(interfaceIndex: network.interfaceIndexB, programFD: drop.rawValue,
                              flags: mode.union(.updateIfNoExist))
    }
    #expect(try network.sendUDP(from: .a, to: network.ipv4B, count: 50, port: 40_100) == 50)
    #expect(receiver.count() == 0)

    try network.withNamespace(.b) {
      try RouteNetlink.setXDP(interfaceIndex: network.interfaceIndexB, programFD: -1, flags: mode)
    }
    #expect(try network.sendUDP(from: .a, to: network.ipv4B, count: 50, port: 40_100) == 50)
    #expect(receiver.count() == 50)
  }

  @Test func kernelGateRule() {
    #expect(KernelTestGate.shouldRun(effectiveUserID: 0, environment: [:]))
    #expect(!KernelTestGate.shouldRun(effectiveUserID: 1000, environment: [:]))
    #expect(KernelTestGate.shouldRun(
      effectiveUserID: 1000, environment: ["XDPKIT_REQUIRE_PRIVILEGED": "1"]))
    #expect(!KernelTestGate.shouldRun(
      effectiveUserID: 1000, environment: ["XDPKIT_REQUIRE_PRIVILEGED": "0"]))
  }

  @Test(.kernel) func temporaryPinDirectoryIsRemovedWithItsPins() throws {
    var path = ""
    do {
      let directory = try TemporaryPinDirectory()
      path = directory.path
      #expect(isBPFFS())
      #expect(path.hasPrefix("/sys/fs/bpf/xdpkit-test-\(getpid())-"))
      let program = try NetlinkTestProgram.load(returning: 2)
      try NetlinkTestProgram.pin(program, at: directory.pinPath("pass"))
      #expect(FileManager.default.fileExists(atPath: directory.pinPath("pass")))
    }
    #expect(!path.isEmpty && !FileManager.default.fileExists(atPath: path))
  }

  private func namespaceList() throws -> [String] {
    let result = try Command.check(try Command.ipPath(), ["netns", "list"])
    return result.standardOutput.split(separator: "\n").compactMap {
      $0.split(separator: " ").first.map(String.init)
    }
  }
}

/// A test-only BPF_PROG_LOAD of a two-instruction XDP program `r0 = verdict; exit`, so these
/// tests do not depend on the loader under construction elsewhere.
private enum NetlinkTestProgram {
  static func load(returning verdict: Int32) throws -> BPFFileDescriptor {
    // BPF_ALU64 | BPF_MOV | BPF_K, dst r0, imm verdict; then BPF_JMP | BPF_EXIT.
    var instructions: [UInt8] = [0xb7, 0x00, 0x00, 0x00]
    instructions += withUnsafeBytes(of: verdict) { Array($0) }
    instructions += [0x95, 0, 0, 0, 0, 0, 0, 0]
    let license = Array("GPL".utf8CString)
    var log = [CChar](repeating: 0, count: 4096)
    let fd = instructions.withUnsafeBytes { code in
      license.withUnsafeBufferPointer { license in
        log.withUnsafeMutableBufferPointer { log in
          var attr = bpf_attr()
          attr.prog_type = BPF_PROG_TYPE_XDP.rawValue
          attr.insn_cnt = 2
          attr.insns = UInt64(UInt(bitPattern: code.baseAddress))
          attr.license = UInt64(UInt(bitPattern: license.baseAddress))
          attr.log_level = 1
          attr.log_size = UInt32(log.count)
          attr.log_buf = UInt64(UInt(bitPattern: log.baseAddress))
          return cxdpkit_bpf(Int32(BPF_PROG_LOAD.rawValue), &attr,
                             UInt32(MemoryLayout<bpf_attr>.size))
        }
      }
    }
    if fd < 0 {
      let code = Errno.current
      let text = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                        as: UTF8.self)
      throw NetlinkTestProgramError(call: "BPF_PROG_LOAD", errno: code, log: text)
    }
    return BPFFileDescriptor(adopting: Int32(fd))
  }

  static func id(of program: BPFFileDescriptor) throws -> UInt32 {
    var info = bpf_prog_info()
    let result = withUnsafeMutableBytes(of: &info) { buffer in
      var attr = bpf_attr()
      attr.info.bpf_fd = UInt32(bitPattern: program.rawValue)
      attr.info.info_len = UInt32(buffer.count)
      attr.info.info = UInt64(UInt(bitPattern: buffer.baseAddress))
      return cxdpkit_bpf(Int32(BPF_OBJ_GET_INFO_BY_FD.rawValue), &attr,
                         UInt32(MemoryLayout<bpf_attr>.size))
    }
    if result < 0 {
      throw NetlinkTestProgramError(call: "BPF_OBJ_GET_INFO_BY_FD", errno: .current, log: "")
    }
    return info.id
  }
}

extension NetlinkTestProgram {
  static func pin(_ program: BPFFileDescriptor, at path: String) throws {
    let result = path.withCString { path in
      var attr = bpf_attr()
      attr.pathname = UInt64(UInt(bitPattern: path))
      attr.bpf_fd = UInt32(bitPattern: program.rawValue)
      return cxdpkit_bpf(Int32(BPF_OBJ_PIN.rawValue), &attr, UInt32(MemoryLayout<bpf_attr>.size))
    }
    if result < 0 { throw NetlinkTestProgramError(call: "BPF_OBJ_PIN \(path)", errno: .current, log: "") }
  }
}

private struct NetlinkTestProgramError: Error, CustomStringConvertible {
  var call: String
  var errno: Errno
  var log: String
  var description: String { "\(call): \(errno)\(log.isEmpty ? "" : "\n\(log)")" }
}
