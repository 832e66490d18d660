import Testing
import XDPBlockCore
import XDPKit

/// What xdp-block records and says about a firewall behind a multi-program dispatcher: the
/// state record's hook, and the errors of dispatchers it cannot join.
@Suite("xdp-block dispatcher records and messages")
struct DispatcherMessageTests {
  @Test("the record names the hook; a record without one is a link, a half-written one is refused")
  func recordHook() throws {
    let record = StateRecord(
      interfaceIndex: 5, interfaceName: "veth0", namespaceInode: 4026532288, configuration: FirewallConfiguration(),
      hook: .dispatcher(dispatcherID: 40, programID: 42))
    #expect(record.text == "xdp-block-state-v1 ifindex=5 ifname=veth0 netns-inode=4026532288 events=0 hook=dispatcher dispatcher-id=40 program-id=42")
    #expect(StateRecord(text: record.text) == record)
    let link = try #require(StateRecord(text: "xdp-block-state-v1 ifindex=5 ifname=veth0 netns-inode=7 events=1"))
    #expect(link.hook == .link)
    #expect(StateRecord(text: "xdp-block-state-v1 ifindex=5 ifname=veth0 netns-inode=7 events=0 hook=dispatcher dispatcher-id=40") == nil)
    #expect(StateRecord(text: "xdp-block-state-v1 ifindex=5 ifname=veth0 netns-inode=7 events=0 hook=tc") == nil)
  }

  @Test("dispatchers xdp-block cannot join: what and what to do")
  func dispatcherErrors() {
    let older = XDPBlockError.dispatcher(.olderDispatcher(programID: 40, version: 1), interface: "veth0 (netns blue)")
    #expect(older.report == """
      error: the multi-program dispatcher on veth0 (netns blue): dispatcher 40 speaks protocol version 1; XDPKit lists its programs but does not replace an older dispatcher (unload its programs first)
      hint: `xdp-loader status` lists its programs; `xdp-loader unload` removes them
      """)
    let newer = XDPBlockError.dispatcher(.newerDispatcher(programID: 40, version: 3, supported: 2), interface: "veth0")
    #expect(newer.description == "the multi-program dispatcher on veth0: dispatcher 40 speaks protocol version 3; XDPKit supports up to 2 and will not touch it")
    let mode = XDPBlockError.dispatcher(.modeMismatch(requested: .native, attached: .generic), interface: "veth0")
    #expect(mode.report == """
      error: the multi-program dispatcher on veth0: the dispatcher is attached in generic mode, not native
      hint: attach with --mode generic, or without --mode
      """)
    // Another user's $LIBXDP_BPFFS/xdp: the hint names it and --direct.
    let pins = XDPBlockError.dispatcher(
      .pins(.untrustedOwner(path: "/sys/fs/bpf/xdp", owner: 1001, effectiveUser: 0)), interface: "veth0")
    #expect(pins.report == """
      error: the multi-program dispatcher on veth0: dispatcher pins: /sys/fs/bpf/xdp: owned by uid 1001, not by uid 0; refusing to trust it
      hint: /sys/fs/bpf/xdp holds the pins of every multi-program dispatcher (libxdp's protocol): if no loader of yours made it, remove it (another user may have, to stop you); or attach with --direct to use a bpf_link of xdp-block's own instead
      """)
  }

  @Test("the stale-state problem names the program and what runs now")
  func leftDispatcher() {
    let problem = StateProblem.leftDispatcher(programID: 42, interface: "veth0", now: "no XDP program")
    #expect(problem.description == "its program id 42 is no longer one of the XDP programs on veth0 (now no XDP program); another loader removed it (xdp-loader unload?)")
    #expect(XDPInterfacePrograms.single(id: 7, name: "xdp_pass", mode: .native).wording == "program xdp_pass (id 7) alone")
  }
}
