/* SPDX-License-Identifier: Apache-2.0
 *
 * xsk_bench: the libxdp side of the AF_XDP suite (Documentation/Benchmarks.md, suite 12).
 * The same loops as Benchmarks/Sources/xdpkit-bench/XSKSuite.swift, written against libxdp's
 * xsk API (xsk_umem__create, xsk_socket__create, the xsk_ring_* inline ring calls), with the
 * same settings: 4096 frames of 4096 bytes, 2048-slot rings, batches of 64, copy mode with
 * need_wakeup, and for RX and echo the same redirect program (XDPKit's
 * Programs/xdp_xsk_redirect.c, loaded with libbpf and attached in native mode through a
 * bpf_link), so that both sides differ only in the user-space library.
 *
 *   xsk_bench rx|tx|echo IFACE WARMUP PACKETS REDIRECT_O READY_FILE
 *
 * Prints samples as `libxdp TAB metric TAB unit TAB value`; see report_sample below for the
 * metrics. READY_FILE is created once the socket is bound and the program attached: the
 * script starts the traffic generator then.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <xdp/xsk.h>

#define FRAME_SIZE 4096u
#define FRAME_COUNT 4096u
#define RING_SIZE 2048u
#define BATCH 64u
/* The receive side keeps min(fill ring, half the frames) in circulation, as XDPSocket does. */
#define RX_FRAMES (RING_SIZE < FRAME_COUNT / 2 ? RING_SIZE : FRAME_COUNT / 2)
#define TX_FRAMES (FRAME_COUNT - RX_FRAMES)
#define ADDRESS_MASK (~(uint64_t)(FRAME_SIZE - 1))

/* The 60-byte IPv4/UDP frame the TX suite sends (the fixtures' ipv4_miss frame). */
static const uint8_t frame_template[60] = {
	0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
	0x45, 0, 0x00, 0x2e, 0, 0, 0x40, 0, 64, 17, 0x4d, 0x86, 198, 51, 100, 7, 192, 0, 2, 254,
	0x9c, 0x40, 0x00, 0x09, 0x00, 0x1a, 0, 0,
};

struct bench {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons completion, rx;
	void *area;
	int fd;
	uint64_t free_frames[TX_FRAMES];
	uint32_t free_count;
	uint64_t batches; /* non-empty batches in the timed part */
};

static void die(const char *what, int error)
{
	fprintf(stderr, "xsk_bench: %s: %s\n", what, strerror(error < 0 ? -error : error));
	exit(1);
}

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void thread_usage(uint64_t *user_ns, uint64_t *system_ns)
{
	struct rusage usage;
	getrusage(RUSAGE_THREAD, &usage);
	*user_ns = (uint64_t)usage.ru_utime.tv_sec * 1000000000ull + (uint64_t)usage.ru_utime.tv_usec * 1000ull;
	*system_ns = (uint64_t)usage.ru_stime.tv_sec * 1000000000ull + (uint64_t)usage.ru_stime.tv_usec * 1000ull;
}

/* This thread's allocations, when Benchmarks/C/malloc_count.c is preloaded. */
static uint64_t (*thread_allocations)(void);

static void report_sample(const char *mode, const char *metric, const char *unit, double value)
{
	printf("libxdp\txsk.%s.%s\t%s\t%.3f\n", mode, metric, unit, value);
}

