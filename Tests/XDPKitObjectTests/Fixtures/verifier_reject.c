// SPDX-License-Identifier: GPL-2.0
// A program the verifier must reject: it reads the first packet byte without checking it
// against data_end. The loader tests expect the error to carry the verifier log.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_unchecked(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	return data[0] == 0xff ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
