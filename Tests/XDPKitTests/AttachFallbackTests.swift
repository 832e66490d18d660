import Logging
import SystemPackage
import Testing
import XDPKit
import XDPKitSys
import XDPKitTestSupport

/// ``XDPAttachMethod/auto`` on a kernel without XDP links. The test kernel has them, so the
/// kernel's answer of an older one (BPF_LINK_CREATE: `EINVAL`) is injected in the syscall layer,
/// for this test's task only.
@Suite("Attach method auto: bpf_link, else netlink", .kernel)
struct AttachFallbackTests {
  @Test("this kernel has XDP links: the probe creates nothing and says so")
  func probeOnThisKernel() throws {
    #expect(try BPF.supportsXDPLinks() == true)
    let injected = try SyscallFaults.$injected.withValue([.linkCreate: .invalidArgument]) {
      try BPF.supportsXDPLinks()
    }
    #expect(injected == false)
  }

  @Test("with XDP links, auto attaches through a link")
  func autoUsesLinks() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let loaded = try TestFixtures.object("xdp_pass").load()
    try network.withNamespace(.b) {
      let veth = NetworkInterface.name(network.interfaceB)
      let link = try loaded.xdpProgram("xdp_pass").attach(to: veth, mode: .generic)
      #expect(link.isLink)
      try link.detach()
      #expect(try XDP.attachment(on: veth).mode == .notAttached)
    }
  }

  @Test("without XDP links, auto falls back to netlink, says so once, and detaches cleanly; link refuses")
  func autoFallsBackToNetlink() throws {
    let network = try TestNetwork()
    defer { network.destroy() }
    let loaded = try TestFixtures.object("xdp_pass").load()
    let id = try loaded.program("xdp_pass").id
    let logs = CapturedLogs()
    try network.withNamespace(.b) {
      let veth = NetworkInterface.name(network.interfaceB)
      let program = try loaded.xdpProgram("xdp_pass")
      try SyscallFaults.$injected.withValue([.linkCreate: .invalidArgument]) {
        // .link has no fallback: the kernel's EINVAL in native mode reads as "mode not supported".
        #expect {
          try program.attach(to: veth, mode: .native, method: .link)
        } throws: { error in
          guard case AttachError.modeNotSupported(.native, _, _) = error else { return false }
          return true
        }
        #expect(try XDP.attachment(on: veth).mode == .notAttached)

        for round in 0..<2 {
          let attached = try program.attach(to: veth, mode: .generic, logger: logs.logger())
          #expect(!attached.isLink)
          #expect(attached.mode == .generic)
          let state = try XDP.attachment(on: veth)
          #expect(state.mode == .generic)
          #expect(state.genericProgramID == id)
          let notices = logs.all.filter { $0.level == .notice && $0.message.contains("no XDP links") }
          #expect(notices.count == 1, "round \(round): \(logs.all)")
          try attached.detach()
          #expect(try XDP.attachment(on: veth).mode == .notAttached)
        }
      }
    }
  }
}
