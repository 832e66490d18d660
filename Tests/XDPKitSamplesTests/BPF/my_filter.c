/* SPDX-License-Identifier: GPL-2.0
 *
 * my_filter: the program of WritingPrograms.md ("Writing the C", "Record types"), compiled by
 * BPFCompilerPlugin into the typed MyFilter that the article's Swift samples use.
 */
#include "xdpkit_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1024);
	__uint(pinning, PIN_BY_NAME);        /* reused across loads with LoadOptions.pinDirectory */
} COUNTS SEC(".maps");

const volatile __u32 threshold = 10;     /* MyFilter.load { $0.threshold = … } */

enum verdict {
	VERDICT_PASS = 0,
	VERDICT_DROP = 1,
};

struct event {
	__u64 timestamp_ns;
	enum verdict verdict : 8;     /* an 8-bit field of an enum: a typed Swift property */
	__u32 length;
};

struct {
	__records(BPF_MAP_TYPE_RINGBUF, struct event);   /* the map type, and its records */
	__uint(max_entries, 256 * 1024);
} EVENTS SEC(".maps");

SEC("xdp")
int count_packets(struct xdp_md *ctx)
{
	__u32 key = ctx->ingress_ifindex;
	__u64 *n = bpf_map_lookup_elem(&COUNTS, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	__u32 length = ctx->data_end - ctx->data;
	if (length > threshold) {
		struct event e = {
			.timestamp_ns = bpf_ktime_get_ns(),
			.verdict = VERDICT_PASS,
			.length = length,
		};
		bpf_ringbuf_output(&EVENTS, &e, sizeof(e), 0);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
