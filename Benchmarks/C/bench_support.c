/* SPDX-License-Identifier: Apache-2.0
 *
 * libbpf-bench's shared helpers (declared in libbpf_bench.h).
 */
#include "libbpf_bench.h"

void die(const char *format, ...)
{
	va_list args;

	va_start(args, format);
	fprintf(stderr, "libbpf-bench: ");
	vfprintf(stderr, format, args);
	fprintf(stderr, "\n");
	va_end(args);
	exit(1);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sample(const char *metric, const char *unit, double value)
{
	printf(SIDE "\t%s\t%s\t%.3f\n", metric, unit, value);
}


struct stopwatch stopwatch_start(void)
{
	struct stopwatch watch = { now_ns(), cpu_ns() };

	return watch;
}

void stopwatch_emit(struct stopwatch watch, const char *metric, const char *unit, double divisor)
{
	double cpu = (double)(cpu_ns() - watch.cpu), wall = (double)(now_ns() - watch.wall);
	double scale = strcmp(unit, "ms") == 0 ? 1e6 : strcmp(unit, "us") == 0 ? 1e3 : 1;
	char wall_metric[160];

	snprintf(wall_metric, sizeof(wall_metric), "%s.wall", metric);
	sample(metric, unit, cpu / divisor / scale);
	sample(wall_metric, unit, wall / divisor / scale);
}

long long timeval_us(struct timeval later, struct timeval earlier)
{
	return (later.tv_sec - earlier.tv_sec) * 1000000ll + (later.tv_usec - earlier.tv_usec);
}


bool syscall_split_now(struct syscall_split *now)
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

void syscall_split_add(struct syscall_split *total, struct syscall_split before, struct syscall_split after)
{
	total->thread_ns += after.thread_ns - before.thread_ns;
	total->inside_ns += after.inside_ns - before.inside_ns;
	total->calls += after.calls - before.calls;
}

void syscall_split_emit(const char *metric, struct syscall_split total, int iterations)
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

int print_warnings(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG || level == LIBBPF_INFO)
		return 0;
	return vfprintf(stderr, format, args);
}

void *read_file(const char *path, size_t *size)
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

struct bpf_object *open_and_load(const void *bytes, size_t size, const char *name)
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

int map_fd(struct bpf_object *object, const char *name)
{
	int fd = bpf_object__find_map_fd_by_name(object, name);

	if (fd < 0)
		die("no map %s", name);
	return fd;
}

uint32_t fill_key(uint32_t i)
{
	return i == 0 ? 0xC0000201u : 0xF0000000u + i;
}
