// SPDX-License-Identifier: GPL-2.0
// The "seeds" firewall with legacy map definitions: fixed 20-byte records in
// the "maps" section, one per map, found through their symbols. The reader
// infers the record size from the symbol size.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

// The historical libbpf/samples layout; declared here because libbpf >= 1.0
// headers no longer provide it.
struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

_Static_assert(sizeof(struct bpf_map_def) == 20, "legacy record is 5 x u32");

struct bpf_map_def BLOCKLIST SEC("maps") = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u32),
	.max_entries = 1024,
};

// Index is the XDP action: 1 = XDP_DROP, 2 = XDP_PASS (0 and 3 unused).
struct bpf_map_def STATS SEC("maps") = {
	.type = BPF_MAP_TYPE_PERCPU_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 4,
};

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
