/* SPDX-License-Identifier: GPL-2.0
 *
 * Logging from BPF programs into the application's logger (XDPKit's `forwardLogs(to:)`).
 *
 *   #include "xdpkit_log.h"
 *   xdpkit_info(ctx, "SRC: %pI4, ACTION: %u", &iph->saddr, action);
 *
 * Macros: xdpkit_error, xdpkit_warn, xdpkit_info, xdpkit_debug, xdpkit_trace, each called as
 * (ctx, "format", args...) with at most 8 arguments. `ctx` is accepted for symmetry with
 * other loggers and is not read, so the macros work in every program type.
 *
 * Format: %d %i %u %x %X (with the l and ll modifiers), %c, %%, and for pointer or array
 * arguments %pI4 (4 address bytes, network order), %pI6 (16 bytes), %pM (6 MAC bytes) and %s
 * (a char array of bounded length, up to its first NUL). An integer argument is copied with
 * its own width and signedness; a pointer argument copies sizeof(*pointer) bytes and an array
 * argument sizeof(array) bytes (a MAC address is therefore passed as the array, `eth->h_source`,
 * or as a pointer to it, and an address as `&iph->saddr`).
 *
 * Cost: each call site places a descriptor (level, argument kinds and sizes, format string) in
 * the ELF section `.xdpkit.log`, which is never loaded into the kernel. A record holds a
 * 16-byte header (kernel time, CPU, descriptor id) and the argument bytes only; it is one
 * bpf_ringbuf_reserve of a size known at compile time, at most XDPKIT_LOG_MAX_RECORD bytes
 * (240 bytes of arguments).
 * When the ring is full the record is counted, per CPU, in XDPKIT_LOG_LOST; nothing blocks.
 *
 * Wakeups: a record is submitted with BPF_RB_NO_WAKEUP while the ring holds less than a quarter
 * of its size, and with BPF_RB_FORCE_WAKEUP from then on. XDPKit's reader (forwardLogs) waits in
 * slices of 50 ms and looks at the ring between them, so a record reaches it within a slice; a
 * wakeup per record cost more than the record itself (2 µs against 0.1 µs on a VM), and the
 * quarter keeps a burst from filling the ring before the reader is woken.
 *
 * Level filter: `xdpkit_log_level` is a `const volatile` in .rodata that the loader sets
 * (LoadOptions.logLevel); the verifier then removes disabled calls as dead code.
 *
 * The ring (XDPKIT_LOG) and the counter (XDPKIT_LOG_LOST) are static and exist in the object
 * only when a log macro is used. Descriptor ids come from __COUNTER__: they are unique within
 * one compilation unit (XDPKit loads objects compiled from one .c file).
 *
 * Ring size: define XDPKIT_LOG_RING_SIZE (a power of two, a multiple of the page size) before
 * including this header, or set LoadOptions.maxEntries["XDPKIT_LOG"].
 */
#ifndef XDPKIT_LOG_H
#define XDPKIT_LOG_H

#include "xdpkit_bpf.h"

#define XDPKIT_LOG_LEVEL_ERROR 1
#define XDPKIT_LOG_LEVEL_WARN 2
#define XDPKIT_LOG_LEVEL_INFO 3
#define XDPKIT_LOG_LEVEL_DEBUG 4
#define XDPKIT_LOG_LEVEL_TRACE 5

#ifndef XDPKIT_LOG_RING_SIZE
#define XDPKIT_LOG_RING_SIZE (256 * 1024)
#endif

/* The largest record: header plus argument bytes. */
#define XDPKIT_LOG_MAX_RECORD (16 + 240)
#define XDPKIT_LOG_MAX_ARGS 8

/* Argument kinds, one byte per argument: the low nibble is the width in bytes for integers;
 * XDPKIT_LOG_SIGNED marks a signed integer; XDPKIT_LOG_BYTES marks bytes copied from a
 * pointer or an array (their count is in the descriptor's sizes). */