static void setup(struct bench *b, const char *interface, int redirect, const char *object_path)
{
	struct xsk_umem_config umem_config = {
		.fill_size = RING_SIZE, .comp_size = RING_SIZE, .frame_size = FRAME_SIZE,
		.frame_headroom = 0, .flags = 0,
	};
	struct xsk_socket_config socket_config = {
		.rx_size = RING_SIZE, .tx_size = RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = XDP_FLAGS_DRV_MODE,
		.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	uint32_t index, i;
	int error;

	b->area = mmap(NULL, (size_t)FRAME_SIZE * FRAME_COUNT, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->area == MAP_FAILED)
		die("mmap UMEM", errno);
	error = xsk_umem__create(&b->umem, b->area, (uint64_t)FRAME_SIZE * FRAME_COUNT, &b->fill,
				 &b->completion, &umem_config);
	if (error)
		die("xsk_umem__create", error);
	error = xsk_socket__create(&b->xsk, interface, 0, b->umem, &b->rx, &b->tx, &socket_config);
	if (error)
		die("xsk_socket__create", error);
	b->fd = xsk_socket__fd(b->xsk);

	if (xsk_ring_prod__reserve(&b->fill, RX_FRAMES, &index) != RX_FRAMES)
		die("fill ring reserve", ENOSPC);
	for (i = 0; i < RX_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&b->fill, index + i) = (uint64_t)i * FRAME_SIZE;
	xsk_ring_prod__submit(&b->fill, RX_FRAMES);
	for (i = 0; i < TX_FRAMES; i++)
		b->free_frames[i] = (uint64_t)(FRAME_COUNT - 1 - i) * FRAME_SIZE;
	b->free_count = TX_FRAMES;

	if (redirect) {
		struct bpf_object *object = bpf_object__open_file(object_path, NULL);
		struct bpf_program *program;
		struct bpf_map *map;
		int ifindex = (int)if_nametoindex(interface), fd, key = 0;
		LIBBPF_OPTS(bpf_link_create_opts, options, .flags = XDP_FLAGS_DRV_MODE);

		if (!object || (error = bpf_object__load(object)))
			die("load the redirect program", object ? error : errno);
		program = bpf_object__find_program_by_name(object, "xdp_xsk_redirect");
		map = bpf_object__find_map_by_name(object, "XSKS");
		if (!program || !map)
			die("the redirect object has no xdp_xsk_redirect or XSKS", ENOENT);
		fd = xsk_socket__fd(b->xsk);
		if (bpf_map_update_elem(bpf_map__fd(map), &key, &fd, 0))
			die("XSKS update", errno);
		/* The link goes away with the process: nothing stays on the interface. */
		if (bpf_link_create(bpf_program__fd(program), ifindex, BPF_XDP, &options) < 0)
			die("attach the redirect program", errno);
	}
}

static void reap_completions(struct bench *b)
{
	uint32_t index, i, done = xsk_ring_cons__peek(&b->completion, RING_SIZE, &index);

	for (i = 0; i < done; i++)
		b->free_frames[b->free_count++] = *xsk_ring_cons__comp_addr(&b->completion, index + i) & ADDRESS_MASK;
	if (done)
		xsk_ring_cons__release(&b->completion, done);
}

static void wake_transmit(struct bench *b)
{
	if (xsk_ring_prod__needs_wakeup(&b->tx))
		sendto(b->fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
}

static int wait_for_receive(struct bench *b)
{
	struct pollfd entry = { .fd = b->fd, .events = POLLIN };
	return poll(&entry, 1, 3000) > 0;
}

/* Received frames back to the fill ring. It holds every receive frame, so there is room once
 * the kernel has published how far it consumed the ring, which it does just after publishing
 * the RX producer index: wait for that store, as XDPSocket does. */
static void recycle(struct bench *b, uint32_t start, uint32_t count)
{
	uint32_t index, i, tries = 0;

	while (xsk_ring_prod__reserve(&b->fill, count, &index) != count)
		if (++tries > 64)
			sched_yield();
	for (i = 0; i < count; i++)
		*xsk_ring_prod__fill_addr(&b->fill, index + i) =
			xsk_ring_cons__rx_desc(&b->rx, start + i)->addr & ADDRESS_MASK;
	xsk_ring_cons__release(&b->rx, count);
	xsk_ring_prod__submit(&b->fill, count);
}

/* RX only: receive, read each frame's first byte and length, give the frames back. */
static uint64_t run_rx(struct bench *b, uint64_t packets, uint64_t *sink)
{
	uint64_t received = 0;

	while (received < packets) {
		uint32_t start, i, count = xsk_ring_cons__peek(&b->rx, BATCH, &start);

		if (count == 0) {
			if (xsk_ring_prod__needs_wakeup(&b->fill))
				recvfrom(b->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
			count = xsk_ring_cons__peek(&b->rx, BATCH, &start);
		}
		if (count == 0) {
			if (!wait_for_receive(b))
				break;
			continue;
		}
		for (i = 0; i < count; i++) {
			const struct xdp_desc *desc = xsk_ring_cons__rx_desc(&b->rx, start + i);
			*sink += *(const uint8_t *)xsk_umem__get_data(b->area, desc->addr) + desc->len;
		}
		recycle(b, start, count);
		received += count;
		b->batches++;
	}
	return received;
}

/* TX only: queue copies of the template, 64 at a time, until PACKETS were queued, then wait
 * until every frame has completed. */
static uint64_t run_tx(struct bench *b, uint64_t packets, uint64_t *sink)
{
	uint64_t queued = 0;

	while (queued < packets) {
		uint32_t want, index, i;

		reap_completions(b);
		want = BATCH < b->free_count ? BATCH : b->free_count;
		if (packets - queued < want)
			want = (uint32_t)(packets - queued);
		if (want && xsk_ring_prod__reserve(&b->tx, want, &index) == want) {
			for (i = 0; i < want; i++) {
				uint64_t address = b->free_frames[--b->free_count];
				struct xdp_desc *desc = xsk_ring_prod__tx_desc(&b->tx, index + i);

				memcpy(xsk_umem__get_data(b->area, address), frame_template, sizeof frame_template);
				desc->addr = address;
				desc->len = sizeof frame_template;
				desc->options = 0;
			}
			xsk_ring_prod__submit(&b->tx, want);
			queued += want;
			b->batches++;
		}
		wake_transmit(b);
	}
	while (b->free_count < TX_FRAMES) {
		reap_completions(b);
		if (b->free_count < TX_FRAMES)
			wake_transmit(b);
	}
	*sink += queued;
	return queued;
}

/* Echo: each received frame copied into a free frame with its MAC addresses swapped and sent
 * back; only as many taken as there are TX slots and free frames. */
static uint64_t run_echo(struct bench *b, uint64_t packets, uint64_t *sink)
{
	uint64_t echoed = 0;

	while (echoed < packets) {
		uint32_t room, start, tx_index, i, count;

		reap_completions(b);
		room = BATCH < b->free_count ? BATCH : b->free_count;
		room = xsk_prod_nb_free(&b->tx, room) < room ? xsk_prod_nb_free(&b->tx, room) : room;
		count = room ? xsk_ring_cons__peek(&b->rx, room, &start) : 0;
		if (count == 0) {
			/* Nothing taken: wait only if nothing was received (not for TX room). */
			wake_transmit(b);
			if (xsk_cons_nb_avail(&b->rx, 1) == 0 && !wait_for_receive(b))
				break;
			continue;
		}
		if (xsk_ring_prod__reserve(&b->tx, count, &tx_index) != count)
			die("TX ring reserve", ENOSPC);
		for (i = 0; i < count; i++) {
			const struct xdp_desc *in = xsk_ring_cons__rx_desc(&b->rx, start + i);
			uint64_t address = b->free_frames[--b->free_count];
			uint8_t *reply = xsk_umem__get_data(b->area, address);
			uint8_t mac[6];
			struct xdp_desc *out = xsk_ring_prod__tx_desc(&b->tx, tx_index + i);

			memcpy(reply, xsk_umem__get_data(b->area, in->addr), in->len);
			memcpy(mac, reply, 6);
			memcpy(reply, reply + 6, 6);
			memcpy(reply + 6, mac, 6);
			out->addr = address;
			out->len = in->len;
			out->options = 0;
			*sink += reply[0];
		}
		recycle(b, start, count);
		xsk_ring_prod__submit(&b->tx, count);
		wake_transmit(b);
		echoed += count;
		b->batches++;
	}
	return echoed;
}

int main(int argc, char **argv)
{
	struct bench *b;
	uint64_t warmup, packets, done, sink = 0, wall, cpu, user, system, user0, system0, allocs = 0;
	uint64_t (*run)(struct bench *, uint64_t, uint64_t *);
	const char *mode;
	int fd;

	if (argc != 7) {
		fprintf(stderr, "usage: xsk_bench rx|tx|echo IFACE WARMUP PACKETS REDIRECT_O READY_FILE\n");
		return 2;
	}
	mode = argv[1];
	if (!strcmp(mode, "rx"))
		run = run_rx;
	else if (!strcmp(mode, "tx"))
		run = run_tx;
	else if (!strcmp(mode, "echo"))
		run = run_echo;
	else
		die("mode must be rx, tx or echo", EINVAL);
	warmup = strtoull(argv[3], NULL, 10);
	packets = strtoull(argv[4], NULL, 10);
	thread_allocations = (uint64_t (*)(void))dlsym(RTLD_DEFAULT, "xdpbench_thread_allocations");

	b = calloc(1, sizeof *b);
	if (!b)
		die("calloc", ENOMEM);
	setup(b, argv[2], strcmp(mode, "tx") != 0, argv[5]);
	fd = open(argv[6], O_CREAT | O_WRONLY, 0600);
	if (fd < 0)
		die("create the ready file", errno);
	close(fd);

	if (run(b, warmup, &sink) < warmup)
		die("traffic stopped during the warm-up", ETIMEDOUT);
	b->batches = 0;
	if (thread_allocations)
		allocs = thread_allocations();
	thread_usage(&user0, &system0);
	wall = clock_ns(CLOCK_MONOTONIC);
	cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	done = run(b, packets, &sink);
	cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu;
	wall = clock_ns(CLOCK_MONOTONIC) - wall;
	thread_usage(&user, &system);
	if (thread_allocations)
		allocs = thread_allocations() - allocs;
	if (done < packets)
		die("traffic stopped before the count was reached", ETIMEDOUT);

	report_sample(mode, "pps", "pps", (double)done / ((double)cpu / 1e9));
	report_sample(mode, "pps.wall", "pps", (double)done / ((double)wall / 1e9));
	report_sample(mode, "user", "ns", (double)(user - user0) / (double)done);
	report_sample(mode, "system", "ns", (double)(system - system0) / (double)done);
	report_sample(mode, "batch", "packets", b->batches ? (double)done / (double)b->batches : 0);
	if (thread_allocations)
		report_sample(mode, "allocs", "allocs/packet", (double)allocs / (double)done);
	if (sink == 42)
		fprintf(stderr, "\n");
	xsk_socket__delete(b->xsk);
	xsk_umem__delete(b->umem);
	return 0;
}
