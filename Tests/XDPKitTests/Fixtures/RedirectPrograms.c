// SPDX-License-Identifier: GPL-2.0
// Redirect-map programs for Tests/XDPKitTests/RedirectMapTests.swift: IPv4 UDP frames to port
// 9999 are redirected through a DEVMAP, DEVMAP_HASH or CPUMAP, and counted where they land.
// Rebuild (from this folder; the .o is committed next to this file):
//   clang -O2 -g -target bpf -I/usr/include/$(uname -m)-linux-gnu -I../../../Programs/include -Wall -Werror -fdebug-prefix-map=$PWD=. -c RedirectPrograms.c -o RedirectPrograms.o
#include "xdpkit_bpf.h"

#define TEST_PORT 9999

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} DEVICES SEC(".maps");

/* 4-byte values: the ifindex only, no program (typed-view checks only). */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} PLAIN_DEVICES SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} DEVICES_BY_KEY SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} CPUS SEC(".maps");

/* 0: frames the redirecting program saw, 1: unused,
 * 2: frames the devmap program ran on, 3: frames the cpumap program ran on. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} COUNTS SEC(".maps");

/* The CPU frames are redirected to; set from Swift. */
volatile const __u32 target_cpu = 0;
/* The DEVMAP_HASH key frames are redirected to. */
volatile const __u32 target_key = 7;

static __always_inline void count(__u32 slot)
{
	__u64 *value = bpf_map_lookup_elem(&COUNTS, &slot);
	if (value)
		__sync_fetch_and_add(value, 1);
}

/* Whether the frame is IPv4 UDP to TEST_PORT. */
static __always_inline int is_test_frame(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *frame = data;
	if (data + 14 + 20 + 8 > end)
		return 0;
	if (frame[12] != 0x08 || frame[13] != 0x00 || frame[14] != 0x45 || frame[23] != 17)
		return 0;
	__u16 port = ((__u16)frame[36] << 8) | frame[37];
	return port == TEST_PORT;
}

SEC("xdp")
int redirect_device(struct xdp_md *ctx)
{
	if (!is_test_frame(ctx))
		return XDP_PASS;
	count(0);
	return bpf_redirect_map(&DEVICES, 0, XDP_DROP);
}

SEC("xdp")
int redirect_device_by_key(struct xdp_md *ctx)
{
	if (!is_test_frame(ctx))
		return XDP_PASS;
	count(0);
	return bpf_redirect_map(&DEVICES_BY_KEY, target_key, XDP_DROP);
}

SEC("xdp")
int redirect_cpu(struct xdp_md *ctx)
{
	if (!is_test_frame(ctx))
		return XDP_PASS;
	count(0);
	return bpf_redirect_map(&CPUS, target_cpu, XDP_DROP);
}

SEC("xdp/devmap")
int on_device(struct xdp_md *ctx)
{
	if (is_test_frame(ctx))
		count(2);
	return XDP_PASS;
}

SEC("xdp/cpumap")
int on_cpu(struct xdp_md *ctx)
{
	if (is_test_frame(ctx))
		count(3);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
