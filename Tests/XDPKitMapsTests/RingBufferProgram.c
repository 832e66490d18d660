// SPDX-License-Identifier: GPL-2.0
// Producers for the RingBuffer tests (Tests/XDPKitTests/RingBufferTests.swift): XDP programs
// that write one record to the EVENTS ring buffer per run, run with BPF_PROG_TEST_RUN.
// Rebuild (from this folder; the .o is committed next to this file):
//   clang -O2 -g -target bpf -I/usr/include/$(uname -m)-linux-gnu -Wall -Werror -fdebug-prefix-map=$PWD=. -c RingBufferProgram.c -o RingBufferProgram.o
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// What every program writes: 16 bytes, no padding.
struct record {
	__u32 sequence;	// `sequence` before this run
	__u32 length;	// the packet's length
	__u64 magic;	// which program wrote it
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096 * 4);
} EVENTS SEC(".maps");

// One counter for all programs: every run takes the next number, written or not.
// BPF_PROG_TEST_RUN runs the repetitions one after another on one CPU.
__u32 sequence = 0;
// Runs whose record did not fit in the ring.
__u32 dropped = 0;

// `magic` of each program: "RING" in the high half, the program in the low half.
#define MAGIC_OUTPUT 0x52494e4700000001ULL
#define MAGIC_RESERVE 0x52494e4700000002ULL
#define MAGIC_NO_WAKEUP 0x52494e4700000003ULL

static __always_inline __u32 packet_length(struct xdp_md *ctx)
{
	return ctx->data_end - ctx->data;
}

// bpf_ringbuf_output: copies a record from the stack.
SEC("xdp")
int ringbuf_output(struct xdp_md *ctx)
{
	struct record record = {
		.sequence = sequence++,
		.length = packet_length(ctx),
		.magic = MAGIC_OUTPUT,
	};
	if (bpf_ringbuf_output(&EVENTS, &record, sizeof(record), 0) != 0)
		dropped++;
	return XDP_PASS;
}

// bpf_ringbuf_reserve, then submit for even sequence numbers and discard for odd ones.
SEC("xdp")
int ringbuf_reserve(struct xdp_md *ctx)
{
	__u32 number = sequence++;
	struct record *record = bpf_ringbuf_reserve(&EVENTS, sizeof(*record), 0);
	if (!record) {
		dropped++;
		return XDP_PASS;
	}
	record->sequence = number;
	record->length = packet_length(ctx);
	record->magic = MAGIC_RESERVE;
	if (number & 1)
		bpf_ringbuf_discard(record, 0);
	else
		bpf_ringbuf_submit(record, 0);
	return XDP_PASS;
}

// bpf_ringbuf_output with BPF_RB_NO_WAKEUP: the record arrives without an epoll notification.
SEC("xdp")
int ringbuf_no_wakeup(struct xdp_md *ctx)
{
	struct record record = {
		.sequence = sequence++,
		.length = packet_length(ctx),
		.magic = MAGIC_NO_WAKEUP,
	};
	if (bpf_ringbuf_output(&EVENTS, &record, sizeof(record), BPF_RB_NO_WAKEUP) != 0)
		dropped++;
	return XDP_PASS;
}

// A 4-byte record (the sequence number only), shorter than struct record.
SEC("xdp")
int ringbuf_short(struct xdp_md *ctx)
{
	__u32 number = sequence++;
	if (bpf_ringbuf_output(&EVENTS, &number, sizeof(number), 0) != 0)
		dropped++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
