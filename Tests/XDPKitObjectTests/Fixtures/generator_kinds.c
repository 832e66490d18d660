// SPDX-License-Identifier: GPL-2.0
// Every C shape the Swift generator must lay out exactly: nested structs, a
// union, anonymous members, arrays, 32- and 64-bit enums, bitfields, tail
// padding, a packed struct, .rodata/.data/.bss of several types, names that
// are Swift keywords, and one map of each typed view. `xdp_kinds` copies what
// it sees into maps so a test can compare with the Swift side.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum color { COLOR_RED = 1, COLOR_GREEN = 2, COLOR_BLUE = 40 };
enum wide_flag { WIDE_FLAG_LOW = 1, WIDE_FLAG_HIGH = 0x100000000ULL };
enum signed_level { LEVEL_MINUS = -3, LEVEL_PLUS = 5 };

struct inner {
	__u16 port;
	__u8 proto;
	/* 1 byte of padding */
	__u32 count;
};

union address {
	__u32 v4;
	__u8 v6[16];
	__u64 halves[2];
};

struct record {
	__u8 kind;           /* then 7 bytes of padding */
	__u64 timestamp;
	struct inner inner;
	union address address;
	struct {
		__u32 first;
		__u32 second;
	} pair;
	union {
		__u32 as_int;
		float as_float;
	};
	unsigned int low : 3;
	unsigned int middle : 13;
	int negative : 7;
	enum color color;
	enum wide_flag wide;
	__s8 level;
	__u16 tail;          /* then 5 bytes of tail padding */
};

struct packed_header {
	__u8 version;
	__u32 length;
	__u16 checksum;
} __attribute__((packed));

struct keywords {
	__u32 default_;
	__u32 in;
	__u32 self;
	__u32 protocol;
};

struct lpm_key {
	__u32 prefixlen;
	__u8 data[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct record);
} RECORDS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct packed_header);
} HEADERS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 8);
	__type(key, struct keywords);
	__type(value, __u64);
} KEYWORDS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, union address);
} ADDRESSES SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 8);
	__type(key, struct lpm_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} PREFIXES SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8);
	__type(key, __u64);
	__type(value, enum color);
} COLORS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} EVENTS SEC(".maps");

const volatile __u32 multiplier = 3;
const volatile __s16 offset_by = -2;
const volatile _Bool enabled = 1;
const volatile enum signed_level start_level = LEVEL_MINUS;
const volatile struct inner template = { .port = 80, .proto = 6, .count = 9 };
__u64 packets = 5;
__u32 last_length;
struct inner seen;

SEC("xdp")
int xdp_kinds(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct record *r = bpf_map_lookup_elem(&RECORDS, &zero);
	if (r && enabled) {
		r->inner.count = r->inner.count * multiplier + offset_by;
		r->middle = r->middle + 1;
		r->negative = r->negative - 1;
		r->level = start_level;
		r->as_int = r->as_int + r->low;
		seen = r->inner;
	}
	struct packed_header *h = bpf_map_lookup_elem(&HEADERS, &zero);
	if (h) {
		h->length = h->length + 1;
		last_length = h->length;
	}
	packets++;
	return XDP_PASS;
}

SEC("tc")
int tc_keywords(struct __sk_buff *skb)
{
	return template.port == 80 ? 0 : 2;
}

char LICENSE[] SEC("license") = "GPL";
