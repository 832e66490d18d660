// SPDX-License-Identifier: GPL-2.0
// bpf-to-bpf calls. Two XDP programs share the "xdp" section and both call
// two subprograms in ".text": a global one (the kernel verifies it on its
// own; clang relocates calls to it against its symbol) and a static one
// (clang relocates calls to it against the ".text" section symbol and puts
// the callee's offset in the call's immediate). add_two is a subprogram that
// calls another subprogram, so ".text" has relocations of its own.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int add_one(int x)
{
	return x + 1;
}

static __attribute__((noinline)) int clamp_action(int x)
{
	if (x < XDP_ABORTED || x > XDP_REDIRECT)
		return XDP_ABORTED;
	return x;
}

static __attribute__((noinline)) int add_two(int x)
{
	return add_one(add_one(x));
}

SEC("xdp")
int xdp_first(struct xdp_md *ctx)
{
	int length = ctx->data_end - ctx->data;

	return clamp_action(add_one(length & 1));
}

SEC("xdp")
int xdp_second(struct xdp_md *ctx)
{
	int queue = ctx->rx_queue_index;

	return clamp_action(add_one(queue) + add_two(queue));
}

char LICENSE[] SEC("license") = "GPL";
