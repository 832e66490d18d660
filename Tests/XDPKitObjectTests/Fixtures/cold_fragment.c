// SPDX-License-Identifier: GPL-2.0
// A program split into a hot part and a cold fragment, the way GCC's hot/cold splitting
// splits a function into `name` and `name.cold`. Clang does not split functions, so the
// split is written in assembly: `xdp_split` passes frames of at least 64 bytes; for a
// shorter frame it jumps into `xdp_split.cold`, which adds 1 to COLD_HITS[0] (a map
// relocation inside the fragment) and jumps back into `xdp_split` to return XDP_DROP.
// `xdp_after`, the next function in the section, is an ordinary program that calls the
// static `.text` function `split_helper`, itself split: XDP_TX for frames of at least 64
// bytes, XDP_DROP from its fragment `split_helper.cold.1` for shorter ones.
// None of the assembly functions has BTF (no func_info or line_info).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} COLD_HITS SEC(".maps");

asm(
"	.pushsection xdp, \"ax\", @progbits\n"
"	.globl xdp_split\n"
"	.type xdp_split, @function\n"
"xdp_split:\n"
"	r2 = *(u32 *)(r1 + 0)\n"
"	r3 = *(u32 *)(r1 + 4)\n"
"	r2 += 64\n"
"	if r2 > r3 goto xdp_split.cold\n"
"	r0 = 2\n"
"	exit\n"
".Ldrop:\n"
"	r0 = 1\n"
"	exit\n"
"	.size xdp_split, . - xdp_split\n"
"\n"
"	.type xdp_split.cold, @function\n"
"xdp_split.cold:\n"
"	r1 = 0\n"
"	*(u32 *)(r10 - 4) = r1\n"
"	r2 = r10\n"
"	r2 += -4\n"
"	r1 = COLD_HITS ll\n"
"	call 1\n"
"	if r0 == 0 goto .Ldrop\n"
"	r1 = 1\n"
"	lock *(u64 *)(r0 + 0) += r1\n"
"	goto .Ldrop\n"
"	.size xdp_split.cold, . - xdp_split.cold\n"
"\n"
"	.globl xdp_after\n"
"	.type xdp_after, @function\n"
"xdp_after:\n"
"	call split_helper\n"
"	exit\n"
"	.size xdp_after, . - xdp_after\n"
"	.popsection\n"
"\n"
"	.pushsection .text, \"ax\", @progbits\n"
"	.type split_helper, @function\n"
"split_helper:\n"
"	r2 = *(u32 *)(r1 + 0)\n"
"	r3 = *(u32 *)(r1 + 4)\n"
"	r2 += 64\n"
"	if r2 > r3 goto split_helper.cold.1\n"
"	r0 = 3\n"
"	exit\n"
"	.size split_helper, . - split_helper\n"
"	.type split_helper.cold.1, @function\n"
"split_helper.cold.1:\n"
"	r0 = 1\n"
"	exit\n"
"	.size split_helper.cold.1, . - split_helper.cold.1\n"
"	.popsection\n"
);

char LICENSE[] SEC("license") = "GPL";
