// SPDX-License-Identifier: GPL-2.0
// An array map created with BPF_F_MMAPABLE, which user space reads and changes through its
// mmapped values, next to a plain array, which has no such access. Every run adds 1 to
// COUNTERS[1] (atomically: user space adds to it at the same time) and copies COUNTERS[2]
// into PLAIN[0].
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
	__uint(map_flags, BPF_F_MMAPABLE);
} COUNTERS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} PLAIN SEC(".maps");

SEC("xdp")
int xdp_mmap_count(struct xdp_md *ctx)
{
	__u32 one = 1, two = 2, zero = 0;
	__u64 *counter = bpf_map_lookup_elem(&COUNTERS, &one);
	__u64 *source = bpf_map_lookup_elem(&COUNTERS, &two);
	__u64 *copy = bpf_map_lookup_elem(&PLAIN, &zero);

	if (counter)
		__sync_fetch_and_add(counter, 1);
	if (source && copy)
		*copy = *source;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
