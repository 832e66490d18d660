/* SPDX-License-Identifier: GPL-2.0
 *
 * xdp_pass: passes every packet. The "does my environment work" check: if this loads and
 * attaches, bpf(2), BTF and XDP attachment work on this machine.
 *
 * Kernel: XDP programs load on 4.8+; attaching through a bpf_link needs 5.9+.
 */
#include "include/xdpkit_bpf.h"

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
