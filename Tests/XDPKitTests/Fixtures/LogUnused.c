// SPDX-License-Identifier: GPL-2.0
// Includes xdpkit_log.h without calling it: the object must have no log maps, no log level
// variable and no .xdpkit.log section (Tests/XDPKitTests/LogDecoderTests.swift).
// Rebuild (from this folder; the .o is committed next to this file):
//   clang -O2 -g -target bpf -I/usr/include/$(uname -m)-linux-gnu -I../../../Programs/include -Wall -Werror -fdebug-prefix-map=$PWD=. -c LogUnused.c -o LogUnused.o
#include "xdpkit_log.h"

SEC("xdp")
int unused(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
