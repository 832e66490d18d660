/* SPDX-License-Identifier: Apache-2.0
 *
 * libbpf-bench: the reference side of XDPKit's benchmark suite (Documentation/Benchmarks.md).
 *
 * Every suite does, through the system libbpf's public API, what the matching suite of the
 * Swift `xdpkit-bench` does through XDPKit, on the same object bytes, frames and keys, and
 * prints raw samples in the same format: one line per sample,
 *
 *     libbpf <TAB> metric <TAB> unit <TAB> value
 *
 * which `xdpkit-bench report` turns into the table. Run by Benchmarks/run.sh inside a network
 * namespace it made; the only interface touched is the veth named on the command line.
 *
 *   libbpf-bench attach   OBJ IFACE ITERATIONS WARMUP
 *   libbpf-bench maps     OBJ SAMPLES OPS
 *   libbpf-bench percpu   SAMPLES CALLS
 *   libbpf-bench batch    SAMPLES ENTRIES
 *   libbpf-bench datapath FIXTURES_DIR XDP_FILTER_OBJ REPEAT ROUNDS
 *   libbpf-bench parse    SAMPLES ITERATIONS NAME=OBJ...
 *   libbpf-bench btf      SAMPLES ITERATIONS VMLINUX
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dlfcn.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define SIDE "libbpf"

static void die(const char *format, ...)
{
	va_list args;

	va_start(args, format);
	fprintf(stderr, "libbpf-bench: ");
	vfprintf(stderr, format, args);
	fprintf(stderr, "\n");
	va_end(args);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* This thread's CPU time (user + system), not counting time spent waiting for a CPU. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sample(const char *metric, const char *unit, double value)
{
	printf(SIDE "\t%s\t%s\t%.3f\n", metric, unit, value);
}

/* Both clocks at once, as the Swift side's Stopwatch: `metric` from the thread's CPU time
 * (what the table uses), `metric.wall` from CLOCK_MONOTONIC. */
struct stopwatch {
	uint64_t wall, cpu;
};

static struct stopwatch stopwatch_start(void)
{
	struct stopwatch watch = { now_ns(), cpu_ns() };

	return watch;
}

static void stopwatch_emit(struct stopwatch watch, const char *metric, const char *unit, double divisor)
{
	double cpu = (double)(cpu_ns() - watch.cpu), wall = (double)(now_ns() - watch.wall);
	double scale = strcmp(unit, "ms") == 0 ? 1e6 : strcmp(unit, "us") == 0 ? 1e3 : 1;
	char wall_metric[160];

	snprintf(wall_metric, sizeof(wall_metric), "%s.wall", metric);
	sample(metric, unit, cpu / divisor / scale);
	sample(wall_metric, unit, wall / divisor / scale);
}

/* later - earlier, in microseconds. */
static long long timeval_us(struct timeval later, struct timeval earlier)
{
	return (later.tv_sec - earlier.tv_sec) * 1000000ll + (later.tv_usec - earlier.tv_usec);
}

/* The calling thread's CPU time and the part of it inside system calls, in ns, with the number
 * of calls, when syscall_cpu.so (syscall_cpu.c) is preloaded. */
struct syscall_split {
	uint64_t thread_ns, inside_ns, calls;
};

static bool syscall_split_now(struct syscall_split *now)
{
	static uint64_t (*thread_ns)(void), (*inside_ns)(void), (*calls)(void);
	static bool looked;

	if (!looked) {
		looked = true;
		thread_ns = (uint64_t (*)(void))dlsym(RTLD_DEFAULT, "xdpbench_thread_ns");
		inside_ns = (uint64_t (*)(void))dlsym(RTLD_DEFAULT, "xdpbench_syscall_ns");
		calls = (uint64_t (*)(void))dlsym(RTLD_DEFAULT, "xdpbench_syscall_calls");
	}
	if (!thread_ns || !inside_ns || !calls)
		return false;
	now->thread_ns = thread_ns();
	now->inside_ns = inside_ns();
	now->calls = calls();
	return true;
}

/* Adds what happened between BEFORE and AFTER (one cycle) to TOTAL. */
static void syscall_split_add(struct syscall_split *total, struct syscall_split before, struct syscall_split after)
{
	total->thread_ns += after.thread_ns - before.thread_ns;
	total->inside_ns += after.inside_ns - before.inside_ns;
	total->calls += after.calls - before.calls;
}

