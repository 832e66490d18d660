import CXDPKit
import SystemPackage
import Testing
import XDPKitObject
import XDPKitTestSupport

@testable import XDPKitSys

/// Hand-assembled instructions, built from the uapi opcode constants.
enum Assembler {
  static func instruction(
    _ code: Int32, dst: UInt8 = 0, src: UInt8 = 0, offset: Int16 = 0, immediate: Int32 = 0
  ) -> UInt64 {
    var insn = bpf_insn()
    insn.code = UInt8(code)
    insn.dst_reg = dst
    insn.src_reg = src
    insn.off = offset
    insn.imm = immediate
    return unsafeBitCast(insn, to: UInt64.self)
  }

  /// `dst = immediate` (64-bit move).
  static func move(_ dst: UInt8, _ immediate: Int32) -> UInt64 {
    instruction(BPF_ALU64 | BPF_MOV | BPF_K, dst: dst, immediate: immediate)
  }

  /// `exit`.
  static let exit = instruction(BPF_JMP | BPF_EXIT)

  /// `dst = map` (a 64-bit immediate load of a map descriptor: two slots).
  static func loadMap(_ dst: UInt8, _ map: BPFFileDescriptor) -> [UInt64] {
    [
      instruction(BPF_LD | BPF_DW | BPF_IMM, dst: dst, src: UInt8(BPF_PSEUDO_MAP_FD), immediate: map.rawValue),
      instruction(0),
    ]
  }

  static let xdpPass = Int32(XDP_PASS.rawValue)

  /// `r0 = XDP_PASS; exit`.
  static let passProgram = [move(0, xdpPass), exit]
  /// `exit` with r0 never written: the verifier refuses it.
  static let uninitializedReturn = [exit]
}

@Suite("bpf(2) program commands", .kernel)
struct BPFProgramTests {
  static func passAttributes(name: String = "xdpkit_pass") -> ProgramLoadAttributes {
    ProgramLoadAttributes(type: .xdp, instructions: Assembler.passProgram, license: "GPL", name: name)
  }

  @Test("instructions encode as the kernel lays out struct bpf_insn")
  func encoding() {
    // r0 = 2: opcode 0xb7, dst r0, imm 2. exit: opcode 0x95.
    #expect(Assembler.move(0, 2) == 0x0000_0002_0000_00b7)
    #expect(Assembler.exit == 0x95)
    #expect(Assembler.move(3, -1) == 0xFFFF_FFFF_0000_03b7)
  }

