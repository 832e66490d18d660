// SPDX-License-Identifier: GPL-2.0
// Log calls for the logging tests (Tests/XDPKitTests/LogKernelTests.swift), run with
// BPF_PROG_TEST_RUN. Every line and its expected text is listed in the test.
// Rebuild (from this folder; the .o is committed next to this file):
//   clang -O2 -g -target bpf -I/usr/include/$(uname -m)-linux-gnu -I../../../Programs/include -Wall -Werror -fdebug-prefix-map=$PWD=. -c LogProgram.c -o LogProgram.o
#include "xdpkit_log.h"
#include <linux/if_ether.h>
#include <linux/ip.h>

// Every specifier, with negative numbers, 64-bit values and each address kind.
SEC("xdp")
int log_all(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return XDP_ABORTED;

	__u32 v4 = xdpkit_htonl(0xC0000201); /* 192.0.2.1 */
	__u8 v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
	__u8 mac[6] = {0x02, 0, 0, 0, 0, 0x01};
	char name[16] = "firewall";
	signed char small = -5;
	unsigned short port = 65535;

	xdpkit_info(ctx, "d=%d i=%i u=%u x=%x X=%X", -42, (int)0x80000000, 4294967295u, 0xdeadbeefu, 0xabcu);
	xdpkit_info(ctx, "lld=%lld llu=%llu llx=%llx ld=%ld", -9000000000LL, 18446744073709551615ULL,
		    0x0123456789abcdefULL, (long)-1);
	xdpkit_info(ctx, "hhd=%d hu=%u c=%c %%", small, port, 'A');
	xdpkit_info(ctx, "ip=%pI4 ip6=%pI6 mac=%pM s=%s", &v4, v6, mac, name);
	xdpkit_info(ctx, "packet from %pI4 to %pI4, eth src %pM", &ip->saddr, &ip->daddr, eth->h_source);
	xdpkit_info(ctx, "no arguments");
	xdpkit_info(ctx, "%u %u %u %u %u %u %u %u", 1, 2, 3, 4, 5, 6, 7, 8u);
	return XDP_PASS;
}

// One line per level.
SEC("xdp")
int log_levels(struct xdp_md *ctx)
{
	xdpkit_error(ctx, "level %s", "error");
	xdpkit_warn(ctx, "level %s", "warn");
	xdpkit_info(ctx, "level %s", "info");
	xdpkit_debug(ctx, "level %s", "debug");
	xdpkit_trace(ctx, "level %s", "trace");
	return XDP_PASS;
}

__u32 runs = 0;

// One record of 20 bytes (32 in the ring with its header and padding) per run.
SEC("xdp")
int log_one(struct xdp_md *ctx)
{
	xdpkit_info(ctx, "run %u", runs++);
	return XDP_PASS;
}

static long (*bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *)6;

// A bpf_printk line the trace pipe test looks for: `token` makes it unique.
__u32 token = 0;

SEC("xdp")
int printk_token(struct xdp_md *ctx)
{
	static const char fmt[] = "xdpkit trace pipe test %u\n";
	bpf_trace_printk(fmt, sizeof(fmt), token);
	return XDP_PASS;
}

// The same header in another program type: a raw tracepoint, run on a chosen CPU.
SEC("raw_tp/sys_enter")
int log_raw_tp(void *ctx)
{
	xdpkit_warn(ctx, "raw tracepoint on CPU %u", bpf_get_smp_processor_id());
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
