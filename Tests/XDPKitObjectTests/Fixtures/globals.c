// SPDX-License-Identifier: GPL-2.0
// Global data in every kind of data section. Each variable is referenced by
// the program, so each section has relocations against it, and each section
// holds a variable at a non-zero offset.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// .data: initialised, writable.
__u32 counter_seed = 7;
__u64 byte_seed = 0x1122334455667788ULL;

// .bss: zero-initialised, writable. "drops" is static: clang relocates it
// against the section symbol with the offset in the instruction's immediate.
__u64 packets;
static volatile __u32 drops;

// .rodata: the "const volatile" configuration idiom, set before load.
const volatile __u32 mode = 1;
const volatile __u8 enabled = 0;

// Custom sections: their names start with ".data." and ".rodata.".
__u32 custom_val SEC(".data.custom") = 42;
const volatile __u32 limit SEC(".rodata.cfg") = 100;

SEC("xdp")
int xdp_globals(struct xdp_md *ctx)
{
	__u32 length = ctx->data_end - ctx->data;

	packets += 1;
	counter_seed += custom_val;
	byte_seed += length;
	if (!enabled)
		return XDP_PASS;
	if (mode == 2 && length > limit) {
		drops += 1;
		return XDP_DROP;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