/* Emits METRIC.user_cpu and METRIC.syscall_cpu (µs per iteration) and METRIC.syscall_count
 * from TOTAL, summed over ITERATIONS cycles: user space is the thread's CPU time minus the
 * time inside system calls and the shim's own cost outside its clock reads, once per call
 * and once per cycle (the cycle's own two reads). */
static void syscall_split_emit(const char *metric, struct syscall_split total, int iterations)
{
	double (*bias)(void) = (double (*)(void))dlsym(RTLD_DEFAULT, "xdpbench_syscall_bias_ns");
	char name[96];

	if (!bias || iterations <= 0)
		return;
	double calls = (double)total.calls;
	double inside = (double)total.inside_ns;
	double user = (double)total.thread_ns - inside - bias() * (calls + iterations);
	snprintf(name, sizeof(name), "%s.user_cpu", metric);
	sample(name, "us", user / 1e3 / iterations);
	snprintf(name, sizeof(name), "%s.syscall_cpu", metric);
	sample(name, "us", inside / 1e3 / iterations);
	snprintf(name, sizeof(name), "%s.syscall_count", metric);
	sample(name, "count", calls / iterations);
}

/* Only warnings and errors: libbpf's info and debug lines would drown the output. */
static int print_warnings(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG || level == LIBBPF_INFO)
		return 0;
	return vfprintf(stderr, format, args);
}

static void *read_file(const char *path, size_t *size)
{
	FILE *file = fopen(path, "rb");
	void *bytes;
	long length;

	if (!file)
		die("open %s: %s", path, strerror(errno));
	if (fseek(file, 0, SEEK_END) != 0 || (length = ftell(file)) < 0 || fseek(file, 0, SEEK_SET) != 0)
		die("size of %s: %s", path, strerror(errno));
	bytes = malloc(length ? length : 1);
	if (!bytes || fread(bytes, 1, length, file) != (size_t)length)
		die("read %s", path);
	fclose(file);
	*size = (size_t)length;
	return bytes;
}

static struct bpf_object *open_and_load(const void *bytes, size_t size, const char *name)
{
	LIBBPF_OPTS(bpf_object_open_opts, options, .object_name = name);
	struct bpf_object *object = bpf_object__open_mem(bytes, size, &options);
	int err;

	if (!object)
		die("bpf_object__open_mem(%s): %s", name, strerror(errno));
	err = bpf_object__load(object);
	if (err)
		die("bpf_object__load(%s): %s", name, strerror(-err));
	return object;
}

static int map_fd(struct bpf_object *object, const char *name)
{
	int fd = bpf_object__find_map_fd_by_name(object, name);

	if (fd < 0)
		die("no map %s", name);
	return fd;
}

/* Keys shared with the Swift side: the blocklist fill is 192.0.2.1 (the "hit" frame's source)
 * followed by 0xF0000000 + i, map keys from the reserved 240.0.0.0/4 block that never appear
 * on any wire. Host byte order, as BLOCKLIST is keyed. */
static uint32_t fill_key(uint32_t i)
{
	return i == 0 ? 0xC0000201u : 0xF0000000u + i;
}

/* ---- 1. load + attach + teardown --------------------------------------------------------- */