#define XDPKIT_LOG_SIGNED 0x10
#define XDPKIT_LOG_BYTES 0x80

/* The descriptor layout, read by XDPKit from the `.xdpkit.log` section (little-endian):
 *   u32 id; u16 size (of the whole descriptor, format and NUL included); u8 level; u8 argc;
 *   u8 kinds[8]; u8 sizes[8]; char format[]
 * Each descriptor starts at a multiple of 8. */
#define XDPKIT_LOG_SECTION ".xdpkit.log"

/* The record header every record starts with. */
struct xdpkit_log_header {
	__u64 timestamp; /* bpf_ktime_get_ns() */
	__u32 id;        /* the descriptor id */
	__u16 cpu;       /* bpf_get_smp_processor_id() */
	__u8 argc;       /* the number of arguments */
	__u8 length;     /* bytes of arguments after this header */
};

static void *(*__xdpkit_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)131;
static void (*__xdpkit_ringbuf_submit)(void *data, __u64 flags) = (void *)132;
/* bpf_ringbuf_query: BPF_RB_AVAIL_DATA (0) and BPF_RB_RING_SIZE (1). */
static __u64 (*__xdpkit_ringbuf_query)(void *ringbuf, __u64 flags) = (void *)134;

/* BPF_RB_NO_WAKEUP (1) below a quarter full, BPF_RB_FORCE_WAKEUP (2) from there (see above).
 * The size is asked of the ring: LoadOptions.maxEntries may have changed it. */
#define __XDPKIT_LOG_SUBMIT_FLAGS \
	(__xdpkit_ringbuf_query(&XDPKIT_LOG, 0) * 4 >= __xdpkit_ringbuf_query(&XDPKIT_LOG, 1) ? 2 : 1)

/* Not marked `used`: unreferenced (no log call), the compiler drops them. */
static struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XDPKIT_LOG_RING_SIZE);
} XDPKIT_LOG __attribute__((section(".maps")));

static struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} XDPKIT_LOG_LOST __attribute__((section(".maps")));

/* The most verbose level logged; set at load time. */
static const volatile __u32 xdpkit_log_level __attribute__((section(".rodata"))) = XDPKIT_LOG_LEVEL_INFO;

static __always_inline void __xdpkit_log_lost(void)
{
	__u32 zero = 0;
	__u64 *lost = bpf_map_lookup_elem(&XDPKIT_LOG_LOST, &zero);
	if (lost)
		*lost += 1;
}

/* Integer types (after array-to-pointer conversion) select 1, everything else 0. */
#define __xdpkit_is_int(v) _Generic((v), \
	_Bool: 1, char: 1, signed char: 1, unsigned char: 1, short: 1, unsigned short: 1, \
	int: 1, unsigned int: 1, long: 1, unsigned long: 1, long long: 1, unsigned long long: 1, \
	default: 0)
#define __xdpkit_is_signed(v) _Generic((v), \
	char: ((char)-1 < 0), signed char: 1, short: 1, int: 1, long: 1, long long: 1, default: 0)
/* `v` as a pointer: an integer becomes a null char pointer (never dereferenced). */
#define __xdpkit_as_ptr(v) _Generic((v), \
	_Bool: (const char *)0, char: (const char *)0, signed char: (const char *)0, \
	unsigned char: (const char *)0, short: (const char *)0, unsigned short: (const char *)0, \
	int: (const char *)0, unsigned int: (const char *)0, long: (const char *)0, \
	unsigned long: (const char *)0, long long: (const char *)0, \
	unsigned long long: (const char *)0, default: (v))

/* The bytes an argument occupies in a record. `a` is the argument as written, `v` a copy (an
 * array has decayed to a pointer in `v`, which makes the two types differ). */
#define __xdpkit_arg_size(a, v) \
	(__xdpkit_is_int(v) ? sizeof(v) \
	 : __builtin_types_compatible_p(typeof(a), typeof(v)) ? sizeof(*__xdpkit_as_ptr(v)) \
	 : sizeof(a))
