// SPDX-License-Identifier: GPL-2.0
// Every BTF encoding newer than global data (5.2): a global function (5.6), a
// float (5.13), a declaration tag (5.16), a type tag (5.17) and an enum64
// (6.0). A kernel that lacks one refuses the whole BTF unless the loader
// rewrites it; the test loads this object as if the kernel lacked them all.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum wide { WIDE_SMALL = 1, WIDE_BIG = 0x500000003ULL };

float ratio = 1.5f;
enum wide wide_value = WIDE_BIG;
__u64 counter __attribute__((btf_decl_tag("xdpkit_counter")));
int __attribute__((btf_type_tag("xdpkit_tagged"))) *tagged_pointer;

__attribute__((noinline)) int bump(__u64 by)
{
	counter += by;
	return counter > 100;
}

SEC("xdp")
int xdp_btf_kinds(struct xdp_md *ctx)
{
	if (bump(wide_value == WIDE_BIG ? 3 : 1))
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
