// SPDX-License-Identifier: GPL-2.0
// Functions laid out depth first. xdp_order calls first_level and then last_call, and
// first_level calls nested: libbpf lays them out xdp_order, first_level, nested, last_call
// (each callee right after everything its caller's earlier callees call). A linker that
// placed callees in the order it met them, breadth first, would put last_call before
// nested: the same program with other instructions, and another tag.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int nested(int x)
{
	return x ^ 3;
}

static __attribute__((noinline)) int first_level(int x)
{
	return nested(x) + 1;
}

static __attribute__((noinline)) int last_call(int x)
{
	return x & 1;
}

SEC("xdp")
int xdp_order(struct xdp_md *ctx)
{
	int queue = ctx->rx_queue_index;

	return last_call(first_level(queue)) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
