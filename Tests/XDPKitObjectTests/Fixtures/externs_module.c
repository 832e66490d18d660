// SPDX-License-Identifier: GPL-2.0
// A kfunc that lives in vmlinux on some kernels and in a module on others: the
// conntrack lookup is built into the kernel when CONFIG_NF_CONNTRACK=y and into
// nf_conntrack.ko when it is =m (Debian's 6.1). The loader finds it in vmlinux
// BTF or in the module's split BTF, and in the second case passes the module's
// BTF in fd_array. The program looks up a UDP flow that does not exist and
// records what the kernel answered.
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

// The 12-byte options every kernel since 6.0 accepts.
struct bpf_ct_opts {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u8 reserved[2];
};

struct nf_conn;

extern struct nf_conn *bpf_xdp_ct_lookup(struct xdp_md *ctx, struct bpf_sock_tuple *tuple,
					 __u32 tuple__sz, struct bpf_ct_opts *opts,
					 __u32 opts__sz) __ksym;
extern void bpf_ct_release(struct nf_conn *ct) __ksym;

__s32 lookup_error = 1;
__u32 lookup_found = 7;

SEC("xdp")
int xdp_ct_lookup(struct xdp_md *ctx)
{
	struct bpf_sock_tuple tuple = {};
	struct bpf_ct_opts opts = { .netns_id = -1, .l4proto = IPPROTO_UDP };

	tuple.ipv4.saddr = bpf_htonl(0xc0000201); // 192.0.2.1
	tuple.ipv4.daddr = bpf_htonl(0xc6336401); // 198.51.100.1
	tuple.ipv4.sport = bpf_htons(40000);
	tuple.ipv4.dport = bpf_htons(9);
	struct nf_conn *ct = bpf_xdp_ct_lookup(ctx, &tuple, sizeof(tuple.ipv4), &opts, sizeof(opts));
	if (ct) {
		bpf_ct_release(ct);
		lookup_found = 1;
	} else {
		lookup_found = 0;
	}
	lookup_error = opts.error;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
