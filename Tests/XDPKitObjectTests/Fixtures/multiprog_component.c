// SPDX-License-Identifier: GPL-2.0
// A program to run behind the multi-program dispatcher (Tests/XDPKitTests/MultiProgramTests).
// Each load is one component: `mark` (a letter) and `verdict` are set per load. It writes its
// mark into the first zero byte of the 8 bytes after the UDP header of an untagged IPv4
// frame, so a test run of the dispatcher shows which components ran and in which order, and
// counts its runs in `runs`.
// xdp_mark declares a run configuration (priority 20, chain on XDP_PASS and XDP_DROP);
// xdp_plain declares none (priority 50, chain on XDP_PASS); xdp_frags is xdp_plain in the
// xdp.frags section (it supports multi-buffer packets).
#include "../../../Programs/include/xdpkit_bpf.h"

const volatile __u8 mark = 'A';
const volatile __u32 verdict = XDP_PASS;
__u64 runs = 0;

static __always_inline int mark_packet(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *trail = (__u8 *)data + 42;

	__sync_fetch_and_add(&runs, 1);
	if ((void *)(trail + 8) > end)
		return verdict;
	for (int i = 0; i < 8; i++) {
		if (trail[i] == 0) {
			trail[i] = mark;
			break;
		}
	}
	return verdict;
}

SEC("xdp")
int xdp_mark(struct xdp_md *ctx)
{
	return mark_packet(ctx);
}

struct {
	__uint(priority, 20);
	__uint(XDP_PASS, 1);
	__uint(XDP_DROP, 1);
} XDP_RUN_CONFIG(xdp_mark);

SEC("xdp")
int xdp_plain(struct xdp_md *ctx)
{
	return mark_packet(ctx);
}

SEC("xdp.frags")
int xdp_frags(struct xdp_md *ctx)
{
	return mark_packet(ctx);
}

char LICENSE[] SEC("license") = "GPL";
