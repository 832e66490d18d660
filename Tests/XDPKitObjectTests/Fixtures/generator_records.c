// SPDX-License-Identifier: GPL-2.0
// Record types for the Swift generator: a ring buffer and a perf event array that
// name the C type of their records with __records (Programs/include/xdpkit_bpf.h),
// and a type that only a function's prototype reaches (for `xdpkit generate
// --type`). `xdp_records` writes one whole record and one short one per packet.
#include "../../../Programs/include/xdpkit_bpf.h"

enum sample_kind { SAMPLE_KIND_FIRST = 1, SAMPLE_KIND_SECOND = 2 };

/* 16 bytes: an 8-bit enum field, a byte, 2 bytes of padding. */
struct sample {
	__u64 sequence;
	enum sample_kind kind : 8;
	__u8 flags;
	__u32 length;
};

struct perf_sample {
	__u32 cpu;
	__u32 value;
};

/* In BTF only as the parameter of port_of. */
struct hidden_config {
	__u16 port;
	__u8 proto;
};

struct {
	__records(BPF_MAP_TYPE_RINGBUF, struct sample);
	__uint(max_entries, 4096);
} SAMPLES SEC(".maps");

struct {
	__records(BPF_MAP_TYPE_PERF_EVENT_ARRAY, struct perf_sample);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 4);
} PERF_SAMPLES SEC(".maps");

static __noinline __u32 port_of(struct hidden_config *config)
{
	return config ? config->port : 0;
}

SEC("xdp")
int xdp_records(struct xdp_md *ctx)
{
	struct hidden_config config = { .port = 7, .proto = 17 };
	struct sample sample = {};

	sample.sequence = 42;
	sample.kind = SAMPLE_KIND_SECOND;
	sample.flags = 0x5a;
	sample.length = ctx->data_end - ctx->data;
	bpf_ringbuf_output(&SAMPLES, &sample, sizeof(sample), 0);
	/* Shorter than struct sample: the Swift side refuses it. */
	bpf_ringbuf_output(&SAMPLES, &sample, 8, 0);
	return port_of(&config) == 7 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
