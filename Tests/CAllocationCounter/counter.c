/* SPDX-License-Identifier: Apache-2.0
 *
 * See include/CAllocationCounter.h. glibc exports its allocator under __libc_* names for
 * exactly this kind of wrapper; free needs no wrapper (the memory comes from the same heap).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "CAllocationCounter.h"

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static __thread uint64_t allocations __attribute__((tls_model("initial-exec")));

uint64_t xdpkit_thread_allocations(void)
{
	return allocations;
}

void *malloc(size_t size)
{
	allocations++;
	return __libc_malloc(size);
}

void *calloc(size_t count, size_t size)
{
	allocations++;
	return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size)
{
	allocations++;
	return __libc_realloc(pointer, size);
}

void *memalign(size_t alignment, size_t size)
{
	allocations++;
	return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size)
{
	allocations++;
	return __libc_memalign(alignment, size);
}

int posix_memalign(void **result, size_t alignment, size_t size)
{
	void *pointer;

	if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0)
		return EINVAL;
	allocations++;
	pointer = __libc_memalign(alignment, size);
	if (!pointer && size)
		return ENOMEM;
	*result = pointer;
	return 0;
}
