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

// AF_XDP sockets (XDPSocket). The rings are shared with the kernel through mmap(2); their
// producer and consumer indices are accessed with Synchronization's Atomic over the mapped
// memory. The layouts below are the kernel ABI the Swift side reads and writes.
#include <linux/if_xdp.h>
#include <poll.h>

_Static_assert(sizeof(struct sockaddr_xdp) == 16, "struct sockaddr_xdp must be 16 bytes");
_Static_assert(sizeof(struct xdp_desc) == 16, "struct xdp_desc must be 16 bytes");
_Static_assert(offsetof(struct xdp_desc, len) == 8, "xdp_desc.len must be at offset 8");
_Static_assert(sizeof(struct xdp_umem_reg) == 32, "struct xdp_umem_reg must be 32 bytes (without tx_metadata_len)");
_Static_assert(sizeof(struct xdp_statistics) == 48, "struct xdp_statistics must be 48 bytes");
_Static_assert(sizeof(struct xdp_ring_offset) == 32, "struct xdp_ring_offset must be 32 bytes");
_Static_assert(sizeof(struct xdp_mmap_offsets) == 128, "struct xdp_mmap_offsets must be 128 bytes");
_Static_assert(sizeof(struct xdp_options) == 4, "struct xdp_options must be 4 bytes");
_Static_assert(sizeof(struct bpf_devmap_val) == 8, "struct bpf_devmap_val must be 8 bytes");
_Static_assert(sizeof(struct bpf_cpumap_val) == 8, "struct bpf_cpumap_val must be 8 bytes");

/// The AF_XDP address family and socket option level, which Glibc's Swift module does not
/// export as numbers.
static inline int cxdpkit_af_xdp(void) { return AF_XDP; }
static inline int cxdpkit_sol_xdp(void) { return SOL_XDP; }

/// The mmap(2) offsets of the four rings (XDP_PGOFF_*, XDP_UMEM_PGOFF_*).
static inline unsigned long long cxdpkit_xdp_pgoff_rx_ring(void) { return XDP_PGOFF_RX_RING; }
static inline unsigned long long cxdpkit_xdp_pgoff_tx_ring(void) { return XDP_PGOFF_TX_RING; }
static inline unsigned long long cxdpkit_xdp_pgoff_fill_ring(void) { return XDP_UMEM_PGOFF_FILL_RING; }
static inline unsigned long long cxdpkit_xdp_pgoff_completion_ring(void) { return XDP_UMEM_PGOFF_COMPLETION_RING; }

// The queue counts of an interface, to tell "no such queue" from other EINVALs of an AF_XDP
// bind. ETHTOOL_GCHANNELS through SIOCETHTOOL on any socket of the interface's namespace.
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <string.h>
#include <sys/ioctl.h>

/// Reads the channel counts of interface `name` with the socket `fd`; returns 0 or -1 (errno).
static inline int cxdpkit_ethtool_channels(int fd, const char *name, uint32_t *rx, uint32_t *tx,
                                           uint32_t *combined) {
  struct ethtool_channels channels;
  struct ifreq request;
  memset(&channels, 0, sizeof channels);
  memset(&request, 0, sizeof request);
  channels.cmd = ETHTOOL_GCHANNELS;
  strncpy(request.ifr_name, name, IFNAMSIZ - 1);
  request.ifr_data = (void *)&channels;
  if (ioctl(fd, SIOCETHTOOL, &request) != 0) return -1;
  *rx = channels.rx_count;
  *tx = channels.tx_count;
  *combined = channels.combined_count;
  return 0;
}
