// SPDX-License-Identifier: GPL-2.0
// fentry and fexit programs on bpf_fentry_test1(int a), the kernel function that
// BPF_PROG_TEST_RUN of a tracing program calls with a = 1 (it returns a + 1). Each
// program records what it saw in SEEN: slot 0 the argument at entry, slot 1 the
// argument at exit, slot 2 the return value at exit. Needs BPF trampolines: refused
// under lockdown (integrity or confidentiality) with EPERM.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} SEEN SEC(".maps");

static void record(__u32 slot, __u64 value)
{
	bpf_map_update_elem(&SEEN, &slot, &value, BPF_ANY);
}

// Tracing programs get their arguments as an array of u64 (BPF_PROG() without libbpf).
SEC("fentry/bpf_fentry_test1")
int on_entry(unsigned long long *ctx)
{
	record(0, (int)ctx[0]);
	return 0;
}

SEC("fexit/bpf_fentry_test1")
int on_exit(unsigned long long *ctx)
{
	record(1, (int)ctx[0]);
	record(2, (int)ctx[1]);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
