// SPDX-License-Identifier: GPL-2.0
// A dispatcher of version 1 of libxdp's multi-program protocol, for the reading tests
// (Tests/XDPKitTests/MultiProgramTests): the version 1 configuration (no magic, no version,
// no frags fields: 84 bytes) and dispatcher_version 1 in the xdp_metadata BTF. One slot is
// enough; the tests install it with no programs enabled.
#include "../../../Programs/include/xdpkit_bpf.h"

struct dispatcher_config_v1 {
	__u8 num_progs_enabled;
	__u32 chain_call_actions[10];
	__u32 run_prios[10];
};

const volatile struct dispatcher_config_v1 conf = {};

__noinline int prog0(struct xdp_md *ctx)
{
	volatile int verdict = 31;

	if (!ctx)
		return XDP_ABORTED;
	return verdict;
}

SEC("xdp")
int xdp_dispatcher(struct xdp_md *ctx)
{
	int verdict;

	if (conf.num_progs_enabled < 1)
		return XDP_PASS;
	verdict = prog0(ctx);
	if (!((1U << (verdict & 31)) & conf.chain_call_actions[0]))
		return verdict;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

__uint(dispatcher_version, 1) SEC("xdp_metadata");
