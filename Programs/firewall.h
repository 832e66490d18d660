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
 * Skip words and the CIDR4 /16 bitmap (.bss, BPF_F_MMAPABLE; the map's single value, 8,208
 * bytes, pinned by xdp-block as `bss` next to the maps):
 *   offset 0   __u32 skip_table[4]        indexed by enum firewall_table (BLOCKLIST 0,
 *                                          BLOCKLIST6 1, CIDR4 2, CIDR6 3): word N at 4 × N
 *   offset 16  __u64 cidr4_skip16[1024]   one bit per /16 of IPv4: the /16 s of a source (its
 *                                          first two octets, a << 8 | b) is bit s % 64 of
 *                                          word s / 64, at 16 + 8 × (s / 64)
 * Zero (as loaded) means "look it up": a zero skip word, the program looks its table up; a zero
 * bit, it walks CIDR4 for sources in that /16. Non-zero means user space has verified that there
 * is nothing to find: the table is empty, or no CIDR4 prefix covers the /16; the program skips
 * the lookup. Whoever writes a table must keep the words and bits true:
 *   - before inserting into a table, store 0 in its word; store 0 again after the insert (a
 *     concurrent "mark empty" that checked before the insert is then overruled);
 *   - store non-zero only after finding the table empty (BPF_MAP_GET_NEXT_KEY answers ENOENT),
 *     then check again, and store 0 if it is no longer empty;
 *   - before inserting a prefix into CIDR4, clear every bit of the /16s it covers (one for /16
 *     to /32; 2^(16 - length) for a shorter one: 256 for a /8, all 65,536 for a /0), and clear
 *     them again after the insert;
 *   - set a bit only after dumping CIDR4 and finding no prefix that covers its /16; then dump
 *     again and clear every bit a prefix now covers. A remove may leave bits clear (it only costs
 *     walks); xdp-block recomputes the bitmap on load and after removing a prefix.
 * Storing 0 is always safe (it only costs the lookup). Word stores must go through the mmapped
 * value (one atomic 32- or 64-bit store, or atomic AND, per word), or be a lookup-modify-update
 * of the whole value by a writer that excludes the others: an update of the whole value can
 * undo another writer's 0.
 * A writer that knows nothing of the bitmap can insert a prefix under a set bit: the program
 * then does not walk CIDR4 for sources in that /16, and blocked traffic passes until the bits
 * are recomputed. An older xdp-block refuses this .bss (it expects 16 bytes) and writes nothing;
 * bpftool does not refuse. Third-party writers (bpftool map update on xdp-block's pins) must
 * therefore write the `bss` pin next to the maps first, all zero (every word and every bit:
 * look everything up), before inserting into a table:
 *   bpftool map update pinned …/bss key hex 00 00 00 00 \
 *           value hex $(head -c 8208 /dev/zero | od -An -v -tx1)
 * The next xdp-block remove, or a new attach, sets the words and bits again.
 */
#ifndef XDPKIT_FIREWALL_H
#define XDPKIT_FIREWALL_H

#define FIREWALL_MAX_EXACT 131072
#define FIREWALL_MAX_PREFIXES 16384
#define FIREWALL_EVENT_RING_BYTES (256 * 1024)
/* 64-bit words of cidr4_skip16: one bit per /16, 65,536 bits. */
#define FIREWALL_SKIP16_WORDS 1024

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
