/* SPDX-License-Identifier: Apache-2.0
 *
 * malloc_count.so: an LD_PRELOAD shim that counts heap allocations, for the benchmark's
 * "allocations per operation" figures. Every allocating entry point of the C library is
 * wrapped and forwarded to glibc's own implementation (__libc_malloc and friends, which
 * glibc exports for exactly this use); `xdpbench_allocations()` returns the number of
 * allocations made so far by the whole process, `xdpbench_thread_allocations()` those made
 * by the calling thread (the AF_XDP suite counts only its measuring thread). The Swift side
 * finds them with dlsym and reads them before and after a timed loop.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <errno.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);
extern void __libc_free(void *pointer);

static uint64_t allocations;
static __thread uint64_t thread_allocations __attribute__((tls_model("initial-exec")));

static inline void count(void)
{
	__atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED);
	thread_allocations++;
}

uint64_t xdpbench_thread_allocations(void)
{
	return thread_allocations;
}

uint64_t xdpbench_allocations(void)
{
	return __atomic_load_n(&allocations, __ATOMIC_RELAXED);
}

void *malloc(size_t size)
{
	count();
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	count();
	return __libc_calloc(n, size);
}

void *realloc(void *pointer, size_t size)
{
	count();
	return __libc_realloc(pointer, size);
}

void *memalign(size_t alignment, size_t size)
{
	count();
	return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size)
{
	count();
	return __libc_memalign(alignment, size);
}

int posix_memalign(void **result, size_t alignment, size_t size)
{
	void *pointer;

	if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0)
		return EINVAL;
	count();
	pointer = __libc_memalign(alignment, size);
	if (!pointer && size)
		return ENOMEM;
	*result = pointer;
	return 0;
}

void *valloc(size_t size)
{
	count();
	return __libc_valloc(size);
}

void *pvalloc(size_t size)
{
	count();
	return __libc_pvalloc(size);
}

void free(void *pointer)
{
	__libc_free(pointer);
}
