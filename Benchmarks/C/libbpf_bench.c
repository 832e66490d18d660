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
#include "libbpf_bench.h"

/* ---- 6. parsing ----------------------------------------------------------------------------- */

void suite_parse(int argc, char **argv)
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

void suite_btf(int argc, char **argv)
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
