#!/usr/bin/env bash
# Suite 5 of run.sh alone: the data path under BPF_PROG_TEST_RUN, XDPKit's firewall (as
# embedded), the bare XDP_DROP floor and xdp-filter, in ROUNDS rounds of
# XDPKit, libbpf, libbpf, XDPKit processes, with the raw samples written to OUT.
#
#   bash Benchmarks/datapath.sh OUT [ROUNDS [NAME=OBJECT[,GLOBAL=VALUE|,noskip]...]]
#
# DP_REPEAT (default 10,000,000, as run.sh) and DP_N (3) set the repeats per sample and the
# samples per process: on a busy machine, more and shorter samples (1,000,000 × 6) show more.
#
# Extra firewall objects (another commit's xdp_firewall.o, compiled with clang -O2 -g -target
# bpf) are measured in the same processes under their NAME, for a before/after in one run.
# Expects Benchmarks/.build/release/xdpkit-bench built (swift build -c release); builds the C
# side. Must run as root; one network namespace, deleted on exit.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: bash Benchmarks/datapath.sh OUT [ROUNDS [NAME=OBJECT...]]" >&2; exit 2; }
out=$1
rounds=${2:-2}
shift $(( $# >= 2 ? 2 : 1 ))
here=$(cd "$(dirname "$0")" && pwd)
log() { echo "$*" >&2; }
# shellcheck source=Benchmarks/common.sh
source "$here/common.sh"
swift_bench="$here/.build/release/xdpkit-bench"
[ -x "$swift_bench" ] || { echo "datapath.sh: build $swift_bench first" >&2; exit 1; }
xdp_filter=$(dpkg -L xdp-tools libxdp1 2>/dev/null | grep '/xdpfilt_alw_ip\.o$' | head -n 1 || true)
[ -n "$xdp_filter" ] || { echo "datapath.sh: xdp-tools has no xdpfilt_alw_ip.o" >&2; exit 1; }
clang=${BPF_CLANG:-$(command -v clang || echo /opt/swift/usr/bin/clang)}
multiarch=/usr/include/$(gcc -print-multiarch)
work=$(mktemp -d /tmp/xdpkit-bench-dp.XXXXXX)
namespace="xdpkit-bench-dp-$$"
trap 'ip netns del "$namespace" 2>/dev/null || true; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

c_bench="$work/libbpf-bench"
gcc -O2 -Wall -Wextra -o "$c_bench" "$here"/C/libbpf_bench.c "$here"/C/bench_*.c -lbpf -lelf -lz
"$swift_bench" fixtures "$work"
"$clang" -O2 -g -target bpf -I"$multiarch" -Wall -c "$here/BPF/xdp_drop.c" -o "$work/xdp_drop.o"
bench_namespace

repeat=${DP_REPEAT:-10000000}   # test-run repeats per sample
n=${DP_N:-3}                     # samples per program, frame and fill in one process
printf 'meta\tdatapath.repeat\t-\t%s\n' "$repeat" >"$out"
printf 'meta\tmachine\t-\tload average at start %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$out"
for ((round = 0; round < rounds; round++)); do
  in_ns "$swift_bench" datapath "$work" "$repeat" "$n" "$@" >>"$out"
  in_ns "$c_bench" datapath "$work" "$xdp_filter" "$repeat" "$n" >>"$out"
  in_ns "$c_bench" datapath "$work" "$xdp_filter" "$repeat" "$n" >>"$out"
  in_ns "$swift_bench" datapath "$work" "$repeat" "$n" "$@" >>"$out"
done
printf 'meta\tmachine.end\t-\tload average at end %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$out"