  @Test("load r0 = XDP_PASS; exit and run it 100 times: retval 2, packet unchanged")
  func loadAndTestRun() throws {
    let program = try BPF.loadProgramCapturingLog(Self.passAttributes())
    let packet = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    var output = [UInt8](repeating: 0, count: 128)
    let result = try packet.withUnsafeBytes { data in
      try output.withUnsafeMutableBytes { out in
        try BPF.testRun(program: program, data: data, dataOut: out, repetitions: 100)
      }
    }
    #expect(result.returnValue == UInt32(XDP_PASS.rawValue))
    #expect(result.returnValue == 2)
    #expect(result.dataSizeOut == packet.count)
    #expect(Array(output.prefix(packet.count)) == packet)

    // Without an output buffer the size is still reported.
    let bare = try packet.withUnsafeBytes { data in
      try BPF.testRun(program: program, data: data)
    }
    #expect(bare.returnValue == 2)
    #expect(bare.dataSizeOut == packet.count)

    // An output buffer that is too small: ENOSPC.
    var small = [UInt8](repeating: 0, count: 8)
    let refused = #expect(throws: SyscallError.self) {
      _ = try packet.withUnsafeBytes { data in
        try small.withUnsafeMutableBytes { out in
          try BPF.testRun(program: program, data: data, dataOut: out)
        }
      }
    }
    #expect(refused?.errno == .noSpace)
    #expect(refused?.command == .programTestRun)
  }

  @Test("the verifier's refusal carries its log: R0 !read_ok")
  func verifierRejection() throws {
    let attributes = ProgramLoadAttributes(
      type: .xdp, instructions: Assembler.uninitializedReturn, license: "GPL", name: "xdpkit_bad")
    let error = #expect(throws: ProgramLoadError.self) {
      _ = try BPF.loadProgramCapturingLog(attributes)
    }
    #expect(error?.syscall.command == .programLoad)
    #expect(error?.syscall.errno == .permissionDenied)
    #expect(error?.verifierLog.contains("R0 !read_ok") == true)
    #expect(error?.isLogTruncated == false)
    #expect(error.map { "\($0)" }?.contains("BPF_PROG_LOAD failed") == true)
  }

  @Test("a log buffer that is too small: ENOSPC, and log_true_size says what fits")
  func logTrueSize() throws {
    let attributes = ProgramLoadAttributes(
      type: .xdp, instructions: Assembler.uninitializedReturn, license: "GPL")
    let small = UnsafeMutableRawBufferPointer.allocate(byteCount: 128, alignment: 8)
    defer { small.deallocate() }
    small.initializeMemory(as: UInt8.self, repeating: 0)
    let first = BPF.loadProgram(attributes, log: BPFLogBuffer(level: .verbose, buffer: small))
    #expect(first.result.errno == .noSpace)
    guard SystemInfo.kernelVersion().map({ $0 >= KernelVersion(major: 6, minor: 4) }) == true else {
      return
    }
    let needed = try #require(first.logTrueSize)
    #expect(needed > 128)

    let exact = UnsafeMutableRawBufferPointer.allocate(byteCount: needed, alignment: 8)
    defer { exact.deallocate() }
    exact.initializeMemory(as: UInt8.self, repeating: 0)
    let second = BPF.loadProgram(attributes, log: BPFLogBuffer(level: .verbose, buffer: exact))
    #expect(second.result.errno == .permissionDenied)
    #expect(second.logTrueSize == needed)
    let log = BPF.decodeCString(UnsafeRawBufferPointer(exact))
    #expect(log.utf8.count + 1 == needed)
    #expect(log.contains("R0 !read_ok"))
  }

  @Test("a log larger than the first buffer is captured whole")
  func largeLog() throws {
    // 6000 moves, then exit with r0 unset: at the verbose level every instruction is logged,
    // far more than the first 64 KiB buffer holds.
    let instructions = [UInt64](repeating: Assembler.move(1, 1), count: 6000) + [Assembler.exit]
    let attributes = ProgramLoadAttributes(
      type: .xdp, instructions: instructions, license: "GPL", name: "xdpkit_biglog")
    let error = #expect(throws: ProgramLoadError.self) {
      _ = try BPF.loadProgramCapturingLog(attributes, logLevel: .verbose)
    }
    #expect(error?.syscall.errno == .permissionDenied)
    #expect(error?.isLogTruncated == false)
    #expect((error?.verifierLog.utf8.count ?? 0) > BPF.initialLogBufferSize)
    #expect(error?.verifierLog.contains("6000: (95) exit") == true)
    #expect(error?.verifierLog.contains("R0 !read_ok") == true)
  }

  @Test("a successful load with a log requested still returns the program")
  func loadWithLog() throws {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
    defer { buffer.deallocate() }
    buffer.initializeMemory(as: UInt8.self, repeating: 0)
    let attempt = BPF.loadProgram(
      Self.passAttributes(), log: BPFLogBuffer(level: [.basic, .statistics], buffer: buffer))
    let program = try attempt.result.get()
    #expect(try BPF.programInfo(program).type == .xdp)
    #expect(BPF.decodeCString(UnsafeRawBufferPointer(buffer)).contains("processed"))
  }

  @Test("program info: type, name, sizes, tag, map ids; ids iterate and reopen")
  func infoAndIDs() throws {
    let program = try BPF.loadProgramCapturingLog(Self.passAttributes(name: "xdpkit_info"))
    let info = try BPF.programInfo(program)
    #expect(info.type == .xdp)
    #expect(info.name == "xdpkit_info")
    #expect(info.id > 0)
    #expect(info.translatedSize == 2 * 8)
    #expect(info.jitedSize > 0)
    #expect(info.tag.count == 8)
    #expect(info.tagString.count == 16)
    #expect(info.tag != [UInt8](repeating: 0, count: 8))
    #expect(info.mapIDs.isEmpty)
    #expect(info.isGPLCompatible)
    #expect(info.createdByUID == getuid())

    #expect(try BPF.allProgramIDs().contains(info.id))
    #expect(try BPF.nextProgramID(after: info.id - 1).map { $0 <= info.id } == true)

    let reopened = try BPF.openProgram(id: info.id)
    #expect(reopened.rawValue != program.rawValue)
    let again = try BPF.programInfo(reopened)
    #expect(again.id == info.id)
    #expect(again.tag == info.tag)
    #expect(again.name == info.name)
    #expect(again.loadTime == info.loadTime)
  }

  @Test("a program that uses a map reports its id; the map reopens by id")
  func programWithMap() throws {
    let map = try BPF.createMap(
      MapCreateAttributes(type: .array, keySize: 4, valueSize: 8, maxEntries: 1, name: "xdpkit_used"))
    let mapID = try BPF.mapInfo(map).id
    let instructions = Assembler.loadMap(1, map) + Assembler.passProgram
    let program = try BPF.loadProgramCapturingLog(
      ProgramLoadAttributes(type: .xdp, instructions: instructions, license: "Dual BSD/GPL", name: "xdpkit_map"))
    let info = try BPF.programInfo(program)
    #expect(info.mapIDs == [mapID])
    #expect(info.translatedSize == instructions.count * 8)

    #expect(try BPF.allMapIDs().contains(mapID))
    let reopened = try BPF.openMap(id: mapID)
    try update(reopened, UInt32(0), UInt64(77)).get()
    #expect(try lookup(map, UInt32(0), as: UInt64.self).get() == 77)
    #expect(try BPF.mapInfo(reopened) == BPF.mapInfo(map))

    let readOnly = try BPF.openMap(id: mapID, access: .readOnly)
    #expect(try lookup(readOnly, UInt32(0), as: UInt64.self).get() == 77)
    #expect(update(readOnly, UInt32(0), UInt64(1)).errno == .notPermitted)
  }

  @Test("ids that do not exist: ENOENT")
  func missingIDs() throws {
    let program = #expect(throws: SyscallError.self) { _ = try BPF.openProgram(id: .max) }
    #expect(program?.errno == .noSuchFileOrDirectory)
    #expect(program?.command == .programGetFDByID)
    let map = #expect(throws: SyscallError.self) { _ = try BPF.openMap(id: .max) }
    #expect(map?.errno == .noSuchFileOrDirectory)
    #expect(map?.command == .mapGetFDByID)
    let link = #expect(throws: SyscallError.self) { _ = try BPF.openLink(id: .max) }
    #expect(link?.errno == .noSuchFileOrDirectory)
    #expect(link?.command == .linkGetFDByID)
    let btf = #expect(throws: SyscallError.self) { _ = try BPF.openBTF(id: .max) }
    #expect(btf?.errno == .noSuchFileOrDirectory)
    #expect(btf?.command == .btfGetFDByID)
    #expect(try BPF.nextProgramID(after: UInt32.max) == nil)
    #expect(try BPF.nextMapID(after: UInt32(Int32.max) - 1) == nil)
  }

  @Test("a link to an interface that does not exist fails and names BPF_LINK_CREATE")
  func linkToMissingInterface() throws {
    let program = try BPF.loadProgramCapturingLog(Self.passAttributes(name: "xdpkit_nolink"))
    let error = #expect(throws: SyscallError.self) {
      _ = try BPF.createLink(program: program, target: .interface(index: 0x7FFF_FF00), attachType: .xdp)
    }
    #expect(error?.command == .linkCreate)
    #expect(error?.errno == .invalidArgument || error?.errno == .operationNotSupportedByDevice)
  }
}

/// The log-capture policy, driven with scripted attempts: what a kernel does not produce on
/// demand.
@Suite("Verifier log capture policy")
struct LogCapturePolicyTests {
  @Test("a log that outgrows the largest buffer keeps the unlogged attempt's error, marked truncated")
  func truncatedLogKeepsTheRealError() {
    var sizes: [Int] = []
    let outcome = BPF.captureLog(level: .basic) { log in
      guard let log else {
        return BPFLoadAttempt(result: .failure(SyscallError(command: .programLoad, errno: .argListTooLong)), logTrueSize: nil)
      }
      sizes.append(log.buffer.count)
      return BPFLoadAttempt(result: .failure(SyscallError(command: .programLoad, errno: .noSpace)), logTrueSize: nil)
    }
    guard case .failure(let failure) = outcome else {
      Issue.record("a load that always fails succeeded")
      return
    }
    #expect(failure.error.errno == .argListTooLong)
    #expect(failure.truncated)
    // 64 KiB, then four times as large each time, up to 16 MiB.
    #expect(sizes == [1 << 16, 1 << 18, 1 << 20, 1 << 22, 1 << 24])
  }
}
