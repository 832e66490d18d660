/* SPDX-License-Identifier: GPL-2.0
 *
 * xdp_dispatcher: runs up to ten XDP programs in turn on one interface, in the multi-program
 * protocol that libxdp and xdp-tools speak (version 2). XDPKit fills `conf` before loading;
 * each component program is loaded as an extension (freplace) of one of the stubs prog0 ...
 * prog9. After a stub returns, the dispatcher goes on to the next one when the returned
 * action's bit is set in that slot's chain-call mask, and otherwise returns the action.
 *
 * Facts of the protocol kept here: the program is named xdp_dispatcher; `conf` is the only
 * global data (one read-only .rodata map) and starts with magic 236 and version 2; a stub
 * returns 31, a value no component returns and every mask contains, so an empty slot
 * continues; the xdp_metadata section carries the version as the length of an array.
 *
 * Kernel: freplace of XDP programs needs 5.10 (re-attaching an extension to a new dispatcher).
 */
#include "include/xdpkit_bpf.h"

#define XDPKIT_DISPATCHER_VERSION 2
#define XDPKIT_DISPATCHER_SLOTS 10
#define XDPKIT_STUB_VERDICT 31

struct xdpkit_dispatcher_config {
	__u8 magic;
	__u8 dispatcher_version;
	__u8 num_progs_enabled;
	__u8 is_xdp_frags;
	__u32 chain_call_actions[XDPKIT_DISPATCHER_SLOTS];
	__u32 run_prios[XDPKIT_DISPATCHER_SLOTS];
	__u32 program_flags[XDPKIT_DISPATCHER_SLOTS];
};

/* const: in .rodata, frozen after the loader writes it, so the verifier prunes unused slots.
 * volatile: the compiler must read it at run time rather than fold the zeros below. */
const volatile struct xdpkit_dispatcher_config conf = {};

/* A slot: a global function of its own, replaced by a component through freplace. The
 * volatile verdict keeps the compiler from inlining the constant into the caller. */
#define XDPKIT_SLOT(n)                                                     \
	__noinline int prog##n(struct xdp_md *ctx)                         \
	{                                                                  \
		volatile int verdict = XDPKIT_STUB_VERDICT;                \
		if (!ctx)                                                  \
			return XDP_ABORTED;                                \
		return verdict;                                            \
	}

XDPKIT_SLOT(0)
XDPKIT_SLOT(1)
XDPKIT_SLOT(2)
XDPKIT_SLOT(3)
XDPKIT_SLOT(4)
XDPKIT_SLOT(5)
XDPKIT_SLOT(6)
XDPKIT_SLOT(7)
XDPKIT_SLOT(8)
XDPKIT_SLOT(9)

/* Runs slot n when it is enabled; returns from the dispatcher unless its verdict chains.
 * `enabled` is read once: the verifier knows its value (frozen .rodata) and drops every test of
 * it with the slots after the last, where a re-read per slot left one load per slot run. */
#define XDPKIT_RUN(n)                                                      \
	if (enabled <= n)                                                  \
		return XDP_PASS;                                           \
	verdict = prog##n(ctx);                                            \
	if (!((1U << (verdict & 31)) & conf.chain_call_actions[n]))       \
		return verdict;

SEC("xdp")
int xdp_dispatcher(struct xdp_md *ctx)
{
	__u8 enabled = conf.num_progs_enabled;
	int verdict;

	XDPKIT_RUN(0)
	XDPKIT_RUN(1)
	XDPKIT_RUN(2)
	XDPKIT_RUN(3)
	XDPKIT_RUN(4)
	XDPKIT_RUN(5)
	XDPKIT_RUN(6)
	XDPKIT_RUN(7)
	XDPKIT_RUN(8)
	XDPKIT_RUN(9)
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

/* The protocol version, for readers that check BTF: a pointer to an array of that length. */
__uint(dispatcher_version, XDPKIT_DISPATCHER_VERSION) SEC("xdp_metadata");
