/* SPDX-License-Identifier: GPL-2.0
 *
 * The little a BPF C program needs to be compiled by XDPKit's build plugin without any other
 * library: section and map-definition macros in the convention every BTF-aware loader reads,
 * byte-order helpers, and the kernel helper functions XDPKit's programs call. Helper numbers
 * are those of `enum bpf_func_id` in linux/bpf.h.
 */
#ifndef XDPKIT_BPF_H
#define XDPKIT_BPF_H

#include <linux/bpf.h>
#include <linux/types.h>

/* Place a function or variable in an ELF section: SEC("xdp"), SEC(".maps"), SEC("license"). */
#define SEC(name) __attribute__((section(name), used))

/* BTF map definitions: a struct whose member *types* carry the attributes.
 *   __uint(max_entries, 64)  -> int (*max_entries)[64]   (the number is the array length)
 *   __type(key, __u32)       -> __u32 *key                 (the pointee is the type)
 *   __array(values, T)       -> T *values[]                (inner map or program prototype)
 */
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __array(name, val) typeof(val) *name[]

/* The map type, and the C type of the records the program writes into the map (a ring buffer
 * or perf event array), in place of __uint(type, ...):
 *   __records(BPF_MAP_TYPE_RINGBUF, struct drop_event) -> struct drop_event (*type)[27]
 * Loaders (XDPKit, libbpf, bpftool, cilium/ebpf) read only the array's length, as for __uint;
 * the element type puts the record type in the object's BTF, where XDPKit's generator finds it
 * and declares it (DropEvent, with init?(bytes:)). No global variable or section is added. */
#define __records(map_type, record) typeof(record) (*type)[map_type]

/* Run configuration of a program that joins a multi-program dispatcher (libxdp's protocol,
 * see Sources/XDPKit/Documentation.docc/MultiProgram.md): a struct whose members encode numbers as array
 * lengths, placed in the .xdp_run_config section under the name of the program's function
 * with a leading underscore.
 *
 *   struct {
 *           __uint(priority, 10);    // lower runs first; default 50
 *           __uint(XDP_PASS, 1);     // go on to the next program when this one passes
 *           __uint(XDP_DROP, 0);     // 0 turns an action off (XDP_PASS is on by default)
 *   } XDP_RUN_CONFIG(my_xdp_function);
 */
#define XDP_RUN_CONFIG(function) _##function SEC(".xdp_run_config")

/* Pinning request understood by XDPKit's loader (LoadOptions.pinDirectory). */
#define PIN_NONE 0
#define PIN_BY_NAME 1

#undef __always_inline
#define __always_inline inline __attribute__((always_inline))
#define __noinline __attribute__((noinline))

/* Byte order: BPF objects built here are little-endian (-target bpf on x86_64/arm64). */
#define xdpkit_ntohs(x) __builtin_bswap16(x)
#define xdpkit_htons(x) __builtin_bswap16(x)
#define xdpkit_ntohl(x) __builtin_bswap32(x)
#define xdpkit_htonl(x) __builtin_bswap32(x)

/* Kernel helpers, called through their fixed numbers. */
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static long (*bpf_map_delete_elem)(void *map, const void *key) = (void *)3;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static __u32 (*bpf_get_smp_processor_id)(void) = (void *)8;
static long (*bpf_xdp_adjust_head)(struct xdp_md *ctx, int delta) = (void *)44;
static long (*bpf_redirect_map)(void *map, __u64 key, __u64 flags) = (void *)51;
static long (*bpf_ringbuf_output)(void *ringbuf, void *data, __u64 size, __u64 flags) = (void *)130;


/* Redirecting with bpf_redirect_map(&map, key, flags): the map decides where frames go.
 *   BPF_MAP_TYPE_DEVMAP / DEVMAP_HASH: out of the interface in the slot (Swift: DevMap, DevMapHash);
 *   BPF_MAP_TYPE_CPUMAP: to the CPU with that number, which builds the skb (Swift: CPUMap);
 *   BPF_MAP_TYPE_XSKMAP: to the AF_XDP socket in the slot, usually ctx->rx_queue_index
 *                        (Swift: XSKMap, XDPSocket).
 * The helper returns XDP_REDIRECT when the slot holds a target. When it is empty, it returns the
 * value of the two lowest bits of flags (kernel 5.3+; older kernels want flags 0), so the
 * fallback action is given in the call and the program returns the helper's result as is:
 *
 *   return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);  // no socket: to the stack
 *   return bpf_redirect_map(&ports, 0, XDP_DROP);                    // no port: drop
 *
 * Only XDP_ABORTED, XDP_DROP, XDP_PASS and XDP_TX fit the two bits. For DEVMAP and DEVMAP_HASH,
 * BPF_F_BROADCAST sends the frame to every interface in the map and BPF_F_EXCLUDE_INGRESS leaves
 * out the one it came in on (both 5.14+, from linux/bpf.h). XDPKIT_REDIRECT_FALLBACK(flags)
 * spells out the fallback part of a flags value.
 */
#define XDPKIT_REDIRECT_FALLBACK(flags) ((flags) & 0x3)

#endif
