/* SPDX-License-Identifier: Apache-2.0
 *
 * libbpf-bench suite 5: the bare XDP_DROP floor and xdp-filter under BPF_PROG_TEST_RUN.
 */
#include "libbpf_bench.h"

/* ---- 5. data path: bare XDP_DROP and xdp-filter under BPF_PROG_TEST_RUN -------------------- */

struct frame {
	const char *name;
	void *bytes;
	size_t size;
	int filter_verdict; /* what xdp-filter must answer, -1: frame not used for xdp-filter */
};

/* Runs the program `repeat` times on the frame and emits `metric` (the kernel's average, whole
 * nanoseconds) and `metric.cpu` (this thread's CPU time for the call / repeat). Returns the
 * verdict. */
static int test_run(int program_fd, const struct frame *frame, unsigned int repeat, const char *metric)
{
	LIBBPF_OPTS(bpf_test_run_opts, options, .data_in = frame->bytes, .data_size_in = frame->size,
		    .repeat = repeat);
	uint64_t cpu = cpu_ns();
	char cpu_metric[160];

	if (bpf_prog_test_run_opts(program_fd, &options))
		die("bpf_prog_test_run_opts(%s): %s", frame->name, strerror(errno));
	cpu = cpu_ns() - cpu;
	snprintf(cpu_metric, sizeof(cpu_metric), "%s.cpu", metric);
	sample(metric, "ns", options.duration);
	sample(cpu_metric, "ns", (double)cpu / repeat);
	return (int)options.retval;
}

/* Loads xdp-filter's object with its filter_ipv4 map sized for `max_entries` and filled with
 * `count` source addresses (network byte order, per-CPU value FILTER src = bit 0 on every
 * CPU). Pinning is switched off: nothing is written to bpffs. */
static struct bpf_object *load_xdp_filter(const char *path, uint32_t max_entries, uint32_t count, int *program_fd)
{
	struct bpf_object *object = bpf_object__open_file(path, NULL);
	struct bpf_map *map;
	struct bpf_program *program;
	int cpus = libbpf_num_possible_cpus(), fd, err;
	uint32_t *keys;
	uint64_t *values;

	if (!object)
		die("bpf_object__open_file(%s): %s", path, strerror(errno));
	bpf_object__for_each_map(map, object) {
		if (bpf_map__set_pin_path(map, NULL))
			die("bpf_map__set_pin_path(%s, NULL)", bpf_map__name(map));
	}
	map = bpf_object__find_map_by_name(object, "filter_ipv4");
	if (!map)
		die("%s has no filter_ipv4 map", path);
	if (bpf_map__set_max_entries(map, max_entries))
		die("bpf_map__set_max_entries");
	err = bpf_object__load(object);
	if (err)
		die("bpf_object__load(%s): %s", path, strerror(-err));
	program = bpf_object__next_program(object, NULL);
	if (!program)
		die("%s has no program", path);
	*program_fd = bpf_program__fd(program);
	fd = bpf_map__fd(map);

	keys = malloc(count * sizeof(*keys));
	values = malloc((size_t)count * cpus * sizeof(*values));
	for (uint32_t i = 0; i < count; i++) {
		keys[i] = htonl(fill_key(i));
		for (int c = 0; c < cpus; c++)
			values[(size_t)i * cpus + c] = 1; /* MAP_FLAG_SRC: match the source address */
	}
	for (uint32_t done = 0; done < count;) {
		LIBBPF_OPTS(bpf_map_batch_opts, options);
		uint32_t n = count - done < 65536 ? count - done : 65536;

		if (bpf_map_update_batch(fd, keys + done, values + (size_t)done * cpus, &n, &options))
			die("fill filter_ipv4: %s", strerror(errno));
		done += n;
	}
	free(keys);
	free(values);
	return object;
}

void suite_datapath(int argc, char **argv)
{
	struct frame frames[] = {
		{ "ipv4_hit", NULL, 0, XDP_DROP },
		{ "ipv4_miss", NULL, 0, XDP_PASS },
		{ "ipv6_miss", NULL, 0, XDP_PASS },
		{ "cidr_hit", NULL, 0, -1 }, /* xdp-filter has no prefixes */
	};
	const size_t frame_count = sizeof(frames) / sizeof(frames[0]);
	struct { const char *label; uint32_t max_entries, count; } fills[] = {
		{ "1k", 10000, 1000 },          /* as shipped: filter_ipv4 max_entries 10000 */
		{ "1m", 1u << 20, 1000000 },
	};
	const char *dir, *filter_path;
	unsigned int repeat, rounds;
	struct bpf_object *drop;
	int drop_fd;
	char path[4096];

	if (argc != 4)
		die("usage: datapath FIXTURES_DIR XDP_FILTER_OBJ REPEAT ROUNDS");
	dir = argv[0];
	filter_path = argv[1];
	repeat = (unsigned int)strtoul(argv[2], NULL, 10);
	rounds = (unsigned int)strtoul(argv[3], NULL, 10);
	for (size_t f = 0; f < frame_count; f++) {
		snprintf(path, sizeof(path), "%s/frame_%s.bin", dir, frames[f].name);
		frames[f].bytes = read_file(path, &frames[f].size);
	}
	snprintf(path, sizeof(path), "%s/xdp_drop.o", dir);
	drop = bpf_object__open_file(path, NULL);
	if (!drop || bpf_object__load(drop))
		die("load %s: %s", path, strerror(errno));
	drop_fd = bpf_program__fd(bpf_object__next_program(drop, NULL));

	for (size_t l = 0; l < sizeof(fills) / sizeof(fills[0]); l++) {
		int filter_fd;
		struct bpf_object *filter = load_xdp_filter(filter_path, fills[l].max_entries, fills[l].count, &filter_fd);

		for (unsigned int r = 0; r < rounds; r++) {
			for (size_t f = 0; f < frame_count; f++) {
				char metric[128];

				if (frames[f].filter_verdict >= 0) {
					int verdict;

					snprintf(metric, sizeof(metric), "dp.xdpfilter.%s.%s", fills[l].label, frames[f].name);
					verdict = test_run(filter_fd, &frames[f], repeat, metric);
					if (verdict != frames[f].filter_verdict)
						die("xdp-filter answered %d for %s, expected %d", verdict,
						    frames[f].name, frames[f].filter_verdict);
				}
				snprintf(metric, sizeof(metric), "dp.floor.%s.%s", fills[l].label, frames[f].name);
				if (test_run(drop_fd, &frames[f], repeat, metric) != XDP_DROP)
					die("xdp_drop did not drop");
			}
		}
		bpf_object__close(filter);
	}
	bpf_object__close(drop);
}