#define __xdpkit_arg_kind(a, v) \
	(__xdpkit_is_int(v) ? (sizeof(v) | (__xdpkit_is_signed(v) ? XDPKIT_LOG_SIGNED : 0)) \
	 : XDPKIT_LOG_BYTES)

/* Per-argument expansion: declare a copy, add its size and kind to the descriptor tables,
 * copy it into the record. */
#define __XDPKIT_CAT_(a, b) a##b
#define __XDPKIT_CAT(a, b) __XDPKIT_CAT_(a, b)
/* Counts up to 16 arguments, so that 9 to 16 reach the "at most 8" assertion. */
#define __XDPKIT_NARG(...) \
	__XDPKIT_NARG_(_, ##__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define __XDPKIT_NARG_(_, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, n, ...) n

#define __XDPKIT_EACH_0(M, ...)
#define __XDPKIT_EACH_1(M, a) M(0, a)
#define __XDPKIT_EACH_2(M, a, ...) M(1, a) __XDPKIT_EACH_1(M, __VA_ARGS__)
#define __XDPKIT_EACH_3(M, a, ...) M(2, a) __XDPKIT_EACH_2(M, __VA_ARGS__)
#define __XDPKIT_EACH_4(M, a, ...) M(3, a) __XDPKIT_EACH_3(M, __VA_ARGS__)
#define __XDPKIT_EACH_5(M, a, ...) M(4, a) __XDPKIT_EACH_4(M, __VA_ARGS__)
#define __XDPKIT_EACH_6(M, a, ...) M(5, a) __XDPKIT_EACH_5(M, __VA_ARGS__)
#define __XDPKIT_EACH_7(M, a, ...) M(6, a) __XDPKIT_EACH_6(M, __VA_ARGS__)
#define __XDPKIT_EACH_8(M, a, ...) M(7, a) __XDPKIT_EACH_7(M, __VA_ARGS__)
/* Arguments are numbered from the last (the EACH macros count down); the tables are indexed
 * with `n - 1 - i` to keep the written order. */
#define __XDPKIT_EACH(M, ...) __XDPKIT_CAT(__XDPKIT_EACH_, __XDPKIT_NARG(__VA_ARGS__))(M, ##__VA_ARGS__)

#define __XDPKIT_DECLARE(i, a) __auto_type __XDPKIT_CAT(__xdpkit_v, i) = (a);
#define __XDPKIT_SIZE(i, a) + __xdpkit_arg_size(a, __XDPKIT_CAT(__xdpkit_v, i))
#define __XDPKIT_SIZE_ENTRY(i, a) [__xdpkit_n - 1 - i] = __xdpkit_arg_size(a, __XDPKIT_CAT(__xdpkit_v, i)),
#define __XDPKIT_KIND_ENTRY(i, a) [__xdpkit_n - 1 - i] = __xdpkit_arg_kind(a, __XDPKIT_CAT(__xdpkit_v, i)),
#define __XDPKIT_COPY(i, a) \
	if (__xdpkit_is_int(__XDPKIT_CAT(__xdpkit_v, i))) \
		__builtin_memcpy(__xdpkit_at, &__XDPKIT_CAT(__xdpkit_v, i), sizeof(__XDPKIT_CAT(__xdpkit_v, i))); \
	else \
		__builtin_memcpy(__xdpkit_at, __xdpkit_as_ptr(__XDPKIT_CAT(__xdpkit_v, i)), \
				 __xdpkit_arg_size(a, __XDPKIT_CAT(__xdpkit_v, i)));
/* The EACH macros expand in argument order (with falling indices), so the copies advance a
 * running offset that the compiler folds into constants. */
#define __XDPKIT_COPY_AT(i, a) { \
	char *__xdpkit_at = __xdpkit_record + __xdpkit_offset; \
	__XDPKIT_COPY(i, a) \
	__xdpkit_offset += __xdpkit_arg_size(a, __XDPKIT_CAT(__xdpkit_v, i)); }

