// SPDX-License-Identifier: GPL-2.0
// Map declarations that need the loader's fix-ups: local storage declared without
// BPF_F_NO_PREALLOC and with a max_entries, a ring buffer and a perf event array
// declared with key/value types (as libbpf and cilium/ebpf users write them).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__type(key, int);
	__type(value, __u64);
} SOCK_STATE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} TASK_STATE SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
	__type(key, int);
	__type(value, int);
} EVENTS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__type(key, int);
	__type(value, __u32);
} PERF SEC(".maps");

SEC("xdp")
int xdp_counts(struct xdp_md *ctx)
{
	__u64 *slot = bpf_ringbuf_reserve(&EVENTS, 8, 0);
	if (slot) {
		*slot = 1;
		bpf_ringbuf_submit(slot, 0);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
