import Testing
import XDPKitSys

/// The reason a verifier rejection is summarised with: the log's last lines after the last
/// instruction, without the statistics.
@Suite("Verifier log: the reason line")
struct VerifierReasonTests {
  static func error(_ log: String) -> ProgramLoadError {
    ProgramLoadError(syscall: SyscallError(command: .programLoad, errno: .permissionDenied), verifierLog: log)
  }

  @Test("an unchecked packet access: the two lines after the failing instruction")
  func packetAccess() {
    let log = """
      0: R1=ctx() R10=fp0
      ; unsigned char *data = (unsigned char *)(long)ctx->data; @ verifier_reject.c:10
      0: (61) r1 = *(u32 *)(r1 +0)          ; R1=pkt(r=0)
      ; return data[0] == 0xff ? XDP_DROP : XDP_PASS; @ verifier_reject.c:11
      1: (71) r1 = *(u8 *)(r1 +0)
      invalid access to packet, off=0 size=1, R1(id=0,off=0,r=0)
      R1 offset is outside of the packet
      processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0

      """
    let failure = Self.error(log)
    #expect(failure.verifierReason == "invalid access to packet, off=0 size=1, R1(id=0,off=0,r=0); R1 offset is outside of the packet")
    let description = failure.description
    #expect(description.hasPrefix(
      "the verifier rejected the program: invalid access to packet, off=0 size=1, R1(id=0,off=0,r=0); "
        + "R1 offset is outside of the packet (BPF_PROG_LOAD failed: Permission denied (errno 13))\nverifier log:\n0: R1=ctx()"))
  }

  @Test("a one-line reason, statistics lines of several kinds skipped")
  func oneLine() {
    let log = "0: (b7) r0 = 0\n1: (95) exit\nR0 !read_ok\nprocessed 2 insns (limit 1000000)\nverification time 12 usec\nstack depth 0\n"
    #expect(Self.error(log).verifierReason == "R0 !read_ok")
    #expect(Self.error("unknown opcode 8d\n").verifierReason == "unknown opcode 8d")
  }

  @Test("no log, or a log of instructions only: no reason, the call is the message")
  func none() {
    #expect(Self.error("").verifierReason == nil)
    #expect(Self.error("").description == "BPF_PROG_LOAD failed: Permission denied (errno 13)")
    #expect(Self.error("0: (b7) r0 = 0\nprocessed 1 insns\n").verifierReason == nil)
  }
}
