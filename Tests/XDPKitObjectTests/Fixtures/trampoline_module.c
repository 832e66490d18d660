// SPDX-License-Identifier: GPL-2.0
// fentry on a function that lives in vmlinux or in a module: the conntrack
// lookup nf_conntrack_find_get, built in where CONFIG_NF_CONNTRACK=y and in
// nf_conntrack.ko where it is =m. Counts calls made by one thread (the test's),
// so other conntrack users, other tests of the same process included, do not
// change the count.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 target_tid = 0;
__u64 finds = 0;

SEC("fentry/nf_conntrack_find_get")
int on_find(unsigned long long *ctx)
{
	if ((__u32)bpf_get_current_pid_tgid() == target_tid)
		__sync_fetch_and_add(&finds, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
