/* SPDX-License-Identifier: Apache-2.0
 *
 * Test-only: counts the heap allocations of each thread. The test binary that links this
 * target defines malloc, calloc, realloc and the aligned allocators itself, so every call in
 * the process (the Swift runtime's included) comes here first, is counted for the calling
 * thread and is forwarded to glibc's implementation. XDPKit itself links nothing of this.
 */
#ifndef XDPKIT_ALLOCATION_COUNTER_H
#define XDPKIT_ALLOCATION_COUNTER_H

#include <stdint.h>

/* The number of allocations the calling thread has made so far. */
uint64_t xdpkit_thread_allocations(void);

#endif