static void suite_attach(int argc, char **argv)
{
	size_t size;
	void *bytes;
	const char *iface;
	int iterations, warmup;
	struct rusage start = { 0 }, end;
	struct syscall_split split_total = { 0 }, before, after;
	/* With "phases": the split per step (open, load, attach, teardown), read between them. */
	struct syscall_split marks[5], phase_total[4] = { 0 };
	static const char *const phase_names[4] = { "parse", "load", "attach", "teardown" };
	bool split = true, phases;

	if (argc != 4 && !(argc == 5 && strcmp(argv[4], "phases") == 0))
		die("usage: attach OBJ IFACE ITERATIONS WARMUP [phases]");
	phases = argc == 5;
	bytes = read_file(argv[0], &size);
	iface = argv[1];
	iterations = atoi(argv[2]);
	warmup = atoi(argv[3]);

	for (int i = -warmup; i < iterations; i++) {
		struct stopwatch watch;
		LIBBPF_OPTS(bpf_object_open_opts, options, .object_name = "xdp_firewall");
		struct bpf_object *object;
		struct bpf_program *program;
		struct bpf_link *link;
		unsigned int ifindex;
		int err;

		if (i == 0)
			getrusage(RUSAGE_SELF, &start);
		watch = stopwatch_start();
		/* The split covers the library's work only, not the stopwatch or the output. */
		split = split && syscall_split_now(&before);
		if (phases)
			marks[0] = before;
		object = bpf_object__open_mem(bytes, size, &options);
		if (!object)
			die("bpf_object__open_mem: %s", strerror(errno));
		if (phases)
			syscall_split_now(&marks[1]);
		err = bpf_object__load(object);
		if (err)
			die("bpf_object__load: %s", strerror(-err));
		if (phases)
			syscall_split_now(&marks[2]);
		program = bpf_object__find_program_by_name(object, "xdp_firewall");
		if (!program)
			die("no program xdp_firewall");
		ifindex = if_nametoindex(iface);
		if (!ifindex)
			die("if_nametoindex(%s): %s", iface, strerror(errno));
		link = bpf_program__attach_xdp(program, (int)ifindex);
		if (!link)
			die("bpf_program__attach_xdp(%s): %s", iface, strerror(errno));
		if (phases)
			syscall_split_now(&marks[3]);
		bpf_link__destroy(link);
		bpf_object__close(object);
		if (split && i >= 0 && syscall_split_now(&after))
			syscall_split_add(&split_total, before, after);
		if (split && phases && i >= 0) {
			marks[4] = after;
			for (int step = 0; step < 4; step++)
				syscall_split_add(&phase_total[step], marks[step], marks[step + 1]);
		}
		if (i >= 0)
			stopwatch_emit(watch, "attach.cycle", "us", 1);
	}
	/* User and system CPU over the timed cycles, split by the kernel at the tick: only with many. */
	if (iterations >= 100) {
		getrusage(RUSAGE_SELF, &end);
		sample("attach.cycle.user", "us", (double)timeval_us(end.ru_utime, start.ru_utime) / iterations);
		sample("attach.cycle.system", "us", (double)timeval_us(end.ru_stime, start.ru_stime) / iterations);
	}
	if (!split && phases)
		die("attach ... phases needs Benchmarks/C/syscall_cpu.so preloaded");
	if (split && phases) {
		char metric[64];
		for (int step = 0; step < 4; step++) {
			snprintf(metric, sizeof(metric), "attach.phase.%s", phase_names[step]);
			syscall_split_emit(metric, phase_total[step], iterations);
		}
	} else if (split) {
		syscall_split_emit("attach.cycle", split_total, iterations);
	}
	free(bytes);
}

/* ---- 2. single-element operations --------------------------------------------------------- */

static void suite_maps(int argc, char **argv)
{
	size_t size;
	void *bytes;
	struct bpf_object *object;
	int samples, ops, fd;
	const uint32_t prefill = 1000;

	if (argc != 3)
		die("usage: maps OBJ SAMPLES OPS");
	bytes = read_file(argv[0], &size);
	samples = atoi(argv[1]);
	ops = atoi(argv[2]);
	object = open_and_load(bytes, size, "xdp_firewall");
	fd = map_fd(object, "BLOCKLIST");

	for (uint32_t i = 0; i < prefill; i++) {
		uint32_t key = fill_key(i), value = 0;

		if (bpf_map_update_elem(fd, &key, &value, BPF_ANY))
			die("prefill: %s", strerror(errno));
	}
	/* Sample keys: 0xE0000000 + i is inserted, looked up and removed; 0xE8000000 + i never is. */
	for (int s = -1; s < samples; s++) {
		struct stopwatch watch;
		uint32_t value = 0, sink = 0;

		watch = stopwatch_start();
		for (int i = 0; i < ops; i++) {
			uint32_t key = 0xE0000000u + (uint32_t)i;

			value = (uint32_t)i;
			if (bpf_map_update_elem(fd, &key, &value, BPF_ANY))
				die("update: %s", strerror(errno));
		}
		if (s >= 0)
			stopwatch_emit(watch, "map.insert", "ns", ops);

		watch = stopwatch_start();
		for (int i = 0; i < ops; i++) {
			uint32_t key = 0xE0000000u + (uint32_t)i;

			if (bpf_map_lookup_elem(fd, &key, &value))
				die("lookup hit: %s", strerror(errno));
			sink += value;
		}
		if (s >= 0)
			stopwatch_emit(watch, "map.lookup_hit", "ns", ops);

		watch = stopwatch_start();
		for (int i = 0; i < ops; i++) {
			uint32_t key = 0xE8000000u + (uint32_t)i;

			if (bpf_map_lookup_elem(fd, &key, &value) == 0 || errno != ENOENT)
				die("lookup miss found a value or failed: %s", strerror(errno));
		}
		if (s >= 0)
			stopwatch_emit(watch, "map.lookup_miss", "ns", ops);

		watch = stopwatch_start();
		for (int i = 0; i < ops; i++) {
			uint32_t key = 0xE0000000u + (uint32_t)i;

			if (bpf_map_delete_elem(fd, &key))
				die("delete: %s", strerror(errno));
		}
		if (s >= 0)
			stopwatch_emit(watch, "map.delete", "ns", ops);
		if (sink != (uint32_t)((uint64_t)ops * (ops - 1) / 2))
			die("lookups returned wrong values");
	}
	bpf_object__close(object);
	free(bytes);
}

