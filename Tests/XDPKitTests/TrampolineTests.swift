import Foundation
import Testing
import Glibc
import XDPKit
import XDPKitMaps
import XDPKitSys
import XDPKitTestSupport

/// Programs that run through BPF trampolines: fentry/fexit and freplace. The kernel refuses
/// them under lockdown; there the tests assert XDPKit's lockdown error, elsewhere (the VM
/// suite boots a kernel without lockdown) they assert that the programs run.
@Suite("Trampoline programs", .kernel, .serialized)
struct TrampolineTests {
  /// The lockdown mode of the running kernel. securityfs must be mounted (`.ci/setup` and the
  /// VM runner mount it): without it the tests could not tell what to expect, so they fail.
  static func lockdown() throws -> LockdownMode {
    try #require(SystemInfo.lockdownMode(), "cannot read \(SystemInfo.lockdownPath): mount securityfs")
  }

  @Test func lockdownFileParses() {
    #expect(LockdownMode(fileText: "none [integrity] confidentiality\n") == .integrity)
    #expect(LockdownMode(fileText: "[none] integrity confidentiality") == .off)
    #expect(LockdownMode(fileText: "none integrity [confidentiality]") == .confidentiality)
    #expect(LockdownMode(fileText: "none integrity") == nil)
    #expect(LockdownMode(fileText: "[bogus]") == nil)
    #expect(LockdownMode.integrity.refusesTrampolines && !LockdownMode.off.refusesTrampolines)
  }

