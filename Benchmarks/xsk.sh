#!/usr/bin/env bash
# Suite 12 of XDPKit's benchmark (Documentation/Benchmarks.md): AF_XDP packets per second per
# core, XDPKit's XDPSocket batch API (xdpkit-bench xsk) against libxdp's xsk API
# (Benchmarks/C/xsk_bench.c), RX only, TX only and echo, on one veth pair in a private network
# namespace, in copy mode. RX and echo are fed by the same generator (Benchmarks/C/packet_gen.c,
# AF_PACKET, bounded in count and time) on the peer veth.
#
#   bash Benchmarks/run.sh                 # runs this suite with the others (one table)
#   bash Benchmarks/xsk.sh [--quick]       # this suite alone: builds, runs, prints its table
#
# run.sh sources this file and calls xsk_suite with its own work directory, namespace and
# binaries. Must run as root.

# xsk_build: the C side (gcc -O2 against the system libxdp and libbpf), the generator and the
# redirect program the libxdp side loads (the same source as XDPKit's default program).
xsk_build() {
  gcc -O2 -Wall -Wextra -o "$work/xsk_bench" "$here/C/xsk_bench.c" -lxdp -lbpf -lelf -lz
  gcc -O2 -Wall -Wextra -o "$work/packet_gen" "$here/C/packet_gen.c"
  "$clang" -O2 -g -target bpf -I"$multiarch" -Wall -c "$root/Programs/xdp_xsk_redirect.c" \
    -o "$work/xdp_xsk_redirect.o"
}

# xsk_suite ROUNDS WARMUP PACKETS: ROUNDS × (XDPKit, libxdp, libxdp, XDPKit) per mode. The
# measured process runs on CPU 0 and the generator on CPU 1 where there are two CPUs.
xsk_suite() {
  local rounds=$1 warmup=$2 packets=$3 round mode side ready generator status tries measured attempt
  local -a cpu0=() cpu1=()
  if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
    cpu0=(taskset -c 0)
    cpu1=(taskset -c 1)
  fi
  printf 'meta\txsk.packets\t-\t%s\n' "$packets" >>"$results"
  printf 'meta\txsk.versions\t-\tlibxdp %s\n' "$(dpkg-query -W -f '${Version}' libxdp1 2>/dev/null || echo ?)" >>"$results"
  for ((round = 0; round < rounds; round++)); do
    for mode in rx tx echo; do
      for side in xdpkit libxdp libxdp xdpkit; do
        # A socket's queue is released after its process exits, asynchronously: the next
        # process can find it still bound (EBUSY from bind). Both sides get up to three tries,
        # a second apart; a failed try measured nothing and wrote no sample.
        for attempt in 1 2 3; do
          ready="$work/xsk-ready"
          rm -f "$ready"
          if [ "$side" = xdpkit ]; then
            in_ns "${cpu0[@]}" env LD_PRELOAD="$work/malloc_count.so" \
              "$swift_bench" xsk "$mode" xb0 "$warmup" "$packets" "$ready" >>"$results" &
          else
            in_ns "${cpu0[@]}" env LD_PRELOAD="$work/malloc_count.so" \
              "$work/xsk_bench" "$mode" xb0 "$warmup" "$packets" "$work/xdp_xsk_redirect.o" "$ready" >>"$results" &
          fi
          measured=$!
          generator=""
          tries=0
          while [ ! -e "$ready" ] && ((tries++ < 400)); do sleep 0.05; done
          if [ "$mode" != tx ] && [ -e "$ready" ]; then
            in_ns "${cpu1[@]}" "$work/packet_gen" xb1 "$work/frame_ipv4_miss.bin" 200000000 60 &
            generator=$!
          fi
          status=0
          wait "$measured" || status=$?
          if [ -n "$generator" ]; then
            kill "$generator" 2>/dev/null || true
            wait "$generator" 2>/dev/null || true
          fi
          if [ "$status" = 0 ]; then break; fi
          if [ "$attempt" -lt 3 ]; then
            log "12. $side $mode failed (status $status), try $attempt of 3; retrying in 1 s"
            sleep 1
          fi
        done
        [ "$status" = 0 ] || log "12. $side $mode failed (status $status); its sample is missing"
      done
    done
  done
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  quick=0
  for argument in "$@"; do
    case "$argument" in
      --quick) quick=1 ;;
      *) echo "usage: bash Benchmarks/xsk.sh [--quick]" >&2; exit 2 ;;
    esac
  done
  [ "$(id -u)" = 0 ] || { echo "xsk.sh: needs root" >&2; exit 1; }
  here=$(cd "$(dirname "$0")" && pwd)
  root=$(dirname "$here")
  started=$(date +%s)
  log() { echo "[$(( $(date +%s) - started ))s] $*" >&2; }
  # shellcheck source=Benchmarks/common.sh
  source "$here/common.sh"
  need=()
  [ -f /usr/include/xdp/xsk.h ] || need+=(libxdp-dev)
  [ -f /usr/include/bpf/libbpf.h ] || need+=(libbpf-dev)
  command -v gcc >/dev/null 2>&1 || need+=(gcc)
  command -v ip >/dev/null 2>&1 || need+=(iproute2)
  bench_install "${need[@]}"
  clang=${BPF_CLANG:-$(command -v clang || echo /opt/swift/usr/bin/clang)}
  multiarch=/usr/include/$(gcc -print-multiarch)
  work=$(mktemp -d /tmp/xdpkit-xsk.XXXXXX)
  namespace="xdpkit-xsk-$$"
  trap 'ip netns del "$namespace" 2>/dev/null || true; rm -rf "$work"' EXIT
  trap 'exit 130' INT TERM
  bench_build_swift
  gcc -O2 -Wall -shared -fPIC -o "$work/malloc_count.so" "$here/C/malloc_count.c"
  "$swift_bench" fixtures "$work"
  xsk_build
  bench_namespace
  results="$work/results.tsv"
  printf 'meta\tmachine\t-\tMachine: Linux %s, %s cores; load average at start %s.\n' \
    "$(uname -r)" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" >"$results"
  log "12. AF_XDP: RX only, TX only, echo; XDPKit and libxdp"
  if [ "$quick" = 1 ]; then xsk_suite 1 5000 50000; else xsk_suite 3 20000 200000; fi
  mkdir -p "$here/.build/results"
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  cp "$results" "$here/.build/results/xsk-$stamp.tsv"
  "$swift_bench" report "$results" | sed -n '/^AF_XDP (suite 12)/,$p'
  echo "Raw samples: $here/.build/results/xsk-$stamp.tsv"
fi