/* ---- 4. per-CPU array read + sum ----------------------------------------------------------- */

static void suite_percpu(int argc, char **argv)
{
	int samples, calls, fd, cpus;
	uint64_t *values;

	if (argc != 2)
		die("usage: percpu SAMPLES CALLS");
	samples = atoi(argv[0]);
	calls = atoi(argv[1]);
	cpus = libbpf_num_possible_cpus();
	if (cpus <= 0)
		die("libbpf_num_possible_cpus: %d", cpus);
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "bench_percpu", 4, 8, 8, NULL);
	if (fd < 0)
		die("bpf_map_create: %s", strerror(errno));
	values = calloc(cpus, sizeof(*values));
	for (int c = 0; c < cpus; c++)
		values[c] = 1000 + c;
	{
		uint32_t key = 3;

		if (bpf_map_update_elem(fd, &key, values, BPF_ANY))
			die("update: %s", strerror(errno));
	}
	for (int s = -1; s < samples; s++) {
		struct stopwatch watch = stopwatch_start();
		uint64_t total = 0;

		for (int i = 0; i < calls; i++) {
			uint32_t key = 3;
			uint64_t sum = 0;

			if (bpf_map_lookup_elem(fd, &key, values))
				die("lookup: %s", strerror(errno));
			for (int c = 0; c < cpus; c++)
				sum += values[c];
			total += sum;
		}
		if (s >= 0)
			stopwatch_emit(watch, "percpu.sum", "ns", calls);
		if (total != (uint64_t)calls * (1000ull * cpus + (uint64_t)cpus * (cpus - 1) / 2))
			die("wrong sums");
	}
	free(values);
	close(fd);
}

/* ---- 3. batch insert / lookup of a million entries ----------------------------------------- */

static void suite_batch(int argc, char **argv)
{
	int samples;
	uint32_t entries, *keys, *values, *out_keys, *out_values;
	const uint32_t max_entries = 1u << 20;
	const uint32_t update_chunk = 4096, lookup_chunk = 4096;

	if (argc != 2)
		die("usage: batch SAMPLES ENTRIES");
	samples = atoi(argv[0]);
	entries = (uint32_t)atoi(argv[1]);
	keys = malloc(entries * sizeof(*keys));
	values = malloc(entries * sizeof(*values));
	/* Room for one more chunk: the last call may be asked for more than is left. */
	out_keys = malloc((entries + lookup_chunk) * sizeof(*keys));
	out_values = malloc((entries + lookup_chunk) * sizeof(*values));
	for (uint32_t i = 0; i < entries; i++) {
		keys[i] = fill_key(i);
		values[i] = i;
	}
	for (int s = 0; s < samples; s++) {
		LIBBPF_OPTS(bpf_map_batch_opts, options);
		struct stopwatch watch;
		uint64_t checksum = 0;
		uint32_t done, total, token = 0;
		int fd, err;
		bool first = true;

		/* Batch insert into a fresh map, then batch lookup of everything in it. */
		fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bench_batch", 4, 4, max_entries, NULL);
		if (fd < 0)
			die("bpf_map_create: %s", strerror(errno));
		watch = stopwatch_start();
		for (done = 0; done < entries;) {
			uint32_t count = entries - done < update_chunk ? entries - done : update_chunk;

			if (bpf_map_update_batch(fd, keys + done, values + done, &count, &options))
				die("bpf_map_update_batch: %s", strerror(errno));
			done += count;
		}
		stopwatch_emit(watch, "batch.insert", "ms", 1);

		watch = stopwatch_start();
		for (total = 0;;) {
			uint32_t count = lookup_chunk;

			err = bpf_map_lookup_batch(fd, first ? NULL : &token, &token, out_keys + total,
						   out_values + total, &count, &options);
			if (err && errno != ENOENT)
				die("bpf_map_lookup_batch: %s", strerror(errno));
			total += count;
			first = false;
			if (err)
				break;
		}
		stopwatch_emit(watch, "batch.lookup", "ms", 1);
		if (total != entries)
			die("batch lookup returned %u of %u entries", total, entries);
		for (uint32_t i = 0; i < total; i++)
			checksum += out_values[i];
		if (checksum != (uint64_t)entries * (entries - 1) / 2)
			die("batch lookup returned wrong values");
		close(fd);

		/* The same with one call per element. */
		fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bench_loop", 4, 4, max_entries, NULL);
		if (fd < 0)
			die("bpf_map_create: %s", strerror(errno));
		watch = stopwatch_start();
		for (uint32_t i = 0; i < entries; i++) {
			if (bpf_map_update_elem(fd, &keys[i], &values[i], BPF_ANY))
				die("bpf_map_update_elem: %s", strerror(errno));
		}
		stopwatch_emit(watch, "loop.insert", "ms", 1);
		checksum = 0;
		watch = stopwatch_start();
		for (uint32_t i = 0; i < entries; i++) {
			uint32_t value;

			if (bpf_map_lookup_elem(fd, &keys[i], &value))
				die("bpf_map_lookup_elem: %s", strerror(errno));
			checksum += value;
		}
		stopwatch_emit(watch, "loop.lookup", "ms", 1);
		if (checksum != (uint64_t)entries * (entries - 1) / 2)
			die("loop lookup returned wrong values");
		close(fd);
	}
	free(keys);
	free(values);
	free(out_keys);
	free(out_values);
}

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

