// SPDX-License-Identifier: GPL-2.0
// Every kind of extern, resolved against the running kernel; the program writes what
// it saw into VALUES (slots 0-10) so a test can compare with the kernel's own
// facts. Kconfig values come from /proc/config.gz or /boot/config-$(uname -r).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>


extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;
extern _Bool CONFIG_BPF __kconfig;
extern int CONFIG_HZ __kconfig;
extern unsigned long long CONFIG_NR_CPUS __kconfig;
extern enum libbpf_tristate CONFIG_VETH __kconfig;
extern char CONFIG_DEFAULT_HOSTNAME[16] __kconfig;
extern int CONFIG_XDPKIT_NO_SUCH_OPTION __kconfig __weak;

// A typed per-CPU kernel variable (vmlinux BTF VAR) and a typeless symbol (kallsyms).
extern const int bpf_prog_active __ksym;
extern const void bpf_fentry_test1 __ksym;

// A kfunc that 6.2 added: present on newer kernels, absent (and so never called) on 6.1.
extern void *bpf_cast_to_kern_ctx(void *ctx) __ksym __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 12);
	__type(key, __u32);
	__type(value, __u64);
} VALUES SEC(".maps");

static void put(__u32 slot, __u64 value)
{
	bpf_map_update_elem(&VALUES, &slot, &value, BPF_ANY);
}

SEC("xdp")
int xdp_externs(struct xdp_md *ctx)
{
	put(0, LINUX_KERNEL_VERSION);
	put(1, LINUX_HAS_SYSCALL_WRAPPER);
	put(2, CONFIG_BPF);
	put(3, CONFIG_HZ);
	put(4, CONFIG_NR_CPUS);
	put(5, CONFIG_VETH);
	put(6, CONFIG_DEFAULT_HOSTNAME[0] | (CONFIG_DEFAULT_HOSTNAME[5] << 8));
	put(7, CONFIG_XDPKIT_NO_SUCH_OPTION);
	put(8, (unsigned long)&bpf_fentry_test1);
	if (bpf_cast_to_kern_ctx) {
		put(10, bpf_cast_to_kern_ctx(ctx) ? 1 : 3);
	} else {
		put(10, 0);
	}
	return XDP_PASS;
}

// The typed ksym in a program of its own: the kernel can give its address only with
// CONFIG_KALLSYMS_ALL, which some kernels (this project's CI host) lack.
SEC("xdp")
int xdp_typed_ksym(struct xdp_md *ctx)
{
	const int *active = bpf_this_cpu_ptr(&bpf_prog_active);

	put(9, *active >= 0 ? 1 : 2);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
