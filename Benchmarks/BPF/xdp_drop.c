/* SPDX-License-Identifier: GPL-2.0
 *
 * xdp_drop: the data-path floor of the benchmark. Drops every frame without reading it, so
 * its BPF_PROG_TEST_RUN time is what the kernel's test-run loop and the program call cost on
 * their own; any other program's time above it is the program's own work.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
