// CXDPKit: the kernel's uapi headers and one static inline wrapper around bpf(2).
// Glibc's variadic syscall() cannot be called from Swift, so the wrapper lives here.
// Nothing else belongs in this target: all logic is in Swift.
#ifndef CXDPKIT_H
#define CXDPKIT_H

#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_ether.h>
#include <linux/magic.h>

/// Issues bpf(cmd, attr, size). Returns the raw result; on failure -1 with errno set.
static inline long cxdpkit_bpf(int cmd, union bpf_attr *attr, unsigned int size) {
  return syscall(__NR_bpf, cmd, attr, size);
}

/// Issues setns(fd, nstype). Glibc declares setns(2) only under _GNU_SOURCE, which the Swift
/// Glibc module is not built with, so it is reached through syscall(2) here.
static inline int cxdpkit_setns(int fd, int nstype) {
  return (int)syscall(__NR_setns, fd, nstype);
}

/// Size of union bpf_attr as this header defines it.
static inline unsigned int cxdpkit_bpf_attr_size(void) {
  return (unsigned int)sizeof(union bpf_attr);
}

/// Size of the attributes of the single-element map commands (BPF_MAP_LOOKUP_ELEM,
/// BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM, BPF_MAP_GET_NEXT_KEY,
/// BPF_MAP_LOOKUP_AND_DELETE_ELEM): union bpf_attr up to and including `flags`. Passing this
/// rather than the whole union makes the kernel copy 32 bytes instead of all of them, which
/// is measurable on these hot paths (Documentation/Benchmarks.md).
static inline unsigned int cxdpkit_bpf_map_elem_attr_size(void) {
  return (unsigned int)(offsetof(union bpf_attr, flags) + sizeof(__u64));
}

// Linux 6.4 appended an output-only u32 `log_true_size` to the BPF_PROG_LOAD attributes,
// directly after `core_relo_rec_size`, and `btf_log_true_size` to the BPF_BTF_LOAD attributes,
// directly after `btf_log_level`. The uapi headers may predate those fields (6.1 does), so their
// offsets are derived from the last field the headers do have. Swift cannot take these offsets
// itself: key paths into the imported anonymous members of union bpf_attr crash at runtime.

/// Byte offset of the BPF_PROG_LOAD `log_true_size` in union bpf_attr.
static inline unsigned int cxdpkit_bpf_prog_load_log_true_size_offset(void) {
  return (unsigned int)(offsetof(union bpf_attr, core_relo_rec_size) + sizeof(__u32));
}

/// Byte offset of the BPF_BTF_LOAD `btf_log_true_size` in union bpf_attr.
static inline unsigned int cxdpkit_bpf_btf_load_log_true_size_offset(void) {
  return (unsigned int)(offsetof(union bpf_attr, btf_log_level) + sizeof(__u32));
}

_Static_assert(offsetof(union bpf_attr, core_relo_rec_size) + 2 * sizeof(__u32) <= sizeof(union bpf_attr),
               "log_true_size must lie inside union bpf_attr");
_Static_assert(offsetof(union bpf_attr, btf_log_level) + 2 * sizeof(__u32) <= sizeof(union bpf_attr),
               "btf_log_true_size must lie inside union bpf_attr");

// Layout checks: the Swift side relies on these sizes.
_Static_assert(sizeof(struct bpf_insn) == 8, "struct bpf_insn must be 8 bytes");
_Static_assert(sizeof(struct nlmsghdr) == 16, "struct nlmsghdr must be 16 bytes");
_Static_assert(sizeof(struct ifinfomsg) == 16, "struct ifinfomsg must be 16 bytes");
_Static_assert(sizeof(struct nlattr) == 4, "struct nlattr must be 4 bytes");

// Ring buffer consumer (BPF_MAP_TYPE_RINGBUF). The positions and record headers live in memory
// the kernel shares through mmap(2); Swift's Atomic works only on storage Swift owns, so the
// acquire loads and release stores on that memory are these thin wrappers. Glibc's Swift module
// does not include sys/epoll.h, which the consumer waits with.
#include <sys/epoll.h>

/// Loads the 64-bit value at `address` with acquire ordering.
static inline uint64_t cxdpkit_load_acquire_u64(const void *address) {
  return __atomic_load_n((const uint64_t *)address, __ATOMIC_ACQUIRE);
}

/// Loads the 32-bit value at `address` with acquire ordering.
static inline uint32_t cxdpkit_load_acquire_u32(const void *address) {
  return __atomic_load_n((const uint32_t *)address, __ATOMIC_ACQUIRE);
}

/// Stores `value` at `address` with release ordering.
static inline void cxdpkit_store_release_u64(void *address, uint64_t value) {
  __atomic_store_n((uint64_t *)address, value, __ATOMIC_RELEASE);
}

// Perf event arrays (BPF_MAP_TYPE_PERF_EVENT_ARRAY): one perf event per CPU of the software
// type PERF_COUNT_SW_BPF_OUTPUT, whose mmapped ring receives bpf_perf_event_output samples.
// perf_event_open(2) has no Glibc wrapper, and struct perf_event_attr keeps its period and
// wakeup fields in anonymous unions, so the event is described and opened here.
#include <linux/perf_event.h>
#include <sys/ioctl.h>

/// Opens a PERF_COUNT_SW_BPF_OUTPUT event on `cpu` for all processes, sampling raw data,
/// waking readers after every sample, created disabled, close-on-exec. Returns the
/// descriptor, or -1 with errno set.
static inline int cxdpkit_perf_event_open_bpf_output(int cpu) {
  struct perf_event_attr attr = {0};
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_BPF_OUTPUT;
  attr.sample_type = PERF_SAMPLE_RAW;
  attr.sample_period = 1;
  attr.wakeup_events = 1;
  attr.disabled = 1;
  return (int)syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/// ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) or ioctl(fd, PERF_EVENT_IOC_DISABLE, 0).
static inline int cxdpkit_perf_event_enable(int fd, int enable) {
  return ioctl(fd, enable ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE, 0);
}

/// Byte offset of `data_head` in the first mmapped page (struct perf_event_mmap_page).
static inline unsigned int cxdpkit_perf_data_head_offset(void) {
  return (unsigned int)offsetof(struct perf_event_mmap_page, data_head);
}

/// Byte offset of `data_tail` in the first mmapped page.
static inline unsigned int cxdpkit_perf_data_tail_offset(void) {
  return (unsigned int)offsetof(struct perf_event_mmap_page, data_tail);
}

_Static_assert(sizeof(struct perf_event_header) == 8, "struct perf_event_header must be 8 bytes");

#endif
