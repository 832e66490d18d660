/* SPDX-License-Identifier: GPL-2.0
 *
 * The firewall of the aya book, in C for XDPKit: drops IPv4 packets whose source address is in
 * BLOCKLIST (keys in host byte order) and logs every IPv4 packet with its verdict.
 */
#include "xdpkit_log.h"
#include <linux/if_ether.h>
#include <linux/ip.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1024);
} BLOCKLIST SEC(".maps");

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto != xdpkit_htons(ETH_P_IP))
		return XDP_PASS;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return XDP_PASS;

	__u32 source = xdpkit_ntohl(ip->saddr);
	__u32 action = bpf_map_lookup_elem(&BLOCKLIST, &source) ? XDP_DROP : XDP_PASS;
	xdpkit_info(ctx, "SRC: %pI4, ACTION: %u", &ip->saddr, action);
	return action;
}

char LICENSE[] SEC("license") = "GPL";
