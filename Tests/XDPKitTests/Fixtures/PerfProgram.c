// SPDX-License-Identifier: GPL-2.0
// A perf event array producer for Tests/XDPKitTests/PerfEventArrayTests.swift: a raw
// tracepoint program, run on each CPU with BPF_PROG_TEST_RUN (BPF_F_TEST_RUN_ON_CPU), that
// writes `per_run` samples per run.
// Rebuild (from this folder; the .o is committed next to this file):
//   clang -O2 -g -target bpf -I/usr/include/$(uname -m)-linux-gnu -I../../../Programs/include -Wall -Werror -fdebug-prefix-map=$PWD=. -c PerfProgram.c -o PerfProgram.o
#include "xdpkit_bpf.h"

static long (*bpf_perf_event_output)(void *ctx, void *map, __u64 flags, void *data, __u64 size) = (void *)25;

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} SAMPLES SEC(".maps");

// 16 bytes: what each sample carries.
struct sample {
	__u32 cpu;      // bpf_get_smp_processor_id()
	__u32 sequence; // 0 ..< per_run within the run
	__u64 magic;
};

const volatile __u32 per_run = 1;
__u32 failed = 0;

SEC("raw_tp/sys_enter")
int perf_output(void *ctx)
{
	for (__u32 i = 0; i < 256 && i < per_run; i++) {
		struct sample s = {
			.cpu = bpf_get_smp_processor_id(),
			.sequence = i,
			.magic = 0x5045524653414d50ULL, /* "PERFSAMP" */
		};
		if (bpf_perf_event_output(ctx, &SAMPLES, BPF_F_CURRENT_CPU, &s, sizeof(s)) != 0)
			failed++;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
