// SPDX-License-Identifier: GPL-2.0
// One trivial program per section name the loader must understand, with two
// programs sharing "xdp". Every program returns a different constant, so no
// two have the same instruction bytes (see README.md for the values).
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct pt_regs;

// Two programs in one section.
SEC("xdp")
int xdp_multi_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int xdp_multi_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

// Multi-buffer (BPF_F_XDP_HAS_FRAGS) and the devmap/cpumap attach types.
SEC("xdp.frags")
int xdp_frags_prog(struct xdp_md *ctx)
{
	return XDP_TX;
}

SEC("xdp/devmap")
int xdp_devmap_prog(struct xdp_md *ctx)
{
	return XDP_REDIRECT;
}

// From here on the XDP return values are not XDP actions: they only keep the
// instruction bytes distinct (the verifier does not check XDP return values).
SEC("xdp/cpumap")
int xdp_cpumap_prog(struct xdp_md *ctx)
{
	return 5;
}

SEC("xdp.frags/devmap")
int xdp_frags_devmap_prog(struct xdp_md *ctx)
{
	return 6;
}

// Older spellings: "xdp_" prefix, and "xdp/" followed by a free-form name.
SEC("xdp_legacy")
int xdp_legacy_prog(struct xdp_md *ctx)
{
	return 7;
}

SEC("xdp/legacy_name")
int xdp_legacy_name_prog(struct xdp_md *ctx)
{
	return 8;
}

// Traffic control (BPF_PROG_TYPE_SCHED_CLS) under both names.
SEC("tc")
int tc_prog(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

SEC("classifier")
int classifier_prog(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

// Socket filter: the return value is the number of bytes to keep.
SEC("socket")
int socket_prog(struct __sk_buff *skb)
{
	return 10;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int tracepoint_prog(void *ctx)
{
	return 11;
}

SEC("kprobe/do_unlinkat")
int kprobe_prog(struct pt_regs *ctx)
{
	return 12;
}

char LICENSE[] SEC("license") = "GPL";