  @Test func fentryAndFexitSeeTheKernelFunction() throws {
    let object = try TestFixtures.object("trampoline_fentry")
    let mode = try Self.lockdown()
    if mode.refusesTrampolines {
      // Asked for by name: the load fails with the lockdown error.
      #expect {
        _ = try object.load(options: LoadOptions(programs: ["on_entry"]))
      } throws: { error in
        guard case LoadError.lockedDown(let program, let type, let reported) = error else { return false }
        return program == "on_entry" && type == .tracing && reported == mode
          && "\(error)".contains("lockdown (\(mode))")
      }
      // Not asked for: the object loads, and both programs are reported as skipped, with why.
      let loaded = try object.load()
      #expect(loaded.programNames.isEmpty)
      #expect(loaded.skippedPrograms.keys.sorted() == ["on_entry", "on_exit"])
      #expect(loaded.skippedPrograms["on_exit"]?.contains("lockdown (\(mode))") == true)
      #expect(loaded.notes.contains { $0.hasPrefix("program on_entry skipped: ") })
      return
    }
    let loaded = try object.load()
    let seen = try loaded.arrayMap("SEEN", value: UInt64.self)
    let entry = try loaded.program("on_entry")
    let exit = try loaded.program("on_exit")
    #expect(entry.type == .tracing && entry.expectedAttachType == .traceFentry)
    #expect(exit.expectedAttachType == .traceFexit)
    // Not attached: the kernel's test functions run, the programs do not.
    _ = try entry.testRunWithoutInput()
    #expect(try seen.value(at: 0) == 0)
    let entryLink = try entry.attach()
    let exitLink = try exit.attach()
    #expect(try entryLink.info().programID == (try entry.id))
    _ = try entry.testRunWithoutInput()
    // bpf_fentry_test1 is called with 1 and returns 2.
    #expect(try seen.value(at: 0) == 1)
    #expect(try seen.value(at: 1) == 1)
    #expect(try seen.value(at: 2) == 2)
    try entryLink.detach()
    try exitLink.detach()
    try seen.set(0, at: 0)
    _ = try entry.testRunWithoutInput()
    #expect(try seen.value(at: 0) == 0)
  }

  @Test func freplaceReplacesAGlobalFunction() throws {
    let target = try TestFixtures.object("freplace_target").load()
    let xdp = try target.program("xdp_target")
    let packet = Packet.ipv4UDP(source: (192, 0, 2, 1))
    #expect(try xdp.testRun(packet: packet).action == .pass)

    let extensionObject = try TestFixtures.object("freplace_ext")
    // Without a target the loader says what to set: an error when the program is asked for,
    // a skipped program (and its reason) when it is not.
    #expect(try extensionObject.load().skippedPrograms["decide_drop"]?.contains("attachTargets[\"decide_drop\"]") == true)
    #expect {
      _ = try extensionObject.load(options: LoadOptions(programs: ["decide_drop"]))
    } throws: { error in
      guard case LoadError.missingAttachTarget(let program, _, let reason) = error else { return false }
      return program == "decide_drop" && reason.contains("attachTargets[\"decide_drop\"]")
    }
    var options = LoadOptions(programs: ["decide_drop"])
    options.attachTargets["decide_drop"] = .program(xdp, function: "no_such_function")
    #expect {
      _ = try extensionObject.load(options: options)
    } throws: { error in
      guard case LoadError.attachTargetNotFound(let program, let name, let place) = error else { return false }
      return program == "decide_drop" && name == "no_such_function" && place.contains("xdp_target")
    }

    options.attachTargets["decide_drop"] = .program(xdp, function: "decide")
    let mode = try Self.lockdown()
    if mode.refusesTrampolines {
      #expect {
        _ = try extensionObject.load(options: options)
      } throws: { error in
        guard case LoadError.lockedDown(let program, let type, let reported) = error else { return false }
        return program == "decide_drop" && type == .ext && reported == mode
      }
      return
    }
    let ext = try extensionObject.load(options: options)
    let replacement = try ext.program("decide_drop")
    #expect(replacement.type == .ext)
    let link = try replacement.attach()
    #expect(try xdp.testRun(packet: packet).action == .drop)
    try link.detach()
    #expect(try xdp.testRun(packet: packet).action == .pass)

    // The same extension attached in place of decide() of a second copy of the target.
    let second = try TestFixtures.object("freplace_target").load()
    let secondXDP = try second.program("xdp_target")
    let relink = try replacement.attach(replacing: "decide", in: secondXDP)
    #expect(try secondXDP.testRun(packet: packet).action == .drop)
    #expect(try xdp.testRun(packet: packet).action == .pass)
    try relink.detach()
    #expect(try secondXDP.testRun(packet: packet).action == .pass)
  }

  @Test("fentry on a function in a module: the module's BTF object goes with the load")
  func fentryOnAModuleFunction() throws {
    let object = try TestFixtures.object("trampoline_module")
    // The calling thread: test runs execute on it, and other tests of this process (a
    // conntrack lookup in ExternLoadTests) run on other threads at the same time.
    // (/proc/thread-self is "PID/task/TID".)
    let thread = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")
    let tid = try #require(thread.split(separator: "/").last.flatMap { UInt32($0) })
    let options = LoadOptions(globals: ["target_tid": tid])
    let location = try #require(try ExternLoadTests.conntrackKfuncLocation(), "no conntrack in this kernel")
    let mode = try Self.lockdown()
    if mode.refusesTrampolines {
      #expect {
        _ = try object.load(options: LoadOptions(programs: ["on_find"]))
      } throws: { error in
        guard case LoadError.lockedDown("on_find", .tracing, mode) = error else { return false }
        return true
      }
      return
    }
    let tracer = try object.load(options: options)
    let moduleNotes = tracer.notes.filter { $0.contains("is in module") }
    #expect(moduleNotes == (location == "vmlinux" ? [] : ["program on_find: attach target nf_conntrack_find_get is in module nf_conntrack"]))
    let link = try tracer.program("on_find").attach()
    let lookup = try TestFixtures.object("externs_module").load()
    let packet = Packet.ipv4UDP(source: (192, 0, 2, 1))
    _ = try lookup.program("xdp_ct_lookup").testRun(packet: packet)
    #expect(try tracer.global("finds", as: UInt64.self) == 1)
    try link.detach()
    _ = try lookup.program("xdp_ct_lookup").testRun(packet: packet)
    #expect(try tracer.global("finds", as: UInt64.self) == 1)
  }

  @Test("a kernel attach target found nowhere: the error names it and where it was looked for")
  func kernelTargetNotFound() throws {
    var options = LoadOptions(programs: ["on_entry"])
    options.attachTargets["on_entry"] = .kernel("xdpkit_no_such_function")
    #expect {
      _ = try TestFixtures.object("trampoline_fentry").load(options: options)
    } throws: { error in
      guard case LoadError.attachTargetNotFound(let program, let name, let place) = error else { return false }
      return program == "on_entry" && name == "xdpkit_no_such_function"
        && place.hasPrefix("vmlinux BTF (/sys/kernel/btf/vmlinux) or the BTF of ") && place.hasSuffix(" loaded module(s) in /sys/kernel/btf")
    }
  }
}
