// SPDX-License-Identifier: GPL-2.0
// An object with no maps and no globals: its generated Maps is empty and must compile.
#include "xdpkit_bpf.h"

SEC("xdp")
int pass_all(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
