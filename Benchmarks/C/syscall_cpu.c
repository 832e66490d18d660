/* SPDX-License-Identifier: Apache-2.0
 *
 * syscall_cpu.so: an LD_PRELOAD shim that measures how much of a thread's CPU time is spent
 * inside system calls, so that the benchmark can split a load + attach cycle's CPU time into
 * user space and kernel exactly. getrusage() splits the two at the scheduler tick (4 ms here),
 * which is too coarse for a cycle of about 2 ms, and perf is not available everywhere.
 *
 * Every C library entry point that the cycle's system calls go through on either side
 * (XDPKit and libbpf: syscall(2) for bpf(2), close, mmap, munmap, ioctl, socket, write, read,
 * uname, access/faccessat, openat, fstat, if_nametoindex, and the netlink calls) is wrapped:
 * the wrapper reads CLOCK_THREAD_CPUTIME_ID before and after the call and adds the difference
 * to a per-thread sum. User-space CPU time = the thread's CPU time − that sum − the wrapper's
 * own cost outside its two clock reads (calibrated once at start-up, per call).
 *
 * What this does not see: time in page faults outside a wrapped call (counted as user space
 * here, as the kernel's own accounting would), and calls made inside the C library to
 * functions it does not export through its PLT (if_nametoindex is wrapped whole for that
 * reason). The benchmark compares the wrapped-call count with strace's count of the same run.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static __thread uint64_t inside_ns __attribute__((tls_model("initial-exec")));
static __thread uint64_t calls __attribute__((tls_model("initial-exec")));
static __thread int depth __attribute__((tls_model("initial-exec")));
static double bias_ns;

static inline uint64_t thread_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
	return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* Nested wrapped calls (one wrapped function calling another through the PLT) count once. */
#define ENTER                                       \
	int saved_errno;                            \
	uint64_t started = depth++ ? 0 : thread_ns()
#define LEAVE                                       \
	saved_errno = errno;                        \
	if (--depth == 0) {                         \
		inside_ns += thread_ns() - started; \
		calls++;                            \
	}                                           \
	errno = saved_errno

#define REAL(name) \
	static __typeof__(name) *real; \
	if (!real) real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

/* CPU time the calling thread spent inside wrapped calls, in ns. */
uint64_t xdpbench_syscall_ns(void) { return inside_ns; }
/* Wrapped calls the calling thread made. */
uint64_t xdpbench_syscall_calls(void) { return calls; }
/* The wrapper's CPU time outside its clock reads, per call, in ns (measured at start-up). */
double xdpbench_syscall_bias_ns(void) { return bias_ns; }
/* The calling thread's CPU time, in ns. */
uint64_t xdpbench_thread_ns(void) { return thread_ns(); }

long syscall(long number, ...)
{
	REAL(syscall);
	va_list list;
	long a[6];
	va_start(list, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(list, long);
	va_end(list);
	ENTER;
	long result = real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
	LEAVE;
	return result;
}

/* A wrapper that times one call of NAME. */
#define WRAP(type, name, parameters, arguments) \
	type name parameters                    \
	{                                       \
		REAL(name);                     \
		ENTER;                          \
		type result = real arguments;   \
		LEAVE;                          \
		return result;                  \
	}

WRAP(int, close, (int fd), (fd))
WRAP(void *, mmap, (void *address, size_t length, int protection, int flags, int fd, off_t offset), (address, length, protection, flags, fd, offset))
WRAP(int, munmap, (void *address, size_t length), (address, length))
WRAP(int, socket, (int domain, int type, int protocol), (domain, type, protocol))
WRAP(int, bind, (int fd, const struct sockaddr *address, socklen_t length), (fd, address, length))
WRAP(ssize_t, sendto, (int fd, const void *buffer, size_t length, int flags, const struct sockaddr *to, socklen_t size), (fd, buffer, length, flags, to, size))
WRAP(ssize_t, send, (int fd, const void *buffer, size_t length, int flags), (fd, buffer, length, flags))
WRAP(ssize_t, sendmsg, (int fd, const struct msghdr *message, int flags), (fd, message, flags))
WRAP(ssize_t, recv, (int fd, void *buffer, size_t length, int flags), (fd, buffer, length, flags))
WRAP(ssize_t, recvfrom, (int fd, void *buffer, size_t length, int flags, struct sockaddr *from, socklen_t *size), (fd, buffer, length, flags, from, size))
WRAP(ssize_t, recvmsg, (int fd, struct msghdr *message, int flags), (fd, message, flags))
WRAP(int, getsockopt, (int fd, int level, int name, void *value, socklen_t *length), (fd, level, name, value, length))
WRAP(int, setsockopt, (int fd, int level, int name, const void *value, socklen_t length), (fd, level, name, value, length))
WRAP(ssize_t, write, (int fd, const void *buffer, size_t count), (fd, buffer, count))
WRAP(ssize_t, read, (int fd, void *buffer, size_t count), (fd, buffer, count))
WRAP(int, uname, (struct utsname *name), (name))
WRAP(int, access, (const char *path, int mode), (path, mode))
WRAP(int, faccessat, (int directory, const char *path, int mode, int flags), (directory, path, mode, flags))
WRAP(int, fstat, (int fd, struct stat *info), (fd, info))
WRAP(unsigned int, if_nametoindex, (const char *name), (name))

void *mmap64(void *address, size_t length, int protection, int flags, int fd, off64_t offset)
	__attribute__((alias("mmap")));

int ioctl(int fd, unsigned long request, ...)
{
	REAL(ioctl);
	va_list list;
	va_start(list, request);
	void *argument = va_arg(list, void *);
	va_end(list);
	ENTER;
	int result = real(fd, request, argument);
	LEAVE;
	return result;
}

int openat(int directory, const char *path, int flags, ...)
{
	REAL(openat);
	va_list list;
	va_start(list, flags);
	mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(list, mode_t) : 0;
	va_end(list);
	ENTER;
	int result = real(directory, path, flags, mode);
	LEAVE;
	return result;
}

int openat64(int directory, const char *path, int flags, ...) __attribute__((alias("openat")));

/* The wrapper's cost outside its clock reads: a loop of wrapped getppid() calls, whose own
 * user-space work is a few instructions, minus what the wrapper measured inside them. */
__attribute__((constructor)) static void calibrate(void)
{
	enum { rounds = 2000 };
	syscall(SYS_getppid); /* resolves the real syscall() first */
	uint64_t inside_before = inside_ns, calls_before = calls;
	uint64_t started = thread_ns();
	for (int i = 0; i < rounds; i++)
		syscall(SYS_getppid);
	uint64_t total = thread_ns() - started;
	uint64_t inside = inside_ns - inside_before;
	bias_ns = total > inside ? (double)(total - inside) / rounds : 0;
	inside_ns = inside_before;
	calls = calls_before;
}
