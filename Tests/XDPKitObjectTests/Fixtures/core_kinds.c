// SPDX-License-Identifier: GPL-2.0
// CO-RE relocations of every kind of enum bpf_core_relo_kind, one XDP program
// per kind, against kernel types declared locally with preserve_access_index
// (so the offsets clang writes are deliberately NOT the kernel's). Each
// program writes what it computed into RESULTS[slot] and returns XDP_PASS.
// core_ctx reads xdp_md through a flavored local layout that differs from the
// kernel's: loaded with clang's offsets it would read data_end as data.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
	char pad[3];
	int pid;
	int tgid;
	char comm[4];
} __attribute__((preserve_access_index));

struct sk_buff {
	__u64 pad;
	__u8 pkt_type:3;
	__s64 tstamp;
} __attribute__((preserve_access_index));

struct xdp_md___local {
	__u32 data_end;
	__u32 pad;
	__u64 data;
} __attribute__((preserve_access_index));

enum xdp_action___local { XDP_REDIRECT___local = 40, XDPKIT_MISSING___local = 41 };

struct xdpkit_missing___local {
	int field;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} RESULTS SEC(".maps");

static __always_inline void put(__u32 slot, __u64 value)
{
	bpf_map_update_elem(&RESULTS, &slot, &value, BPF_ANY);
}

#define FIELD(type, field, kind) \
	__builtin_preserve_field_info(((type *)0)->field, kind)

SEC("xdp") int core_field_offset(struct xdp_md *ctx)
{ put(0, FIELD(struct task_struct, tgid, BPF_FIELD_BYTE_OFFSET)); return XDP_PASS; }

SEC("xdp") int core_field_size(struct xdp_md *ctx)
{ put(1, FIELD(struct task_struct, comm, BPF_FIELD_BYTE_SIZE)); return XDP_PASS; }

SEC("xdp") int core_field_exists(struct xdp_md *ctx)
{ put(2, FIELD(struct task_struct, pid, BPF_FIELD_EXISTS)); return XDP_PASS; }

SEC("xdp") int core_field_signed(struct xdp_md *ctx)
{ put(3, FIELD(struct task_struct, pid, BPF_FIELD_SIGNED)); return XDP_PASS; }

SEC("xdp") int core_field_lshift(struct xdp_md *ctx)
{ put(4, FIELD(struct sk_buff, pkt_type, BPF_FIELD_LSHIFT_U64)); return XDP_PASS; }

SEC("xdp") int core_field_rshift(struct xdp_md *ctx)
{ put(5, FIELD(struct sk_buff, pkt_type, BPF_FIELD_RSHIFT_U64)); return XDP_PASS; }

SEC("xdp") int core_type_id_local(struct xdp_md *ctx)
{ put(6, bpf_core_type_id_local(struct task_struct)); return XDP_PASS; }

SEC("xdp") int core_type_id_target(struct xdp_md *ctx)
{ put(7, bpf_core_type_id_kernel(struct task_struct)); return XDP_PASS; }

SEC("xdp") int core_type_exists(struct xdp_md *ctx)
{ put(8, bpf_core_type_exists(struct task_struct)); return XDP_PASS; }

SEC("xdp") int core_type_size(struct xdp_md *ctx)
{ put(9, bpf_core_type_size(struct task_struct)); return XDP_PASS; }

SEC("xdp") int core_enum_exists(struct xdp_md *ctx)
{ put(10, bpf_core_enum_value_exists(enum xdp_action___local, XDPKIT_MISSING___local)); return XDP_PASS; }

SEC("xdp") int core_enum_value(struct xdp_md *ctx)
{ put(11, bpf_core_enum_value(enum xdp_action___local, XDP_REDIRECT___local)); return XDP_PASS; }

SEC("xdp") int core_type_matches(struct xdp_md *ctx)
{ put(12, bpf_core_type_matches(struct xdpkit_missing___local)); return XDP_PASS; }

SEC("xdp") int core_ctx(struct xdp_md *ctx)
{
	struct xdp_md___local *x = (void *)ctx;
	unsigned char *data = (void *)(long)x->data;
	unsigned char *end = (void *)(long)x->data_end;

	if (data + 1 > end)
		return XDP_ABORTED;
	put(13, data[0]);
	return XDP_PASS;
}

// Guarded: the missing field is only used where it exists, so the poisoned
// instruction is dead code and the program loads.
SEC("xdp") int core_missing_dead(struct xdp_md *ctx)
{
	if (FIELD(struct xdpkit_missing___local, field, BPF_FIELD_EXISTS))
		put(14, FIELD(struct xdpkit_missing___local, field, BPF_FIELD_BYTE_OFFSET));
	else
		put(14, 7);
	return XDP_PASS;
}

// Unguarded: the poisoned instruction is live and the verifier refuses it.
SEC("xdp") int core_missing_live(struct xdp_md *ctx)
{ put(15, FIELD(struct xdpkit_missing___local, field, BPF_FIELD_BYTE_OFFSET)); return XDP_PASS; }

char LICENSE[] SEC("license") = "GPL";
