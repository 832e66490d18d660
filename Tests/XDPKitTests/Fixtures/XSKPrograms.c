// SPDX-License-Identifier: GPL-2.0
// A user's own AF_XDP redirect program for Tests/XDPKitTests/XDPSocketTests.swift: only IPv4
// UDP frames to port 9999 go to the socket of their queue, everything else (neighbour
// discovery, multicast reports) to the stack, so that socket counts are exact.
// Rebuild (from this folder; the .o is committed next to this file):
//   clang -O2 -g -target bpf -I/usr/include/$(uname -m)-linux-gnu -I../../../Programs/include -Wall -Werror -fdebug-prefix-map=$PWD=. -c XSKPrograms.c -o XSKPrograms.o
#include "xdpkit_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} SOCKETS SEC(".maps");

SEC("xdp")
int udp_to_socket(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *frame = data;
	if (data + 14 + 20 + 8 > end)
		return XDP_PASS;
	if (frame[12] != 0x08 || frame[13] != 0x00 || frame[14] != 0x45 || frame[23] != 17)
		return XDP_PASS;
	if (frame[36] != (9999 >> 8) || frame[37] != (9999 & 0xff))
		return XDP_PASS;
	return bpf_redirect_map(&SOCKETS, ctx->rx_queue_index, XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
