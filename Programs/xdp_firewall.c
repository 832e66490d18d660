/* SPDX-License-Identifier: GPL-2.0
 *
 * xdp_firewall: the blocklist firewall behind xdp-block.
 *
 * For every frame: parse Ethernet, at most one 802.1Q or 802.1ad VLAN tag, then IPv4 or IPv6,
 * with the bounds checks the verifier demands. Drop when the source address is in an exact
 * blocklist (BLOCKLIST for IPv4, keyed in host byte order; BLOCKLIST6 for IPv6) or inside a
 * blocked prefix (CIDR4 / CIDR6 LPM tries); otherwise pass. Every verdict is counted per CPU
 * in STATS (packets and bytes per action); every blocking entry counts its hits in its value.
 * With `events_enabled` set before load, a dropped packet also emits a `struct drop_event`
 * into the EVENTS ring buffer, at most `events_per_second` per CPU per second; an event the
 * full ring refuses is counted as lost in EVENT_BUDGET.
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

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 action = XDP_PASS;
	struct drop_event event = {};
	struct ethhdr *eth = data;
	void *cursor;
	__u16 proto;

	event.packet_length = (__u32)(data_end - data);
	if ((void *)(eth + 1) > data_end)
		goto count;
	proto = eth->h_proto;
	cursor = eth + 1;

	if (proto == xdpkit_htons(ETH_P_8021Q) || proto == xdpkit_htons(ETH_P_8021AD)) {
		struct vlan_tag *tag = cursor;

		if ((void *)(tag + 1) > data_end)
			goto count;
		proto = tag->encapsulated_proto;
		cursor = tag + 1;
		event.vlan_tagged = 1;
	}

	if (proto == xdpkit_htons(ETH_P_IP)) {
		struct iphdr *ip = cursor;
		__u32 source_host_order;
		__u32 *exact_hits;

		if ((void *)(ip + 1) > data_end)
			goto count;
		event.family = 4;
		__builtin_memcpy(event.addr, &ip->saddr, 4);
		source_host_order = xdpkit_ntohl(ip->saddr);
		exact_hits = bpf_map_lookup_elem(&BLOCKLIST, &source_host_order);
		if (exact_hits) {
			__sync_fetch_and_add(exact_hits, 1);
			action = XDP_DROP;
			event.reason = REASON_EXACT4;
		} else {
			struct lpm4_key key = { .prefixlen = 32 };
			__u64 *prefix_hits;

			__builtin_memcpy(key.addr, &ip->saddr, 4);
			prefix_hits = bpf_map_lookup_elem(&CIDR4, &key);
			if (prefix_hits) {
				__sync_fetch_and_add(prefix_hits, 1);
				action = XDP_DROP;
				event.reason = REASON_PREFIX4;
			}
		}
	} else if (proto == xdpkit_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cursor;
		struct in6_key exact = {};
		__u64 *exact_hits;

		if ((void *)(ip6 + 1) > data_end)
			goto count;
		event.family = 6;
		__builtin_memcpy(event.addr, &ip6->saddr, 16);
		__builtin_memcpy(exact.addr, &ip6->saddr, 16);
		exact_hits = bpf_map_lookup_elem(&BLOCKLIST6, &exact);
		if (exact_hits) {
			__sync_fetch_and_add(exact_hits, 1);
			action = XDP_DROP;
			event.reason = REASON_EXACT6;
		} else {
			struct lpm6_key key = { .prefixlen = 128 };
			__u64 *prefix_hits;

			__builtin_memcpy(key.addr, &ip6->saddr, 16);
			prefix_hits = bpf_map_lookup_elem(&CIDR6, &key);
			if (prefix_hits) {
				__sync_fetch_and_add(prefix_hits, 1);
				action = XDP_DROP;
				event.reason = REASON_PREFIX6;
			}
		}
	}

count:;
	struct action_stats *stats = bpf_map_lookup_elem(&STATS, &action);

	if (stats) {
		stats->packets += 1;
		stats->bytes += event.packet_length;
	}
	if (action == XDP_DROP && events_enabled) {
		__u64 now = bpf_ktime_get_ns();

		struct event_budget *budget = event_allowed(now);

		if (budget) {
			event.timestamp_ns = now;
			event.action = (enum xdp_action)action;
			/* A full ring (no reader, or a slow one) refuses the record: count it. */
			if (bpf_ringbuf_output(&EVENTS, &event, sizeof(event), 0))
				budget->lost += 1;
		}
	}
	return action;
}

char LICENSE[] SEC("license") = "GPL";
