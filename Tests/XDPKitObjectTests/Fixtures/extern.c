// SPDX-License-Identifier: GPL-2.0
// References to symbols the object does not define: a Kconfig value, a
// weak Kconfig value that may be missing, and a kfunc. Their relocations
// point at undefined symbols. Also carries the obsolete "version" section.
// Kernel variables (__ksym data) are in extern_ksym.c.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_XDPKIT_MISSING __kconfig __weak;
extern void *bpf_cast_to_kern_ctx(void *ctx) __ksym;

SEC("xdp")
int xdp_extern(struct xdp_md *ctx)
{
	if (!bpf_cast_to_kern_ctx(ctx))
		return XDP_ABORTED;
	if (LINUX_KERNEL_VERSION < 0x060100 || CONFIG_XDPKIT_MISSING)
		return XDP_DROP;
	return XDP_PASS;
}

__u32 _version SEC("version") = 0x060100;

char LICENSE[] SEC("license") = "GPL";
