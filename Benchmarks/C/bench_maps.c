/* SPDX-License-Identifier: Apache-2.0
 *
 * libbpf-bench suites 2, 3 and 4: single-element map operations, batch insert and lookup, and
 * per-CPU array sums.
 */
#include "libbpf_bench.h"

/* ---- 2. single-element operations --------------------------------------------------------- */

void suite_maps(int argc, char **argv)
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

void suite_percpu(int argc, char **argv)
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

void suite_batch(int argc, char **argv)
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
