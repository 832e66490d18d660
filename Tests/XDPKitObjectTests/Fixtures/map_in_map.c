// SPDX-License-Identifier: GPL-2.0
// BTF-defined maps beyond key/value/max_entries: map-in-map and program
// array with static initial contents (relocations in ".rel.maps"), absent
// max_entries, pinning, flags, LPM trie, ring buffer, bloom filter with
// map_extra and numa_node.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// The inner map's definition doubles as the template of the outer maps.
struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 8);
};

struct inner_map INNER SEC(".maps");

// Slot 1 (not 0) holds INNER when the object is loaded.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 4);
	__array(values, struct inner_map);
} OUTER SEC(".maps") = {
	.values = { [1] = &INNER },
};

// No initial contents: only the inner template.
struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 2);
	__array(values, struct inner_map);
} OUTER_HASH SEC(".maps");

SEC("xdp")
int xdp_tail_target(struct xdp_md *ctx)
{
	return XDP_TX;
}

// Slot 2 holds xdp_tail_target when the object is loaded. The key is given
// as key_size, not as a BTF type: the kernel rejects BTF key/value types for
// program arrays. value_size is implied by "values" (4, a program fd).
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(max_entries, 4);
	__array(values, int (void *));
} JUMP_TABLE SEC(".maps") = {
	.values = { [2] = (void *)&xdp_tail_target },
};

// max_entries left out: it is 0 in BTF and must be set before creation.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
} DYNAMIC SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 16);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} PINNED SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, __u64);
	__uint(max_entries, 128);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} SPARSE SEC(".maps");

struct lpm_v4_key {
	__u32 prefixlen;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct lpm_v4_key);
	__type(value, __u32);
	__uint(max_entries, 256);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} PREFIXES SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096 * 4);
} EVENTS SEC(".maps");

// No key; map_extra is the number of hash functions. numa_node is present
// with the value 0 (distinct from absent).
struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__type(value, __u32);
	__uint(max_entries, 64);
	__uint(map_extra, 3);
	__uint(numa_node, 0);
} SEEN SEC(".maps");

SEC("xdp")
int xdp_maps(struct xdp_md *ctx)
{
	__u32 slot = 1, index = 0, value = 0;
	__u64 wide = 0, *count;
	struct lpm_v4_key prefix = { .prefixlen = 32, .addr = 0 };
	void *inner;
	__u32 *entry;

	inner = bpf_map_lookup_elem(&OUTER, &slot);
	if (inner) {
		entry = bpf_map_lookup_elem(inner, &index);
		if (entry)
			value = *entry;
	}
	inner = bpf_map_lookup_elem(&OUTER_HASH, &index);
	if (inner && bpf_map_lookup_elem(inner, &index))
		value += 1;
	count = bpf_map_lookup_elem(&DYNAMIC, &index);
	if (count)
		*count += 1;
	if (bpf_map_lookup_elem(&PINNED, &index))
		value += 2;
	if (bpf_map_lookup_elem(&SPARSE, &wide))
		value += 4;
	if (bpf_map_lookup_elem(&PREFIXES, &prefix))
		return XDP_DROP;
	if (bpf_map_peek_elem(&SEEN, &value) == 0)
		bpf_ringbuf_output(&EVENTS, &value, sizeof(value), 0);
	bpf_tail_call(ctx, &JUMP_TABLE, 2);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