static void suite_datapath(int argc, char **argv)
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

/* ---- 6. parsing ----------------------------------------------------------------------------- */

static void suite_parse(int argc, char **argv)
{
	int samples, iterations;

	if (argc < 3)
		die("usage: parse SAMPLES ITERATIONS NAME=OBJ...");
	samples = atoi(argv[0]);
	iterations = atoi(argv[1]);
	for (int o = 2; o < argc; o++) {
		char *equals = strchr(argv[o], '=');
		char metric[128];
		size_t size;
		void *bytes;

		if (!equals)
			die("expected NAME=PATH, got %s", argv[o]);
		*equals = 0;
		bytes = read_file(equals + 1, &size);
		snprintf(metric, sizeof(metric), "parse.%s", argv[o]);
		for (int s = -1; s < samples; s++) {
			struct stopwatch watch = stopwatch_start();

			for (int i = 0; i < iterations; i++) {
				LIBBPF_OPTS(bpf_object_open_opts, options, .object_name = argv[o]);
				struct bpf_object *object = bpf_object__open_mem(bytes, size, &options);

				if (!object)
					die("bpf_object__open_mem(%s): %s", argv[o], strerror(errno));
				bpf_object__close(object);
			}
			if (s >= 0)
				stopwatch_emit(watch, metric, "us", iterations);
		}
		free(bytes);
	}
}

/* ---- 8. kernel BTF ---------------------------------------------------------------------------- */

static void suite_btf(int argc, char **argv)
{
	int samples, iterations;

	if (argc != 3)
		die("usage: btf SAMPLES ITERATIONS VMLINUX");
	samples = atoi(argv[0]);
	iterations = atoi(argv[1]);
	for (int s = -1; s < samples; s++) {
		struct stopwatch watch = stopwatch_start();

		for (int i = 0; i < iterations; i++) {
			struct btf *btf = btf__parse(argv[2], NULL);

			if (!btf)
				die("btf__parse(%s): %s", argv[2], strerror(errno));
			btf__free(btf);
		}
		if (s >= 0)
			stopwatch_emit(watch, "btf.vmlinux", "ms", iterations);
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(print_warnings);
	if (argc < 2)
		die("usage: libbpf-bench attach|maps|percpu|batch|datapath|parse|btf ARGS...");
	if (strcmp(argv[1], "attach") == 0)
		suite_attach(argc - 2, argv + 2);
	else if (strcmp(argv[1], "maps") == 0)
		suite_maps(argc - 2, argv + 2);
	else if (strcmp(argv[1], "percpu") == 0)
		suite_percpu(argc - 2, argv + 2);
	else if (strcmp(argv[1], "batch") == 0)
		suite_batch(argc - 2, argv + 2);
	else if (strcmp(argv[1], "datapath") == 0)
		suite_datapath(argc - 2, argv + 2);
	else if (strcmp(argv[1], "parse") == 0)
		suite_parse(argc - 2, argv + 2);
	else if (strcmp(argv[1], "btf") == 0)
		suite_btf(argc - 2, argv + 2);
	else
		die("unknown suite %s", argv[1]);
	return 0;
}
