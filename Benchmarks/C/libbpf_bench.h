/* SPDX-License-Identifier: Apache-2.0
 *
 * What the files of libbpf-bench share: the sample format, clocks, the system call split read
 * from syscall_cpu.so, file and object helpers, the shared keys, and each suite's entry point.
 * The program's description is in libbpf_bench.c.
 */
#ifndef LIBBPF_BENCH_H
#define LIBBPF_BENCH_H

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

/* Both clocks at once, as the Swift side's Stopwatch: `metric` from the thread's CPU time
 * (what the table uses), `metric.wall` from CLOCK_MONOTONIC. */
struct stopwatch {
	uint64_t wall, cpu;
};

/* The calling thread's CPU time and the part of it inside system calls, in ns, with the number
 * of calls, when syscall_cpu.so (syscall_cpu.c) is preloaded. */
struct syscall_split {
	uint64_t thread_ns, inside_ns, calls;
};

void die(const char *format, ...) __attribute__((noreturn, format(printf, 1, 2)));
uint64_t now_ns(void);
/* This thread's CPU time (user + system), not counting time spent waiting for a CPU. */
uint64_t cpu_ns(void);
void sample(const char *metric, const char *unit, double value);
struct stopwatch stopwatch_start(void);
void stopwatch_emit(struct stopwatch watch, const char *metric, const char *unit, double divisor);
/* later - earlier, in microseconds. */
long long timeval_us(struct timeval later, struct timeval earlier);
bool syscall_split_now(struct syscall_split *now);
/* Adds what happened between BEFORE and AFTER (one cycle) to TOTAL. */
void syscall_split_add(struct syscall_split *total, struct syscall_split before, struct syscall_split after);
/* Emits METRIC.user_cpu and METRIC.syscall_cpu (µs per iteration) and METRIC.syscall_count
 * from TOTAL, summed over ITERATIONS cycles: user space is the thread's CPU time minus the
 * time inside system calls and the shim's own cost outside its clock reads, once per call
 * and once per cycle (the cycle's own two reads). */
void syscall_split_emit(const char *metric, struct syscall_split total, int iterations);
/* Only warnings and errors: libbpf's info and debug lines would drown the output. */
int print_warnings(enum libbpf_print_level level, const char *format, va_list args);
void *read_file(const char *path, size_t *size);
struct bpf_object *open_and_load(const void *bytes, size_t size, const char *name);
int map_fd(struct bpf_object *object, const char *name);
/* Keys shared with the Swift side: the blocklist fill is 192.0.2.1 (the "hit" frame's source)
 * followed by 0xF0000000 + i, map keys from the reserved 240.0.0.0/4 block that never appear
 * on any wire. Host byte order, as BLOCKLIST is keyed. */
uint32_t fill_key(uint32_t i);

/* The suites, one per file: bench_attach.c, bench_maps.c, bench_datapath.c, libbpf_bench.c. */
void suite_attach(int argc, char **argv);
void suite_maps(int argc, char **argv);
void suite_percpu(int argc, char **argv);
void suite_batch(int argc, char **argv);
void suite_datapath(int argc, char **argv);
void suite_parse(int argc, char **argv);
void suite_btf(int argc, char **argv);

#endif
