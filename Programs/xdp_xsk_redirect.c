/* SPDX-License-Identifier: GPL-2.0
 *
 * xdp_xsk_redirect: the default program of XDPSocket. Every frame that arrives on a queue
 * with an AF_XDP socket in its XSKS slot goes to that socket; frames of the other queues, and
 * of a queue whose socket is gone, continue up the network stack (the XDP_PASS fallback in
 * the flags of bpf_redirect_map).
 *
 * Kernel: AF_XDP and XSKMAP 4.18+; the fallback action in the flags 5.3+.
 */
#include "include/xdpkit_bpf.h"

/* One slot per receive queue: the socket bound to that queue (Swift: XSKMap). */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} XSKS SEC(".maps");

SEC("xdp")
int xdp_xsk_redirect(struct xdp_md *ctx)
{
	return bpf_redirect_map(&XSKS, ctx->rx_queue_index, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
