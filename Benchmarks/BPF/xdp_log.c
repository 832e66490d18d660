/* SPDX-License-Identifier: GPL-2.0
 *
 * xdp_log: the cost of logging one line per packet (Documentation/Benchmarks.md, "Program
 * logging"). Three programs with the same packet logic — parse Ethernet and IPv4, pass — and:
 *   log_none    no logging;
 *   log_info    xdpkit_info(ctx, "SRC: %pI4, ACTION: %u", ...), measured once with the level
 *               filter at warning (the call compiled in, removed by the verifier) and once
 *               at info (one record per packet);
 *   log_printk  the same line through bpf_trace_printk.
 * Built by Benchmarks/run.sh with -I ../Programs/include.
 */
#include "xdpkit_log.h"
#include <linux/if_ether.h>
#include <linux/ip.h>

static long (*bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *)6;

static __always_inline struct iphdr *ipv4(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end || eth->h_proto != xdpkit_htons(ETH_P_IP))
		return 0;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return 0;
	return ip;
}

SEC("xdp")
int log_none(struct xdp_md *ctx)
{
	struct iphdr *ip = ipv4(ctx);
	return ip ? XDP_PASS : XDP_ABORTED;
}

SEC("xdp")
int log_info(struct xdp_md *ctx)
{
	struct iphdr *ip = ipv4(ctx);
	if (!ip)
		return XDP_ABORTED;
	__u32 action = XDP_PASS;
	xdpkit_info(ctx, "SRC: %pI4, ACTION: %u", &ip->saddr, action);
	return action;
}

SEC("xdp")
int log_printk(struct xdp_md *ctx)
{
	struct iphdr *ip = ipv4(ctx);
	if (!ip)
		return XDP_ABORTED;
	__u32 action = XDP_PASS;
	static const char fmt[] = "SRC: %pI4, ACTION: %u\n";
	bpf_trace_printk(fmt, sizeof(fmt), &ip->saddr, action);
	return action;
}

char LICENSE[] SEC("license") = "GPL";
