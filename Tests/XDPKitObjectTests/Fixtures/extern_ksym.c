// SPDX-License-Identifier: GPL-2.0
// Kernel variables as externs: a typeless one ("const void", address only,
// resolved through /proc/kallsyms) and a typed per-CPU one (resolved through
// vmlinux BTF). For the object reader only: both need the kernel's data
// symbols in kallsyms (CONFIG_KALLSYMS_ALL), which the test VM's kernel lacks,
// so this object does not load there.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern const void bpf_prog_active __ksym;
extern const int bpf_bprintf_nest_level __ksym;

SEC("xdp")
int xdp_ksym(struct xdp_md *ctx)
{
	unsigned long where = (unsigned long)&bpf_prog_active;
	const int *nest = bpf_this_cpu_ptr(&bpf_bprintf_nest_level);

	if (*nest > 0)
		return XDP_DROP;
	return (where & 1) ? XDP_TX : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
