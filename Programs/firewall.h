/* SPDX-License-Identifier: GPL-2.0
 *
 * The contract between the blocklist firewall (xdp_firewall.c) and user space
 * (XDPKit's xdp-block tool). Any change here must change both sides.
 *
 * Maps (BTF-defined, in .maps):
 *   BLOCKLIST   HASH      key __u32   IPv4 source address, HOST byte order
 *                         value __u32 hits (packets dropped because of this entry)
 *   BLOCKLIST6  HASH      key struct in6_key (16 bytes, network byte order)
 *                         value __u64 hits
 *   CIDR4       LPM_TRIE  key struct lpm4_key {prefixlen; 4 address bytes, network order}
 *                         value __u64 hits
 *   CIDR6       LPM_TRIE  key struct lpm6_key {prefixlen; 16 address bytes}
 *                         value __u64 hits
 *   STATS       PERCPU_ARRAY  index = XDP action (0 aborted … 4 redirect)
 *                         value struct action_stats {packets; bytes}
 *   EVENTS      RINGBUF   struct drop_event per dropped packet, rate-limited (named with
 *                         __records, so that XDPKit's generated API decodes it)
 *   EVENT_BUDGET PERCPU_ARRAY one struct event_budget per CPU (rate-limit state, and the
 *                         count of drop events lost because EVENTS was full)
 *
 * Configuration (.rodata, set before load): events_enabled, events_per_second.
 *
 * Skip words (.bss, the section's only variable, BPF_F_MMAPABLE): __u32 skip_table[4],
 * indexed by enum firewall_table (BLOCKLIST 0, BLOCKLIST6 1, CIDR4 2, CIDR6 3), so word N is at
 * byte offset 4 × N of the .bss map's single value. Zero (as loaded): the program looks the
 * table up. Non-zero: user space has verified the table is empty, and the program skips its
 * lookup. Whoever writes a table must keep its word true:
 *   - before inserting into a table, store 0 in its word; store 0 again after the insert (a
 *     concurrent "mark empty" that checked before the insert is then overruled);
 *   - store non-zero only after finding the table empty (BPF_MAP_GET_NEXT_KEY answers ENOENT),
 *     then check again, and store 0 if it is no longer empty.
 * Storing 0 is always safe (it only costs the lookup). Word stores must go through the mmapped
 * value, or be a lookup-modify-update of the whole value by a writer that excludes the others:
 * an update of the whole value can undo another writer's 0. Third-party writers (bpftool map
 * update on xdp-block's pins) write the `bss` pin next to the maps first, e.g. all words 0:
 *   bpftool map update pinned …/bss key hex 00 00 00 00 value hex 00 00 00 00 00 00 00 00 \
 *           00 00 00 00 00 00 00 00
 */
#ifndef XDPKIT_FIREWALL_H
#define XDPKIT_FIREWALL_H

#define FIREWALL_MAX_EXACT 131072
#define FIREWALL_MAX_PREFIXES 16384
#define FIREWALL_EVENT_RING_BYTES (256 * 1024)

/* The tables, as indices of skip_table. */
enum firewall_table {
	TABLE_BLOCKLIST = 0,
	TABLE_BLOCKLIST6 = 1,
	TABLE_CIDR4 = 2,
	TABLE_CIDR6 = 3,
	FIREWALL_TABLES = 4,
};

/* Why a packet was dropped. */
enum drop_reason {
	REASON_NONE = 0,
	REASON_EXACT4 = 1,
	REASON_EXACT6 = 2,
	REASON_PREFIX4 = 3,
	REASON_PREFIX6 = 4,
};

struct in6_key {
	__u8 addr[16];
};

struct lpm4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct lpm6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct action_stats {
	__u64 packets;
	__u64 bytes;
};

/* 32 bytes. addr holds 4 bytes (IPv4, network order) or 16 (IPv6). action and reason are
 * one byte each (8-bit fields of their enums, so that the record's BTF names the enums). */
struct drop_event {
	__u64 timestamp_ns;		/* bpf_ktime_get_ns() */
	__u8 family;			/* 4 or 6 */
	enum xdp_action action : 8;	/* XDP action taken */
	enum drop_reason reason : 8;
	_Bool vlan_tagged;		/* 1 when the frame carried an 802.1Q/802.1ad tag */
	__u32 packet_length;
	__u8 addr[16];
};

_Static_assert(sizeof(struct drop_event) == 32, "struct drop_event is 32 bytes");

/* Per CPU: the rate-limit window, and the events the ring refused because it was full. */
struct event_budget {
	__u64 window_start_ns;
	__u32 sent;
	__u32 pad;
	__u64 lost;		/* drop events lost: bpf_ringbuf_output failed (ring full) */
};

#endif
