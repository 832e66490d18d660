/* SPDX-License-Identifier: GPL-2.0
 *
 * xdp_firewall: the blocklist firewall behind xdp-block.
 *
 * For every frame: parse Ethernet, at most one 802.1Q or 802.1ad VLAN tag, then IPv4 or IPv6,
 * with the bounds checks the verifier demands. Drop when the source address is in an exact
 * blocklist (BLOCKLIST for IPv4, keyed in host byte order; BLOCKLIST6 for IPv6) or inside a
 * blocked prefix (CIDR4 / CIDR6 LPM tries); otherwise pass. A table user space has marked
 * empty in its skip word (skip_table, .bss) is not looked up, and neither is CIDR4 for a source
 * whose /16 user space has marked as covered by no prefix (cidr4_skip16, .bss). Every verdict
 * is counted per CPU in STATS (packets and bytes per action); every blocking entry counts its
 * hits in its value.
 * With `events_enabled` set before load, a dropped packet also emits a `struct drop_event`
 * into the EVENTS ring buffer, at most `events_per_second` per CPU per second; an event the
 * full ring refuses is counted as lost in EVENT_BUDGET.
 *
 * The path of a frame is kept short: the checks go cheapest first (the frame's own fields,
 * then a skip word, then the hash table, then the /16 bit, then the LPM trie), and the drop
 * event is built only when one is sent, never for a frame that passes.
 *
 * The map layout is the contract in firewall.h.
 *
 * Kernel versions: BTF-defined maps and global data need 5.2; the ring buffer 5.8;
 * attaching through a bpf_link 5.9. Loads and runs on this project's test kernel (6.18).
 */
#include "xdpkit_bpf.h"
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include "firewall.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, FIREWALL_MAX_EXACT);
} BLOCKLIST SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct in6_key);
	__type(value, __u64);
	__uint(max_entries, FIREWALL_MAX_EXACT);
} BLOCKLIST6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct lpm4_key);
	__type(value, __u64);
	__uint(max_entries, FIREWALL_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} CIDR4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct lpm6_key);
	__type(value, __u64);
	__uint(max_entries, FIREWALL_MAX_PREFIXES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} CIDR6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct action_stats);
	__uint(max_entries, XDP_REDIRECT + 1);
} STATS SEC(".maps");

struct {
	__records(BPF_MAP_TYPE_RINGBUF, struct drop_event);
	__uint(max_entries, FIREWALL_EVENT_RING_BYTES);
} EVENTS SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct event_budget);
	__uint(max_entries, 1);
} EVENT_BUDGET SEC(".maps");

/* Configuration, fixed at load time (.rodata, frozen). */
const volatile __u32 events_enabled = 0;
const volatile __u32 events_per_second = 100;

/* Per-table skip words (.bss, mmapped by user space; see firewall.h): skip_table[TABLE_…]
 * zero, as loaded, means "look the table up"; non-zero means user space has verified that the
 * table is empty, and the program does not look it up. */
__u32 skip_table[FIREWALL_TABLES] = {};

/* CIDR4's /16 bitmap (.bss, after skip_table; see firewall.h): the /16 s of an IPv4 source (its
 * first two octets, a << 8 | b) is bit s % 64 of cidr4_skip16[s / 64]. Zero, as loaded, means
 * "walk CIDR4"; one means user space has verified that no CIDR4 prefix covers the /16. */
__u64 cidr4_skip16[FIREWALL_SKIP16_WORDS] = {};

struct vlan_tag {
	__be16 tci;
	__be16 encapsulated_proto;
};

/* Per-CPU token window: at most events_per_second events per CPU per second. Returns this
 * CPU's budget when the event may be sent, NULL when not. */
static __always_inline struct event_budget *event_allowed(__u64 now)
{
	__u32 zero = 0;
	struct event_budget *budget = bpf_map_lookup_elem(&EVENT_BUDGET, &zero);

	if (!budget)
		return 0;
	if (now - budget->window_start_ns >= 1000000000ULL) {
		budget->window_start_ns = now;
		budget->sent = 0;
	}
	if (budget->sent >= events_per_second)
		return 0;
	budget->sent += 1;
	return budget;
}

/* Counts the verdict in STATS and returns it. */
static __always_inline int verdict(__u32 action, __u32 length)
{
	struct action_stats *stats = bpf_map_lookup_elem(&STATS, &action);

	if (stats) {
		stats->packets += 1;
		stats->bytes += length;
	}
	return action;
}

/* Looks `key` up in `table`. On a hit — the source is blocked — counts it in the entry's value
 * (`wide`: a __u64 value, else __u32) and, with events on, sends a
 * drop event (built here only, never on the way of a frame that passes). `source` points at
 * the source address in the packet: 4 bytes for family 4, 16 for family 6. */
