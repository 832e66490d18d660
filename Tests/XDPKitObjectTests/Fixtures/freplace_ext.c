// SPDX-License-Identifier: GPL-2.0
// An extension (freplace) program that replaces decide() of freplace_target.c with a
// function of the same prototype that drops. Its target program is given at load time
// (LoadOptions.attachTargets); the section names the function it replaces. Needs BPF
// trampolines: refused under lockdown with EPERM.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("freplace/decide")
int decide_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
