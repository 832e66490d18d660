// SPDX-License-Identifier: GPL-2.0
// The "seeds" firewall with BTF-defined maps in the ".maps" section.
// Drops IPv4 packets whose source address (host byte order) is a key of
// BLOCKLIST; counts every verdict in STATS, indexed by the XDP action.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1024);
} BLOCKLIST SEC(".maps");

// Index is the XDP action: 1 = XDP_DROP, 2 = XDP_PASS (0 and 3 unused).
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} STATS SEC(".maps");

static __always_inline __u32 verdict(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u32 source;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;

	source = bpf_ntohl(ip->saddr);
	if (bpf_map_lookup_elem(&BLOCKLIST, &source))
		return XDP_DROP;
	return XDP_PASS;
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
	__u32 action = verdict(ctx);
	__u64 *slot = bpf_map_lookup_elem(&STATS, &action);

	if (slot)
		*slot += 1;
	return action;
}

char LICENSE[] SEC("license") = "GPL";
