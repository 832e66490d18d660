import Logging
import ServiceLifecycle
import Synchronization
import Testing
import XDPKit
import XDPKitService
import XDPKitTestSupport
import XDPPrograms

/// XDPService in a ServiceGroup, on a veth of a namespace pair the test made: graceful
/// shutdown and cancellation both end with the program detached.
@Suite("XDPService with ServiceLifecycle", .kernel)
struct XDPServiceTests {
  /// A service that waits for graceful shutdown and records that it saw it.
  struct FakeService: Service {
    let recorder: Recorder
    func run() async throws {
      do {
        try await gracefulShutdown()
        recorder.events.withLock { $0.append("shutdown") }
      } catch {
        recorder.events.withLock { $0.append("cancelled") }
        throw error
      }
    }
  }

  final class Recorder: Sendable {
    let events = Mutex<[String]>([])
  }

  static let logger = Logger(label: "xdpkit.service-test")

  /// The id of the program attached to B's veth, or nil.
  static func attachedID(_ network: TestNetwork) throws -> UInt32? {
    try network.withNamespace(.b) { try XDP.attachment(on: .name(network.interfaceB)).programID }
  }

  /// Waits (bounded: 30 s) until `condition` holds.
  static func waitUntil(_ condition: () throws -> Bool) async throws -> Bool {
    for _ in 0..<3000 {
      if try condition() { return true }
      try await Task.sleep(for: .milliseconds(10))
    }
    return false
  }

  /// Runs `body` with a fresh namespace pair and a loaded xdp_pass (and its id); the
  /// namespaces are removed afterwards, also on failure.
  static func withPassAndNetwork(_ body: (TestNetwork, LoadedObject, UInt32) async throws -> Void) async throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let loaded = try BPFObject(bytes: XDPPrograms.pass).load()
    try await body(network, loaded, try loaded.program("xdp_pass").id)
  }

  static func service(_ network: TestNetwork, _ loaded: LoadedObject) throws -> XDPService<XDPLink> {
    let program = try loaded.xdpProgram("xdp_pass")
    return XDPService("xdp_pass", logger: logger, attach: {
      try network.withNamespace(.b) { try program.attach(to: .name(network.interfaceB), mode: .generic) }
    })
  }

  @Test("graceful shutdown of the group: the fake service sees it, the program is detached, run returns")
  func gracefulShutdownDetaches() async throws {
    try await Self.withPassAndNetwork { network, loaded, id in
      let fakeEvents = Recorder()
      let group = ServiceGroup(services: [try Self.service(network, loaded), FakeService(recorder: fakeEvents)],
                               logger: Self.logger)
      async let running: Void = group.run()
      #expect(try await Self.waitUntil { try Self.attachedID(network) == id })
      await group.triggerGracefulShutdown()
      try await running
      #expect(try Self.attachedID(network) == nil)
      #expect(fakeEvents.events.withLock { $0 } == ["shutdown"])
    }
  }

  @Test("cancelling the task that runs the group detaches the program")
  func cancellationDetaches() async throws {
    try await Self.withPassAndNetwork { network, loaded, id in
      let service = try Self.service(network, loaded)
      let task = Task { try await service.run() }
      #expect(try await Self.waitUntil { try Self.attachedID(network) == id })
      task.cancel()
      try await task.value
      #expect(try Self.attachedID(network) == nil)
    }
  }

  struct Failure: Error, Equatable {}

  @Test("work that fails while attached ends the service with its error, detached")
  func failingWorkDetaches() async throws {
    try await Self.withPassAndNetwork { network, loaded, id in
      let program = try loaded.xdpProgram("xdp_pass")
      let seen = Mutex<UInt32?>(nil)
      let service = XDPService("failing", logger: Self.logger, attach: {
        try network.withNamespace(.b) { try program.attach(to: .name(network.interfaceB), mode: .generic) }
      }, whileAttached: { _ in
        let attached = try Self.attachedID(network)
        seen.withLock { $0 = attached }
        throw Failure()
      })
      await #expect(throws: Failure.self) { try await service.run() }
      #expect(seen.withLock { $0 } == id)
      #expect(try Self.attachedID(network) == nil)
    }
  }

  @Test("an attach that fails ends run() with the attach error and nothing attached")
  func attachFailure() async throws {
    let loaded = try BPFObject(bytes: XDPPrograms.pass).load()
    let program = try loaded.xdpProgram("xdp_pass")
    let service = XDPService(program: program, interface: .name("xk-no-such-if0"), logger: Self.logger)
    await #expect {
      try await service.run()
    } throws: { error in
      guard case AttachError.noSuchInterface("xk-no-such-if0") = error else { return false }
      return true
    }
  }
}