#define __xdpkit_log_at(LEVEL, ID, FMT, ...) ({ \
	_Static_assert(__XDPKIT_NARG(__VA_ARGS__) <= XDPKIT_LOG_MAX_ARGS, "xdpkit log: at most 8 arguments"); \
	if ((LEVEL) <= xdpkit_log_level) { \
		enum { __xdpkit_n = __XDPKIT_NARG(__VA_ARGS__) }; \
		__XDPKIT_EACH(__XDPKIT_DECLARE, ##__VA_ARGS__) \
		enum { __xdpkit_args_size = 0 __XDPKIT_EACH(__XDPKIT_SIZE, ##__VA_ARGS__) }; \
		_Static_assert(sizeof(struct xdpkit_log_header) + __xdpkit_args_size <= XDPKIT_LOG_MAX_RECORD, \
			       "xdpkit log: the arguments exceed the record size"); \
		static const struct { \
			__u32 id; __u16 size; __u8 level; __u8 argc; __u8 kinds[8]; __u8 sizes[8]; \
			char format[sizeof(FMT)]; \
		} __attribute__((aligned(8))) __XDPKIT_CAT(__xdpkit_log_descriptor_, ID) \
			__attribute__((section(XDPKIT_LOG_SECTION), used)) = { \
			.id = (ID), .size = 24 + sizeof(FMT), .level = (LEVEL), .argc = __xdpkit_n, \
			.kinds = { __XDPKIT_EACH(__XDPKIT_KIND_ENTRY, ##__VA_ARGS__) }, \
			.sizes = { __XDPKIT_EACH(__XDPKIT_SIZE_ENTRY, ##__VA_ARGS__) }, \
			.format = FMT, \
		}; \
		char *__xdpkit_record = __xdpkit_ringbuf_reserve(&XDPKIT_LOG, \
			sizeof(struct xdpkit_log_header) + __xdpkit_args_size, 0); \
		if (__xdpkit_record) { \
			__xdpkit_record = __builtin_assume_aligned(__xdpkit_record, 8); \
			struct xdpkit_log_header *__xdpkit_h = (void *)__xdpkit_record; \
			__xdpkit_h->timestamp = bpf_ktime_get_ns(); \
			__xdpkit_h->id = (ID); \
			__xdpkit_h->cpu = bpf_get_smp_processor_id(); \
			__xdpkit_h->argc = __xdpkit_n; \
			__xdpkit_h->length = __xdpkit_args_size; \
			__u32 __xdpkit_offset = sizeof(struct xdpkit_log_header); \
			(void)__xdpkit_offset; \
			__XDPKIT_EACH(__XDPKIT_COPY_AT, ##__VA_ARGS__) \
			__xdpkit_ringbuf_submit(__xdpkit_record, __XDPKIT_LOG_SUBMIT_FLAGS); \
		} else { \
			__xdpkit_log_lost(); \
		} \
	} \
})

#define __xdpkit_log(LEVEL, ID, FMT, ...) __xdpkit_log_at(LEVEL, ID, FMT, ##__VA_ARGS__)

#define xdpkit_error(ctx, fmt, ...) __xdpkit_log(XDPKIT_LOG_LEVEL_ERROR, __COUNTER__, fmt, ##__VA_ARGS__)
#define xdpkit_warn(ctx, fmt, ...) __xdpkit_log(XDPKIT_LOG_LEVEL_WARN, __COUNTER__, fmt, ##__VA_ARGS__)
#define xdpkit_info(ctx, fmt, ...) __xdpkit_log(XDPKIT_LOG_LEVEL_INFO, __COUNTER__, fmt, ##__VA_ARGS__)
#define xdpkit_debug(ctx, fmt, ...) __xdpkit_log(XDPKIT_LOG_LEVEL_DEBUG, __COUNTER__, fmt, ##__VA_ARGS__)
#define xdpkit_trace(ctx, fmt, ...) __xdpkit_log(XDPKIT_LOG_LEVEL_TRACE, __COUNTER__, fmt, ##__VA_ARGS__)

#endif
