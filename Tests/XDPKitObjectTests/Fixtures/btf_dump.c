// SPDX-License-Identifier: GPL-2.0
// The types `xdpkit btf dump --format c` must write back as C that compiles:
// typedefs, a struct with bitfields, a union, an anonymous struct and union
// inside a struct, a self-referential list (needs a forward declaration), two
// structs that point at each other, an enum and an enum64, a function-pointer
// member, const and volatile qualifiers, arrays of arrays, and a pointer to a
// struct the object never defines (a FWD).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

typedef unsigned int u32_t;
typedef unsigned long long u64_t;

enum dump_color { DUMP_RED = 1, DUMP_GREEN = 2, DUMP_BLUE = -1 };
enum dump_wide { DUMP_WIDE_SMALL = 1, DUMP_WIDE_BIG = 0x500000003ULL };

struct opaque;

struct list_node {
	struct list_node *next;
	const volatile u32_t value;
};

struct ping;
struct pong {
	struct ping *partner;
	int hits;
};
struct ping {
	struct pong partner;
	char tag[4];
};

typedef int (*dump_callback)(struct list_node *node, void *context);

struct dump_flags {
	unsigned int enabled : 1;
	unsigned int level : 3;
	int delta : 12;
	unsigned char kind;
	u64_t wide : 40;
};

union dump_address {
	u32_t v4;
	unsigned char v6[16];
	struct {
		unsigned short low;
		unsigned short high;
	} halves;
};

struct dump_value {
	struct dump_flags flags;
	union dump_address address;
	enum dump_color color;
	enum dump_wide wide;
	dump_callback callback;
	struct opaque *hidden;
	struct list_node *head;
	struct ping ping;
	int grid[2][3];
	union {
		long signed_total;
		unsigned long total;
	};
	const char *label;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32_t);
	__type(value, struct dump_value);
} DUMP_VALUES SEC(".maps");

SEC("xdp")
int xdp_btf_dump(struct xdp_md *ctx)
{
	u32_t key = 0;
	struct dump_value *value = bpf_map_lookup_elem(&DUMP_VALUES, &key);

	if (!value)
		return XDP_PASS;
	return value->flags.enabled && value->color == DUMP_GREEN ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
