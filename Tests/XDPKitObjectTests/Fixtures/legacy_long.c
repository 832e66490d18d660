// SPDX-License-Identifier: GPL-2.0
// Legacy "maps" section with the longer 28-byte record used by iproute2 and
// aya (bpf_elf_map without the inner-map fields): type, key_size, value_size,
// max_entries, map_flags, id, pinning. All records in the section share one
// size, so this layout lives in its own object.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def_long {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
	unsigned int id;
	unsigned int pinning;
};

_Static_assert(sizeof(struct bpf_map_def_long) == 28, "long record is 7 x u32");

// pinning: 0 = none, 1 = object namespace, 2 = global namespace (iproute2's
// PIN_GLOBAL_NS); aya treats 1 as "by name".
struct bpf_map_def_long COUNTERS SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 2,
};

struct bpf_map_def_long PINNED SEC("maps") = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u32),
	.max_entries = 64,
	.map_flags = BPF_F_NO_PREALLOC,
	.id = 5,
	.pinning = 2,
};

SEC("xdp")
int xdp_long_maps(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *hits = bpf_map_lookup_elem(&COUNTERS, &key);

	if (hits)
		*hits += 1;
	if (bpf_map_lookup_elem(&PINNED, &key))
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
