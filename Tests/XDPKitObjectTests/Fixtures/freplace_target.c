// SPDX-License-Identifier: GPL-2.0
// An XDP program whose verdict comes from a global (separately verified) function,
// decide(), which an freplace program can replace: see freplace_ext.c.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline))
int decide(struct xdp_md *ctx)
{
	return ctx ? XDP_PASS : XDP_ABORTED;
}

SEC("xdp")
int xdp_target(struct xdp_md *ctx)
{
	return decide(ctx);
}

char LICENSE[] SEC("license") = "GPL";
