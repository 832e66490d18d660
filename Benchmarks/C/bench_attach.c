/* SPDX-License-Identifier: Apache-2.0
 *
 * libbpf-bench suite 1: load + attach + teardown cycles of one object on one veth.
 */
#include "libbpf_bench.h"

/* ---- 1. load + attach + teardown --------------------------------------------------------- */

void suite_attach(int argc, char **argv)
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