static __always_inline int blocked(void *table, const void *key, int wide, __u8 family, enum drop_reason reason,
				   const void *source, _Bool vlan_tagged, __u32 length)
{
	void *hits = bpf_map_lookup_elem(table, key);

	if (!hits)
		return 0;
	if (wide)
		__sync_fetch_and_add((__u64 *)hits, 1);
	else
		__sync_fetch_and_add((__u32 *)hits, 1);
	if (events_enabled) {
		__u64 now = bpf_ktime_get_ns();
		struct event_budget *budget = event_allowed(now);

		if (budget) {
			struct drop_event event = {};

			event.timestamp_ns = now;
			event.family = family;
			event.action = XDP_DROP;
			event.reason = reason;
			event.vlan_tagged = vlan_tagged;
			event.packet_length = length;
			if (family == 4)
				__builtin_memcpy(event.addr, source, 4);
			else
				__builtin_memcpy(event.addr, source, 16);
			/* A full ring (no reader, or a slow one) refuses the record: count it. */
			if (bpf_ringbuf_output(&EVENTS, &event, sizeof(event), 0))
				budget->lost += 1;
		}
	}
	return 1;
}

/* Whether user space has marked the /16 of `source_host_order` as covered by no CIDR4 prefix. */
static __always_inline int slash16_skipped(__u32 source_host_order)
{
	__u32 slash16 = source_host_order >> 16;

	return (cidr4_skip16[slash16 / 64] >> (slash16 % 64)) & 1;
}

/* The checks, cheapest first: per family the exact hash table before the LPM trie, and a table
 * user space has marked empty is not looked up at all; nor is CIDR4 for a /16 no prefix
 * covers. */
SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 length = (__u32)(data_end - data);
	struct ethhdr *eth = data;
	void *cursor;
	__u16 proto;
	_Bool vlan_tagged = 0;

	if ((void *)(eth + 1) > data_end)
		goto out;
	/* One 16-bit load (struct ethhdr is packed, which would make it two byte loads). */
	proto = ((__u16 *)data)[6];
	cursor = eth + 1;

	/* Untagged IPv4 and IPv6 first: the common frames pay for no VLAN test. */
	if (proto != xdpkit_htons(ETH_P_IP) && proto != xdpkit_htons(ETH_P_IPV6)) {
		struct vlan_tag *tag = cursor;

		if (proto != xdpkit_htons(ETH_P_8021Q) && proto != xdpkit_htons(ETH_P_8021AD))
			goto out;
		if ((void *)(tag + 1) > data_end)
			goto out;
		proto = tag->encapsulated_proto;
		cursor = tag + 1;
		vlan_tagged = 1;
	}

	if (proto == xdpkit_htons(ETH_P_IP)) {
		struct iphdr *ip = cursor;
		__u32 source_host_order;

		if ((void *)(ip + 1) > data_end)
			goto out;
		source_host_order = xdpkit_ntohl(ip->saddr);
		if (!skip_table[TABLE_BLOCKLIST] &&
		    blocked(&BLOCKLIST, &source_host_order, 0, 4, REASON_EXACT4, &ip->saddr, vlan_tagged, length))
			goto dropped;
		if (!skip_table[TABLE_CIDR4] && !slash16_skipped(source_host_order)) {
			struct lpm4_key key = { .prefixlen = 32 };

			__builtin_memcpy(key.addr, &ip->saddr, 4);
			if (blocked(&CIDR4, &key, 1, 4, REASON_PREFIX4, &ip->saddr, vlan_tagged, length))
				goto dropped;
		}
	} else if (proto == xdpkit_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cursor;

		if ((void *)(ip6 + 1) > data_end)
			goto out;
		/* Aligned keys: clang copies the address in 4-byte words, not byte by byte. */
		if (!skip_table[TABLE_BLOCKLIST6]) {
			struct in6_key exact __attribute__((aligned(8)));

			__builtin_memcpy(exact.addr, &ip6->saddr, 16);
			if (blocked(&BLOCKLIST6, &exact, 1, 6, REASON_EXACT6, &ip6->saddr, vlan_tagged, length))
				goto dropped;
		}
		if (!skip_table[TABLE_CIDR6]) {
			struct lpm6_key key __attribute__((aligned(8))) = { .prefixlen = 128 };

			__builtin_memcpy(key.addr, &ip6->saddr, 16);
			if (blocked(&CIDR6, &key, 1, 6, REASON_PREFIX6, &ip6->saddr, vlan_tagged, length))
				goto dropped;
		}
	}
out:
	return verdict(XDP_PASS, length);
dropped:
	return verdict(XDP_DROP, length);
}

char LICENSE[] SEC("license") = "GPL";
