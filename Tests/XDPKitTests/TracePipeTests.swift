import Glibc
import Testing
import XDPKit
import XDPKitTestSupport

@Suite("bpf_printk trace pipe")
struct TracePipeTests {
  @Test("a line written by a test-run program arrives with its message", .kernel)
  func printkLine() async throws {
    let loaded = try LogFixture.object().load()
    let token = UInt32.random(in: 1...UInt32.max)
    try loaded.setGlobal("token", to: token)
    guard TracePipe.directories.contains(where: { access($0 + "/trace_pipe", F_OK) == 0 }) else {
      // tracefs is not mounted (.ci/setup mounts it): XDPKit says so, naming where it looked.
      #expect(throws: TracePipeError.notMounted(searched: TracePipe.directories)) { try TracePipe.lines() }
      return
    }
    let lines = try TracePipe.lines()
    #expect(try loaded.program("printk_token").testRun(packet: LogFixture.packet).action == .pass)
    let expected = "xdpkit trace pipe test \(token)"
    let found = await withTaskGroup(of: TracePipeLine?.self) { group in
      group.addTask {
        for await line in lines where line.message == expected { return line }
        return nil
      }
      group.addTask {
        try? await Task.sleep(for: .seconds(10))
        return nil
      }
      let first = await group.next() ?? nil
      group.cancelAll()
      return first
    }
    let line = try #require(found, "no trace_pipe line \"\(expected)\"")
    #expect(line.text.contains("bpf_trace_printk: \(expected)"))
  }

  @Test("a trace line splits into its text and its bpf_printk message")
  func parse() {
    let line = TracePipeLine("          <idle>-0       [001] d.s21  1234.567890: bpf_trace_printk: SRC: 192.0.2.1")
    #expect(line.message == "SRC: 192.0.2.1")
    #expect(TracePipeLine("  sh-1 [000] ..... 1.0: sched_switch: prev=a").message == nil)
  }
}
