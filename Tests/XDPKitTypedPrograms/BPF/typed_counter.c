/* SPDX-License-Identifier: GPL-2.0
 *
 * typed_counter: counts packets per source address, from a target that depends on XDPKit, so
 * BPFCompilerPlugin generates its typed API (TypedCounter) as it does for a user's package.
 */
#include "xdpkit_bpf.h"

struct counter {
	__u64 packets;
	__u32 last_length;
	__u8 flags; /* then 3 bytes of tail padding */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct counter);
} COUNTERS SEC(".maps");

const volatile __u32 verdict = XDP_PASS;
__u64 total_packets;

SEC("xdp")
int count_by_ingress(struct xdp_md *ctx)
{
	__u32 key = ctx->ingress_ifindex;
	struct counter *c = bpf_map_lookup_elem(&COUNTERS, &key);
	if (c) {
		c->packets++;
		c->last_length = ctx->data_end - ctx->data;
		c->flags |= 1;
	}
	total_packets++;
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
